import { extname } from 'node:path';
import { fileTypeFromBuffer } from 'file-type';
import { DocumentError } from '../errors.js';
import { checkText, type DecodedText } from './decode-text.js';
import { OCR_IMAGE_MEDIA_TYPES } from './image-loader.js';
import type { DocumentKind } from './types.js';

export interface DetectedType {
  kind: DocumentKind;
  mediaType: string;
  /** The decoded text, for the text formats (they are decoded while being recognised). */
  decoded?: DecodedText;
}

export interface DetectTypeInput {
  bytes: Uint8Array;
  name: string;
  claimedType?: string;
}

const PDF_MEDIA_TYPE = 'application/pdf';
const DOCX_MEDIA_TYPE = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

interface TextFormat {
  kind: Exclude<DocumentKind, 'pdf' | 'docx' | 'image'>;
  mediaType: string;
}

const TEXT_EXTENSIONS: Record<string, TextFormat> = {
  '.txt': { kind: 'text', mediaType: 'text/plain' },
  '.text': { kind: 'text', mediaType: 'text/plain' },
  '.log': { kind: 'text', mediaType: 'text/plain' },
  '.md': { kind: 'markdown', mediaType: 'text/markdown' },
  '.markdown': { kind: 'markdown', mediaType: 'text/markdown' },
  '.mdown': { kind: 'markdown', mediaType: 'text/markdown' },
  '.mkd': { kind: 'markdown', mediaType: 'text/markdown' },
  '.html': { kind: 'html', mediaType: 'text/html' },
  '.htm': { kind: 'html', mediaType: 'text/html' },
  '.xhtml': { kind: 'html', mediaType: 'application/xhtml+xml' },
  '.csv': { kind: 'csv', mediaType: 'text/csv' },
  '.tsv': { kind: 'csv', mediaType: 'text/tab-separated-values' },
  '.json': { kind: 'json', mediaType: 'application/json' },
  '.jsonl': { kind: 'json', mediaType: 'application/jsonl' },
  '.ndjson': { kind: 'json', mediaType: 'application/jsonl' },
};

const TEXT_MEDIA_TYPES: Record<string, TextFormat> = {
  'text/plain': { kind: 'text', mediaType: 'text/plain' },
  'text/markdown': { kind: 'markdown', mediaType: 'text/markdown' },
  'text/x-markdown': { kind: 'markdown', mediaType: 'text/markdown' },
  'text/html': { kind: 'html', mediaType: 'text/html' },
  'application/xhtml+xml': { kind: 'html', mediaType: 'application/xhtml+xml' },
  'text/csv': { kind: 'csv', mediaType: 'text/csv' },
  'text/tab-separated-values': { kind: 'csv', mediaType: 'text/tab-separated-values' },
  'application/json': { kind: 'json', mediaType: 'application/json' },
  'application/jsonl': { kind: 'json', mediaType: 'application/jsonl' },
  'application/x-ndjson': { kind: 'json', mediaType: 'application/jsonl' },
};

/** Formats whose bytes always carry a signature: a name or claim saying so must be backed by it. */
const BINARY_EXTENSIONS: Record<string, string> = { '.pdf': 'a PDF', '.docx': 'a Word (.docx) document' };
const BINARY_MEDIA_TYPES: Record<string, string> = {
  [PDF_MEDIA_TYPE]: 'a PDF',
  [DOCX_MEDIA_TYPE]: 'a Word (.docx) document',
};

/** Readable names for the other Office formats, which share the ZIP signature with DOCX. */
const OTHER_ZIP_FORMATS: Array<[entry: string, label: string]> = [
  ['xl/workbook.xml', 'an Excel workbook (.xlsx)'],
  ['ppt/presentation.xml', 'a PowerPoint presentation (.pptx)'],
  ['mimetypeapplication/vnd.oasis.opendocument', 'an OpenDocument file'],
  ['META-INF/container.xml', 'an EPUB book'],
];

/**
 * Detects a document's type from its bytes first (signatures), then its name, then the type the
 * source claimed; the claim alone never decides against the bytes. Text formats carry no
 * signature: they must decode as UTF-8 (or UTF-16 with a byte-order mark), and their kind comes
 * from the extension, the claim, or a look at the content, in that order.
 */
export async function detectDocumentType(input: DetectTypeInput): Promise<DetectedType> {
  const { bytes, name } = input;
  const extension = extname(name).toLowerCase();
  const claimed = normaliseMediaType(input.claimedType);

  if (hasPdfHeader(bytes)) return { kind: 'pdf', mediaType: PDF_MEDIA_TYPE };

  const sniffed = await fileTypeFromBuffer(bytes);
  if (sniffed !== undefined) {
    if (sniffed.mime === DOCX_MEDIA_TYPE) return { kind: 'docx', mediaType: DOCX_MEDIA_TYPE };
    // Scans and photos of documents: their text is read by OCR.
    if (OCR_IMAGE_MEDIA_TYPES.has(sniffed.mime)) return { kind: 'image', mediaType: sniffed.mime };
    if (sniffed.ext === 'zip' || sniffed.mime.startsWith('application/vnd.openxmlformats')) {
      if (zipHasEntry(bytes, 'word/document.xml')) return { kind: 'docx', mediaType: DOCX_MEDIA_TYPE };
      throw new DocumentError(
        name,
        'unsupported_type',
        `is ${describeZip(bytes, sniffed.mime)}, not a supported document`,
        {
          details: { detectedType: sniffed.mime },
        },
      );
    }
    if (sniffed.ext === 'xml') {
      const text = checkText(bytes);
      const html = TEXT_EXTENSIONS[extension]?.kind === 'html' || TEXT_MEDIA_TYPES[claimed]?.kind === 'html';
      if (text.ok && (html || looksLikeHtml(text.decoded.text))) {
        return { kind: 'html', mediaType: 'application/xhtml+xml', decoded: text.decoded };
      }
      throw unsupported(name, 'an XML document (application/xml)', 'application/xml');
    }
    // Some signatures are short enough to begin a text file by chance ("MZ", "BM", "ID3"...): a
    // file named as text that decodes cleanly is text.
    const textFormat = TEXT_EXTENSIONS[extension];
    const text = checkText(bytes);
    if (textFormat !== undefined && text.ok) return { ...textFormat, decoded: text.decoded };
    throw unsupported(name, describeSniffed(sniffed.ext, sniffed.mime), sniffed.mime);
  }

  const expected = BINARY_EXTENSIONS[extension] ?? BINARY_MEDIA_TYPES[claimed];
  const text = checkText(bytes);
  if (expected !== undefined) {
    const what = text.ok
      ? `it looks like ${sniffTextFormat(text.decoded.text).kind} text`
      : 'its bytes match no known format';
    const why =
      BINARY_EXTENSIONS[extension] !== undefined ? `is named ${extension}` : `was sent as ${claimed}`;
    throw new DocumentError(name, 'corrupt', `${why} but is not ${expected}: ${what}`);
  }
  if (!text.ok) throw new DocumentError(name, 'unsupported_type', text.reason);

  const format =
    TEXT_EXTENSIONS[extension] ?? TEXT_MEDIA_TYPES[claimed] ?? sniffTextFormat(text.decoded.text);
  return { ...format, decoded: text.decoded };
}

function unsupported(name: string, what: string, mediaType: string): DocumentError {
  return new DocumentError(name, 'unsupported_type', `is ${what}, which is not a supported document type`, {
    details: { detectedType: mediaType },
  });
}

function normaliseMediaType(claimed: string | undefined): string {
  return (claimed ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** PDF readers accept the header anywhere in the first kilobyte; so do we. */
function hasPdfHeader(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 1_024)).includes('%PDF-');
}

export function zipHasEntry(bytes: Uint8Array, entry: string): boolean {
  // Entry names are stored uncompressed in local headers and the central directory.
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).includes(entry);
}

function describeZip(bytes: Uint8Array, mime: string): string {
  for (const [entry, label] of OTHER_ZIP_FORMATS) {
    if (zipHasEntry(bytes, entry)) return label;
  }
  return mime === 'application/zip' ? 'a ZIP archive' : `an archive (${mime})`;
}

function describeSniffed(ext: string, mime: string): string {
  if (mime.startsWith('image/')) return `an image (${ext.toUpperCase()}, ${mime})`;
  if (mime.startsWith('audio/')) return `audio (${ext.toUpperCase()}, ${mime})`;
  if (mime.startsWith('video/')) return `a video (${ext.toUpperCase()}, ${mime})`;
  return `a file of type ${ext.toUpperCase()} (${mime})`;
}

function looksLikeHtml(text: string): boolean {
  return /^\s*(?:<\?xml[^>]*>\s*)?(?:<!--[\s\S]*?-->\s*)*<(?:!doctype\s+html|html|head|body)[\s>]/i.test(
    text,
  );
}

function sniffTextFormat(text: string): TextFormat {
  if (looksLikeHtml(text)) return TEXT_MEDIA_TYPES['text/html'] as TextFormat;
  const start = text.trimStart()[0];
  if (start === '{' || start === '[') {
    try {
      JSON.parse(text);
      return TEXT_MEDIA_TYPES['application/json'] as TextFormat;
    } catch {
      // not JSON: plain text that happens to start with a bracket
    }
  }
  return TEXT_MEDIA_TYPES['text/plain'] as TextFormat;
}
