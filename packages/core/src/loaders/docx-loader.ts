import mammoth from 'mammoth';
import { DocumentError } from '../errors.js';
import type { ExtractedDocument } from './extracted.js';
import { extractHtmlFragment } from './html-loader.js';
import { readZipEntries } from './zip-entries.js';

/**
 * A DOCX may inflate to this many times the largest accepted file. Text-heavy documents inflate
 * 3–10×; zip bombs inflate thousands of times and would exhaust memory inside the converter.
 */
const MAX_INFLATION_OF_MAX_BYTES = 10;

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
 */
export async function extractDocx(
  bytes: Uint8Array,
  name: string,
  maxBytes: number,
): Promise<ExtractedDocument> {
  const entries = readZipEntries(bytes);
  if (entries === null) {
    throw new DocumentError(
      name,
      'corrupt',
      'is not a readable Word document: its ZIP directory is missing or damaged',
    );
  }
  const inflated = entries.reduce((sum, entry) => sum + entry.uncompressedSize, 0);
  const maxInflated = maxBytes * MAX_INFLATION_OF_MAX_BYTES;
  if (inflated > maxInflated) {
    throw new DocumentError(
      name,
      'too_large',
      `inflates to ${formatMb(inflated)} (limit ${formatMb(maxInflated)}, ${MAX_INFLATION_OF_MAX_BYTES}× maxBytes)`,
      { details: { inflatedBytes: inflated, limitBytes: maxInflated } },
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
    throw new DocumentError(name, 'corrupt', `is not a readable Word document: ${messageOf(error)}`, {
      cause: error,
    });
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
