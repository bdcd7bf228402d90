import saslprep from '@mongodb-js/saslprep';
import { DocumentError, type QuireErrorCode } from '../errors.js';
import type { ExtractedDocument } from './extracted.js';
import { extractionRecipe, type PdfEngineRecipe } from './extraction-recipe.js';
import type { OcrRunOptions } from './ocr/ocr-pages.js';
import { ocrPdfPages, type PdfOcrResult, verdictAfterOcr } from './ocr/pdf-ocr.js';
import type { PdfEngineName, PdfTaskInput, PdfTaskOutput } from './pdf-engine-types.js';
import { defaultPdfEngines, PDF_ENGINE_TASK, type PdfEngines } from './pdf-engines.js';
import { assessPdfPages, type PdfProblem } from './pdf-text-quality.js';
import { runInSandbox, type SandboxedLoadOptions } from './sandboxed.js';
import { SectionBuilder } from './section-builder.js';
import { repairPageTexts } from './text-repair/index.js';

/** A PDF as an engine read it: every page in order, `text` null for a page it could not read. */
export type ParsedPdf = PdfTaskOutput;

export interface ParsePdfOptions extends SandboxedLoadOptions {
  /** Password of an encrypted PDF; tried as given and SASLprep-normalised. Never logged. */
  password?: string;
  /** The engines to read with. Default: the process-wide `defaultPdfEngines()` (`QUIRE_PDF_ENGINE`). */
  engines?: PdfEngines;
  /** OCR for pages without a text layer; without it such pages are skipped. */
  ocr?: OcrRunOptions;
  /**
   * Whether the pdfjs engine looks for images on the pages with no text at all of a document with
   * text (`PdfTaskInput.imagesOfBlankPages`). Default true; `extractPdf` asks only when OCR is on.
   */
  imagesOfBlankPages?: boolean;
}

/**
 * Parses a PDF with one engine in a child process of the parse sandbox (task `pdf` for pdfjs,
 * `pdf-poppler` for poppler), under an RSS cap (`parseMaxMemoryMb`) and a wall-clock limit
 * (`parseTimeoutMs`). The child, and any tool it started, is killed from outside on either, which
 * stops even a tight loop and gives all its memory back. The caller's event loop never parses.
 *
 * Rejects with a DocumentError (`encrypted`, `wrong_password`, `corrupt`, `unsupported_feature`,
 * `too_many_pages`, `too_many_chars`, `parse_timeout`, `parse_out_of_memory`), or with the
 * signal's reason on abort.
 */
export function parsePdfInWorker(
  bytes: Uint8Array,
  name: string,
  options: ParsePdfOptions,
  engine: PdfEngineName = 'pdfjs',
): Promise<ParsedPdf> {
  const { limits } = options;
  const input: PdfTaskInput = {
    data: bytes,
    passwords: passwordCandidates(options.password, engine),
    maxPages: limits.maxPages,
    maxChars: limits.maxChars,
    maxMemoryMb: limits.parseMaxMemoryMb,
    ...(options.imagesOfBlankPages === undefined ? {} : { imagesOfBlankPages: options.imagesOfBlankPages }),
  };
  return runInSandbox<ParsedPdf>(PDF_ENGINE_TASK[engine], name, input, options);
}

/**
 * Passwords to try, in order. AES-256 PDFs (revision 6) take a password as the UTF-8 bytes of its
 * SASLprep form (RFC 4013: e.g. a no-break space becomes a space, a soft hyphen goes); a file
 * made by a tool that skipped SASLprep wants the bytes as typed. So both forms are tried.
 * pdf.js turns a password string into bytes by char code, which fits the Latin-1 passwords of
 * older PDFs (RC4, AES-128) but not UTF-8 ones: for pdfjs a non-ASCII form is tried as its UTF-8
 * bytes first, then as is. Poppler takes bytes from its command line, which are UTF-8.
 */
export function passwordCandidates(password: string | undefined, engine: PdfEngineName = 'pdfjs'): string[] {
  if (password === undefined || password === '') return [];
  const forms = [password];
  try {
    forms.push(saslprep(password));
  } catch {
    // Characters SASLprep prohibits: only the password as typed can be right.
  }
  const candidates = new Set<string>();
  for (const form of forms) {
    if (form === '') continue;
    if (engine === 'pdfjs') {
      const utf8AsLatin1 = Buffer.from(form, 'utf8').toString('latin1');
      if (utf8AsLatin1 !== form) candidates.add(utf8AsLatin1);
    }
    candidates.add(form);
  }
  return [...candidates];
}

/**
 * Document failures after which the other engine is tried: it may read what this one could not.
 * A refused password too: an older PDF's Latin-1 password cannot travel on Poppler's command line
 * (arguments are UTF-8), while pdf.js takes its bytes.
 */
const FALLBACK_CODES = new Set<QuireErrorCode>([
  'wrong_password',
  'corrupt',
  'unsupported_feature',
  'needs_ocr',
  'blank_document',
  'garbled_text',
]);

/**
 * When both engines fail, the more telling verdict is reported: an engine that named an
 * unsupported feature or opened the file and judged its pages says more than one that found the
 * file damaged.
 */
const FAILURE_RANK: Partial<Record<QuireErrorCode, number>> = {
  unsupported_feature: 5,
  needs_ocr: 4,
  garbled_text: 3,
  blank_document: 2,
  corrupt: 1,
};

const PROBLEM_CODE: Record<PdfProblem, QuireErrorCode> = {
  needs_ocr: 'needs_ocr',
  blank: 'blank_document',
  garbled: 'garbled_text',
  unreadable: 'corrupt',
};

type Attempt =
  | {
      ok: true;
      parsed: ParsedPdf;
      keep: Array<{ page: number; text: string }>;
      skipped: ExtractedDocument['skippedPages'];
      /** What OCR read of the pages without a text layer; null when it read none. */
      ocr: PdfOcrResult | null;
    }
  | { ok: false; error: DocumentError };

async function attempt(
  bytes: Uint8Array,
  name: string,
  options: ParsePdfOptions,
  engine: PdfEngineName,
): Promise<Attempt> {
  let parsed: ParsedPdf;
  try {
    // Only OCR reads what the pages without text paint (a scan's verdict is asked for anyway):
    // without it the engine need not decode a text document's cover image.
    const imagesOfBlankPages = options.ocr !== undefined && options.ocr.settings.mode !== 'off';
    parsed = await parsePdfInWorker(bytes, name, { ...options, imagesOfBlankPages }, engine);
  } catch (error) {
    if (error instanceof DocumentError && FALLBACK_CODES.has(error.code)) return { ok: false, error };
    throw error;
  }
  // Pages without a text layer are read by OCR (when it is on) before the document is judged, so
  // a scan becomes text instead of a refusal; a mixed PDF keeps its text pages' own text.
  const ocr = await ocrPdfPages(bytes, name, parsed.pages, options);
  const verdict = verdictAfterOcr(name, assessPdfPages(ocr?.pages ?? parsed.pages), ocr, parsed.pageCount);
  if (verdict.ok) return { ok: true, parsed, keep: verdict.keep, skipped: verdict.skipped, ocr };
  return {
    ok: false,
    error: new DocumentError(name, PROBLEM_CODE[verdict.problem], verdict.reason, {
      details: { engine, pageCount: parsed.pageCount, skippedPages: verdict.skipped.length },
    }),
  };
}

/**
 * Text of every readable page with text, one section per page. The first engine reads the file;
 * when it finds no text, garbage or a damaged file, the other engine (if installed) tries, and its
 * text is used if it passes the quality gate. The engine that produced the text is recorded in
 * the extraction recipe, so it is part of the document's version. The text is then repaired
 * (`text-repair/`: ligatures, RTL order, hyphenation) and running headers and footers go to
 * `furniture`.
 */
export async function extractPdf(
  bytes: Uint8Array,
  name: string,
  options: ParsePdfOptions,
): Promise<ExtractedDocument> {
  const engines = options.engines ?? (await defaultPdfEngines());
  let recipe: PdfEngineRecipe = engines.primary;
  // Poppler takes a password on its command line: with `pdfjs` chosen, a password never goes there.
  const passwordKeptFromPoppler =
    engines.setting === 'pdfjs' && options.password !== undefined && options.password !== '';
  const fallback =
    engines.fallback?.engine === 'poppler' && passwordKeptFromPoppler ? null : engines.fallback;
  let result = await attempt(bytes, name, options, recipe.engine);
  if (!result.ok && fallback !== null) {
    const first = result.error;
    const second = await attempt(bytes, name, options, fallback.engine);
    if (second.ok) {
      recipe = fallback;
      result = second;
    } else {
      throw describeFailure(bytes, name, first, second.error, engines);
    }
  }
  if (!result.ok) throw describeFailure(bytes, name, result.error, undefined, engines);

  const { parsed, keep, skipped } = result;
  const repaired = repairPageTexts(keep.map(({ page, text }) => ({ page, text: cleanPageText(text) })));
  const builder = new SectionBuilder();
  for (const { page, text } of repaired.pages) builder.add(text, page, []);
  return {
    ...builder.build(),
    pageCount: parsed.pageCount,
    title: parsed.title,
    skippedPages: skipped ?? [],
    ...(repaired.furniture.length > 0 ? { furniture: repaired.furniture } : {}),
    ...(result.ocr === null ? {} : { ocr: result.ocr.report }),
    extraction: extractionRecipe({ pdf: recipe }),
  };
}

/**
 * The failure reported when no engine read the file: the more telling of the two, its message in
 * Quire's words, each engine's own message under `details` (and a damaged file's in the message),
 * and a compression filter no engine supports named as such rather than as damage.
 */
function describeFailure(
  bytes: Uint8Array,
  name: string,
  first: DocumentError,
  second: DocumentError | undefined,
  engines: PdfEngines,
): DocumentError {
  const rank = (error: DocumentError) => FAILURE_RANK[error.code] ?? 0;
  const chosen = second !== undefined && rank(second) > rank(first) ? second : first;
  const engineOf = (error: DocumentError, fallback: boolean) =>
    (error.details?.engine as string | undefined) ??
    (fallback ? engines.fallback?.engine : engines.primary.engine);
  const tried = [
    { engine: engineOf(first, false), code: first.code, message: first.details?.engineMessage },
    ...(second === undefined
      ? []
      : [{ engine: engineOf(second, true), code: second.code, message: second.details?.engineMessage }]),
  ];
  const details = { ...chosen.details, engines: tried };
  if (NO_TEXT_CODES.has(chosen.code)) {
    const filter = unsupportedFilter(bytes);
    if (filter !== undefined) {
      return new DocumentError(
        name,
        'unsupported_feature',
        `is compressed with the ${filter} filter, which Quire's PDF engines cannot decode`,
        { details: { ...details, filter } },
      );
    }
  }
  const reason = chosen.message.slice(JSON.stringify(name).length + 2);
  const raw = chosen.code === 'corrupt' ? chosen.details?.engineMessage : undefined;
  return new DocumentError(
    name,
    chosen.code,
    typeof raw === 'string' && raw !== ''
      ? `${reason} (${engineOf(chosen, chosen === second)}: ${raw})`
      : reason,
    { details, cause: chosen },
  );
}

/** Failures where the text may sit behind a filter no engine decodes. */
const NO_TEXT_CODES = new Set<QuireErrorCode>(['corrupt', 'needs_ocr', 'blank_document', 'garbled_text']);

/** Stream filters of the PDF standard (full and abbreviated names) and the Crypt filter. */
const KNOWN_FILTERS = new Set([
  'ASCIIHexDecode',
  'ASCII85Decode',
  'LZWDecode',
  'FlateDecode',
  'RunLengthDecode',
  'CCITTFaxDecode',
  'JBIG2Decode',
  'DCTDecode',
  'JPXDecode',
  'Crypt',
  // The security handler of an encryption dictionary (`/Filter /Standard`), not a stream filter.
  'Standard',
  'AHx',
  'A85',
  'LZW',
  'Fl',
  'RL',
  'CCF',
  'DCT',
]);

/**
 * A filter named in the file that is not one of the standard's, e.g. `BrotliDecode`. Looked for
 * only once the engines failed; filters inside compressed object streams are not seen.
 */
export function unsupportedFilter(bytes: Uint8Array): string | undefined {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  const pattern = /\/Filter\s*(\[[^\]]{0,200}\]|\/[^\s/<>[\]()]{1,64})/g;
  for (const match of text.matchAll(pattern)) {
    for (const [, filter] of (match[1] ?? '').matchAll(/\/([^\s/<>[\]()]{1,64})/g)) {
      if (filter !== undefined && !KNOWN_FILTERS.has(filter)) return filter;
    }
  }
  return undefined;
}

/**
 * pdf-parse separates words that sit far apart on a line with tabs (justified text, table cells);
 * as text they are just spaces. Unreadable characters left on a good page are dropped.
 *
 * The same text as `tidyText(text.replace(/\uFFFD/g, '').replace(/[ \t\u00a0]+/g, ' '))` with the
 * spaces that start a line taken off, in one pass instead of nine regular expressions (it runs on
 * every page of every PDF): U+FFFD dropped; each run of spaces, tabs and no-break spaces one space;
 * CR LF and CR made LF; other control characters dropped (after the runs are made, so a space on
 * each side of one stays two spaces); spaces at either end of a line dropped (lines end at LF,
 * U+2028 and U+2029); then at most one blank line in a row, no leading blank lines and no trailing
 * white space.
 */
export function cleanPageText(text: string): string {
  let out = '';
  /** Start of the run of characters copied as they are: [runStart, i). */
  let runStart = 0;
  /** Spaces seen inside the line since its last character, written before the next one. */
  let pending = 0;
  let lineHasText = false;
  /** The previous character, U+FFFD left out, was a space, tab or no-break space. */
  let afterSpace = false;
  const length = text.length;
  const closeRun = (end: number) => {
    if (end <= runStart) return;
    if (pending > 0) out += ' '.repeat(pending);
    out += text.slice(runStart, end);
    pending = 0;
    lineHasText = true;
    afterSpace = false;
  };
  let i = 0;
  while (i < length) {
    const unit = text.charCodeAt(i);
    if (!isSpecial(unit)) {
      i++;
      continue;
    }
    // A single space between two ordinary characters stays in the run.
    if (unit === 0x20 && i > runStart && i + 1 < length && !isSpecial(text.charCodeAt(i + 1))) {
      i++;
      continue;
    }
    closeRun(i);
    if (unit === 0x20 || unit === 0x09 || unit === 0xa0) {
      if (!afterSpace && lineHasText) pending++;
      afterSpace = true;
    } else if (unit === 0x0a || unit === 0x2028 || unit === 0x2029 || unit === 0x0d) {
      out += unit === 0x0d ? '\n' : text[i];
      pending = 0;
      lineHasText = false;
      afterSpace = false;
      if (unit === 0x0d) {
        // CR LF is one line end, U+FFFD between them left out.
        let next = i + 1;
        while (next < length && text.charCodeAt(next) === 0xfffd) next++;
        if (next < length && text.charCodeAt(next) === 0x0a) i = next;
      }
    } else if (unit !== 0xfffd) {
      // Any other control character.
      afterSpace = false;
    }
    i++;
    runStart = i;
  }
  closeRun(length);
  if (out.includes('\n\n\n')) out = out.replace(/\n{3,}/g, '\n\n');
  let start = 0;
  while (out.charCodeAt(start) === 0x0a) start++;
  return (start > 0 ? out.slice(start) : out).trimEnd();
}

/**
 * Characters `cleanPageText` looks at: spaces, tabs, no-break spaces, U+FFFD, line ends and C0/C1
 * control characters.
 */
function isSpecial(unit: number): boolean {
  if (unit > 0xa0) return unit === 0xfffd || unit === 0x2028 || unit === 0x2029;
  return unit <= 0x20 || (unit >= 0x7f && unit <= 0x9f) || unit === 0xa0;
}
