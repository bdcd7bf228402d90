import { DocumentError, QuireError } from '../errors.js';
import type { ParseSandbox } from '../sandbox/parse-sandbox.js';
import { extractCsv } from './csv-loader.js';
import { decodeText } from './decode-text.js';
import { detectDocumentType } from './detect-type.js';
import { extractDocx } from './docx-loader.js';
import type { ExtractedDocument } from './extracted.js';
import { extractionRecipe } from './extraction-recipe.js';
import { extractImage } from './image-loader.js';
import { extractJson } from './json-loader.js';
import { resolveLoadLimits } from './limits.js';
import { extractMarkdown } from './markdown-loader.js';
import type { OcrRunOptions } from './ocr/ocr-pages.js';
import type { PdfEngines } from './pdf-engines.js';
import { extractPdf } from './pdf-loader.js';
import { runInSandbox } from './sandboxed.js';
import { extractPlainText } from './text-loader.js';
import type { LoadedDocument, LoadInput, LoadLimitsInput } from './types.js';

export interface LoadDocumentOptions {
  /** Limits for this load, merged over `DEFAULT_LOAD_LIMITS`; see `LoadLimits` for units and defaults. */
  limits?: LoadLimitsInput;
  /** Child processes that parse PDF, DOCX and HTML. Default: the process-wide `defaultParseSandbox()`. */
  sandbox?: ParseSandbox;
  /** The PDF engines. Default: the process-wide `defaultPdfEngines()` (`QUIRE_PDF_ENGINE`). */
  pdfEngines?: PdfEngines;
  /** OCR of scanned PDF pages and image files. Without it, such pages are skipped and images refused. */
  ocr?: OcrRunOptions;
}

/**
 * Loads one document: detects its type from its bytes and name, extracts its text with the
 * structure it carries (pages, headings) and checks it against the limits.
 *
 * Every failure caused by the document is a `DocumentError` whose message names the document
 * and the cause (`unsupported_type`, `encrypted`, `wrong_password`, `no_text`, `corrupt`,
 * `too_large`, `too_many_pages`, `too_many_chars`, `parse_timeout`, `parse_out_of_memory`, and
 * for PDFs `needs_ocr`, `blank_document`, `garbled_text`, `unsupported_feature`);
 * wrong options are a `QuireError` `invalid_input`; an aborted `input.signal` rejects with the
 * signal's reason.
 *
 * PDF, DOCX and HTML are parsed in a child process of the parse sandbox (see `ParseSandbox`),
 * under `parseMaxMemoryMb` and `parseTimeoutMs`; the other formats are linear scans, parsed on the
 * calling thread, bounded by `maxBytes`.
 */
export async function loadDocument(
  input: LoadInput,
  options: LoadDocumentOptions = {},
): Promise<LoadedDocument> {
  validateInput(input);
  const limits = resolveLoadLimits(options.limits);
  const { bytes, name, signal } = input;
  signal?.throwIfAborted();

  if (bytes.byteLength > limits.maxBytes) {
    throw new DocumentError(
      name,
      'too_large',
      `is ${bytes.byteLength} bytes, more than the limit of ${limits.maxBytes} bytes (maxBytes)`,
      { details: { bytes: bytes.byteLength, limit: limits.maxBytes } },
    );
  }
  if (bytes.byteLength === 0) throw new DocumentError(name, 'no_text', 'is empty (0 bytes)');

  const detected = await detectDocumentType(input);
  signal?.throwIfAborted();
  const text = (): string => detected.decoded?.text ?? decodeText(bytes, name).text;

  const sandboxed = {
    limits,
    ...(signal === undefined ? {} : { signal }),
    ...(options.sandbox === undefined ? {} : { sandbox: options.sandbox }),
  };
  let extracted: ExtractedDocument;
  try {
    switch (detected.kind) {
      case 'pdf':
        extracted = await extractPdf(bytes, name, {
          ...sandboxed,
          ...(input.password === undefined ? {} : { password: input.password }),
          ...(options.pdfEngines === undefined ? {} : { engines: options.pdfEngines }),
          ...(options.ocr === undefined ? {} : { ocr: options.ocr }),
        });
        break;
      case 'image':
        extracted = await extractImage(bytes, name, {
          ...sandboxed,
          ...(options.ocr === undefined ? {} : { ocr: options.ocr }),
        });
        break;
      case 'docx':
        extracted = await extractDocx(bytes, name, sandboxed);
        break;
      case 'text':
        extracted = extractPlainText(text());
        break;
      case 'markdown':
        extracted = extractMarkdown(text());
        break;
      case 'html':
        extracted = await runInSandbox<ExtractedDocument>('html', name, { html: text() }, sandboxed);
        break;
      case 'csv':
        extracted = extractCsv(text(), name, detected.mediaType);
        break;
      case 'json':
        extracted = extractJson(text(), name, detected.mediaType);
        break;
    }
  } catch (error) {
    if (error instanceof QuireError || signal?.aborted) throw error;
    // A parser bug or an input it chokes on: still the document's failure, named as such.
    const reason = error instanceof Error ? error.message : String(error);
    throw new DocumentError(name, 'corrupt', `could not be read as ${detected.kind}: ${reason}`, {
      cause: error,
    });
  }
  signal?.throwIfAborted();

  if (extracted.text.length > limits.maxChars) {
    throw new DocumentError(
      name,
      'too_many_chars',
      `has ${extracted.text.length} characters of text, more than the limit of ${limits.maxChars} (maxChars)`,
      { details: { chars: extracted.text.length, limit: limits.maxChars } },
    );
  }
  if (extracted.sections.length === 0) throw new DocumentError(name, 'no_text', 'contains no text');

  return {
    kind: detected.kind,
    mediaType: detected.mediaType,
    ...extracted,
    extraction: extracted.extraction ?? extractionRecipe(),
  };
}

function validateInput(input: LoadInput): void {
  if (typeof input !== 'object' || input === null) {
    throw new QuireError('invalid_input', 'loadDocument needs an input object');
  }
  if (!(input.bytes instanceof Uint8Array)) {
    throw new QuireError('invalid_input', 'loadDocument input.bytes must be a Uint8Array (or Buffer)');
  }
  if (typeof input.name !== 'string' || input.name.trim() === '') {
    throw new QuireError('invalid_input', 'loadDocument input.name must be a non-empty file name');
  }
}
