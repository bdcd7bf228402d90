import { DocumentError } from '../errors.js';
import type { PdfTaskInput, PdfTaskOutput } from '../sandbox/tasks/pdf-task.js';
import type { ExtractedDocument } from './extracted.js';
import type { OcrRunOptions } from './ocr/ocr-pages.js';
import { ocrPdfPages, verdictAfterOcr } from './ocr/pdf-ocr.js';
import { assessPdfPages } from './pdf-text-quality.js';
import { runInSandbox, type SandboxedLoadOptions } from './sandboxed.js';
import { SectionBuilder, tidyText } from './section-builder.js';

/** A PDF as the parser read it: every page in order, `text` null for a page it could not read. */
export type ParsedPdf = PdfTaskOutput;

export interface ParsePdfOptions extends SandboxedLoadOptions {
  password?: string;
  /** OCR for pages without a text layer; without it such pages are skipped. */
  ocr?: OcrRunOptions;
}

/**
 * Parses a PDF in a child process of the parse sandbox (task `pdf`), under an RSS cap
 * (`parseMaxMemoryMb`) and a wall-clock limit (`parseTimeoutMs`). pdf.js runs synchronously for
 * long stretches on hostile input and keeps memory V8 does not count (typed arrays, WebAssembly):
 * the child is killed from outside instead, which stops even a tight loop and gives all its memory
 * back, and replaced for the next document. The caller's event loop never runs the parser.
 *
 * Rejects with a DocumentError (`encrypted`, `wrong_password`, `corrupt`, `too_many_pages`,
 * `too_many_chars`, `parse_timeout`, `parse_out_of_memory`), or with the signal's reason on abort.
 */
export function parsePdfInWorker(
  bytes: Uint8Array,
  name: string,
  options: ParsePdfOptions,
): Promise<ParsedPdf> {
  const { limits } = options;
  const input: PdfTaskInput = {
    data: bytes,
    passwords: passwordCandidates(options.password),
    maxPages: limits.maxPages,
    maxChars: limits.maxChars,
  };
  return runInSandbox<ParsedPdf>('pdf', name, input, options);
}

/**
 * Passwords to try. pdf.js turns a password string into bytes by char code, which fits the
 * Latin-1 passwords of older PDFs (RC4, AES-128) but not the UTF-8 ones of AES-256 (revision 5),
 * where "pässwörd" must arrive as its UTF-8 bytes; so a non-ASCII password is tried both ways.
 */
export function passwordCandidates(password: string | undefined): string[] {
  if (password === undefined || password === '') return [];
  const utf8AsLatin1 = Buffer.from(password, 'utf8').toString('latin1');
  return utf8AsLatin1 === password ? [password] : [utf8AsLatin1, password];
}

/** Text of every readable page with text, one section per page; the quality gate decides the rest. */
export async function extractPdf(
  bytes: Uint8Array,
  name: string,
  options: ParsePdfOptions,
): Promise<ExtractedDocument> {
  const parsed = await parsePdfInWorker(bytes, name, options);
  const ocr = await ocrPdfPages(bytes, name, parsed.pages, options);
  const verdict = verdictAfterOcr(name, assessPdfPages(ocr?.pages ?? parsed.pages), ocr, parsed.pageCount);
  if (!verdict.ok) {
    const code = verdict.problem === 'unreadable' ? 'corrupt' : 'no_text';
    throw new DocumentError(name, code, verdict.reason, {
      details: { pageCount: parsed.pageCount, skippedPages: verdict.skipped.length },
    });
  }
  const builder = new SectionBuilder();
  for (const { page, text } of verdict.keep) builder.add(cleanPageText(text), page, []);
  return {
    ...builder.build(),
    pageCount: parsed.pageCount,
    title: parsed.title,
    skippedPages: verdict.skipped,
    ...(ocr === null ? {} : { ocr: ocr.report }),
  };
}

/**
 * pdf-parse separates words that sit far apart on a line with tabs (justified text, table cells);
 * as text they are just spaces. Unreadable characters left on a good page are dropped.
 */
export function cleanPageText(text: string): string {
  return tidyText(text.replace(/\uFFFD/g, '').replace(/[ \t\u00a0]+/g, ' ')).replace(/^ +/gm, '');
}
