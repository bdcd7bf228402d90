import mammoth from 'mammoth';
import { TaskFailure } from '../sandbox/protocol.js';
import type { DocxTaskInput } from './docx-loader.js';
import type { ExtractedDocument } from './extracted.js';
import { extractHtmlFragment } from './html-loader.js';
import { readZipEntries } from './zip-entries.js';
import { measureZipInflation } from './zip-inflation.js';

const STYLE_MAP = [
  // The Title style is the document's top heading (and its title).
  "p[style-name='Title'] => h1:fresh",
  "p[style-name='Subtitle'] => p:fresh",
];

/** Images are never read: only their absence of text matters here. */
const SKIP_IMAGES = mammoth.images.imgElement(() => Promise.resolve({ src: '' }));

/**
 * DOCX through mammoth to HTML, so that Word's heading styles (Title, Heading 1–6) become the
 * heading path; then the HTML walker makes the sections. The title is the first top-level heading.
 * Runs inside the sandbox child. Before mammoth reads anything, every entry is inflated once,
 * streaming, and counted: an archive that inflates past `maxInflatedBytes` fails `too_large`
 * whatever sizes it declares. Throws `TaskFailure` for a document that cannot be read.
 */
export async function readDocx(input: DocxTaskInput): Promise<ExtractedDocument> {
  const bytes = input.data;
  const entries = readZipEntries(bytes);
  if (entries === null) {
    throw new TaskFailure(
      'corrupt',
      'is not a readable Word document: its ZIP directory is missing or damaged',
    );
  }
  const inflation = await measureZipInflation(bytes, entries, input.maxInflatedBytes);
  if (!inflation.ok) {
    const declared = entries.reduce((sum, entry) => sum + entry.uncompressedSize, 0);
    throw new TaskFailure(
      'too_large',
      `inflates to more than ${formatMb(input.maxInflatedBytes)} (limit maxInflatedBytes, QUIRE_MAX_INFLATED_BYTES): stopped in ${JSON.stringify(inflation.entry)}; the archive declares ${formatMb(declared)} in all`,
      { limitBytes: input.maxInflatedBytes, entry: inflation.entry, declaredBytes: declared },
    );
  }

  let html: string;
  try {
    const result = await mammoth.convertToHtml(
      { buffer: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) },
      {
        styleMap: STYLE_MAP,
        convertImage: SKIP_IMAGES,
        ignoreEmptyParagraphs: true,
        externalFileAccess: false,
      },
    );
    html = result.value;
  } catch (error) {
    throw new TaskFailure('corrupt', `is not a readable Word document: ${messageOf(error)}`);
  }
  const { text, sections, firstHeading } = extractHtmlFragment(html);
  return { text, sections, pageCount: null, title: firstHeading };
}

function formatMb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
