import { DocumentError } from '../errors.js';
import type { ExtractedDocument } from './extracted.js';
import { defaultPdfParserPool, type ParsedPdf, type PdfParserPool } from './pdf-parser-pool.js';
import { assessPdfPages } from './pdf-text-quality.js';
import { SectionBuilder, tidyText } from './section-builder.js';
import type { LoadLimits } from './types.js';

export type { ParsedPdf } from './pdf-parser-pool.js';

export interface ParsePdfOptions {
  limits: LoadLimits;
  password?: string;
  signal?: AbortSignal;
  /** Pool whose threads parse the PDF. Default: the process-wide `defaultPdfParserPool()`. */
  pool?: PdfParserPool;
  /**
   * Script run as the parser thread. Only tests change it, to stand in a parser that hangs or
   * exhausts its heap and so drive the same timeout and memory-cap paths as a hostile PDF.
   */
  workerUrl?: URL;
}

/**
 * Parses a PDF on a thread of a `PdfParserPool`, with a heap cap (`pdfMaxMemoryMb`) and a
 * wall-clock limit (`pdfTimeoutMs`). pdf.js runs synchronously for long stretches on hostile input,
 * so a timer in its own thread might never fire: the thread is terminated from here instead, which
 * stops even a tight loop, and replaced for the next PDF. The caller's event loop is never blocked
 * by parsing.
 *
 * Rejects with a DocumentError (`encrypted`, `wrong_password`, `corrupt`, `too_many_pages`,
 * `too_many_chars`, `parse_timeout`, `parse_out_of_memory`), or with the signal's reason on abort.
 */
export function parsePdfInWorker(
  bytes: Uint8Array,
  name: string,
  options: ParsePdfOptions,
): Promise<ParsedPdf> {
  const { limits, signal, workerUrl } = options;
  signal?.throwIfAborted();
  return (options.pool ?? defaultPdfParserPool()).parse({
    bytes,
    name,
    limits,
    passwords: passwordCandidates(options.password),
    ...(signal === undefined ? {} : { signal }),
    ...(workerUrl === undefined ? {} : { workerUrl }),
  });
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
  const verdict = assessPdfPages(parsed.pages);
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
  };
}

/**
 * pdf-parse separates words that sit far apart on a line with tabs (justified text, table cells);
 * as text they are just spaces. Unreadable characters left on a good page are dropped.
 */
export function cleanPageText(text: string): string {
  return tidyText(text.replace(/\uFFFD/g, '').replace(/[ \t\u00a0]+/g, ' ')).replace(/^ +/gm, '');
}
