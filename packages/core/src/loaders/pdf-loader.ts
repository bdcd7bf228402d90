import { Worker } from 'node:worker_threads';
import { DocumentError } from '../errors.js';
import type { ExtractedDocument } from './extracted.js';
import { assessPdfPages, type PdfPageText } from './pdf-text-quality.js';
import type { PdfWorkerData, PdfWorkerMessage } from './pdf-worker-protocol.js';
import { SectionBuilder, tidyText } from './section-builder.js';
import type { LoadLimits } from './types.js';

/** The worker script sits next to this module, in `src/` as in `dist/`. */
const DEFAULT_WORKER_URL = new URL('./pdf-worker.mjs', import.meta.url);

export interface ParsePdfOptions {
  limits: LoadLimits;
  password?: string;
  signal?: AbortSignal;
  /**
   * Script run as the parser thread. Only tests change it, to stand in a parser that hangs or
   * exhausts its heap and so drive the same timeout and memory-cap paths as a hostile PDF.
   */
  workerUrl?: URL;
}

export interface ParsedPdf {
  pageCount: number;
  title: string | null;
  pages: PdfPageText[];
}

/**
 * Parses a PDF in a worker thread with a heap cap (`pdfMaxMemoryMb`) and a wall-clock limit
 * (`pdfTimeoutMs`). pdf.js runs synchronously for long stretches on hostile input, so a timer in
 * its own thread might never fire: the worker is terminated from here instead, which stops even a
 * tight loop. The caller's event loop is never blocked by parsing.
 *
 * Rejects with a DocumentError (`encrypted`, `wrong_password`, `corrupt`, `too_many_pages`,
 * `too_many_chars`, `parse_timeout`, `parse_out_of_memory`), or with the signal's reason on abort.
 */
export function parsePdfInWorker(
  bytes: Uint8Array,
  name: string,
  options: ParsePdfOptions,
): Promise<ParsedPdf> {
  const { limits, signal } = options;
  signal?.throwIfAborted();
  const data = bytes.slice();
  const workerData: PdfWorkerData = { data, passwords: passwordCandidates(options.password) };

  return new Promise<ParsedPdf>((resolve, reject) => {
    const worker = new Worker(options.workerUrl ?? DEFAULT_WORKER_URL, {
      workerData,
      transferList: [data.buffer as ArrayBuffer],
      resourceLimits: { maxOldGenerationSizeMb: limits.pdfMaxMemoryMb },
      // The parser may print warnings; a library stays quiet, so its output is drained and dropped.
      stdout: true,
      stderr: true,
      execArgv: [],
    });
    worker.stdout.resume();
    worker.stderr.resume();

    let settled = false;
    let opened: { pageCount: number; title: string | null } | null = null;
    const pages: PdfPageText[] = [];
    let chars = 0;

    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      // Wait for the thread to be gone, so nothing keeps running once the promise settles.
      worker.terminate().then(outcome, outcome);
    };
    const fail = (
      code: ConstructorParameters<typeof DocumentError>[1],
      reason: string,
      details?: Record<string, unknown>,
    ) =>
      settle(() => reject(new DocumentError(name, code, reason, details === undefined ? {} : { details })));

    const timer = setTimeout(() => {
      fail(
        'parse_timeout',
        `parsing took longer than ${formatSeconds(limits.pdfTimeoutMs)} (limit pdfTimeoutMs)`,
        {
          limitMs: limits.pdfTimeoutMs,
          pagesParsed: pages.length,
        },
      );
    }, limits.pdfTimeoutMs);
    const onAbort = (): void => settle(() => reject(signal?.reason));
    signal?.addEventListener('abort', onAbort, { once: true });

    worker.on('message', (message: PdfWorkerMessage) => {
      switch (message.type) {
        case 'opened':
          if (message.pageCount > limits.maxPages) {
            fail(
              'too_many_pages',
              `has ${message.pageCount} pages, more than the limit of ${limits.maxPages} (maxPages)`,
              {
                pageCount: message.pageCount,
                limit: limits.maxPages,
              },
            );
            return;
          }
          opened = { pageCount: message.pageCount, title: message.title };
          return;
        case 'page':
          pages.push({ page: message.page, text: message.text });
          chars += message.text?.length ?? 0;
          if (chars > limits.maxChars) {
            fail(
              'too_many_chars',
              `has more than ${limits.maxChars} characters of text (limit maxChars), reached on page ${message.page}`,
              { limit: limits.maxChars, page: message.page },
            );
          }
          return;
        case 'done':
          if (opened === null) {
            fail('corrupt', 'the PDF parser finished without opening the document');
            return;
          }
          settle(() =>
            resolve({ pageCount: opened?.pageCount ?? pages.length, title: opened?.title ?? null, pages }),
          );
          return;
        case 'failed':
          fail(message.code, message.reason);
          return;
      }
    });
    worker.on('error', (error: Error & { code?: string }) => {
      if (error.code === 'ERR_WORKER_OUT_OF_MEMORY') {
        fail(
          'parse_out_of_memory',
          `parsing needed more than ${limits.pdfMaxMemoryMb} MB of memory (limit pdfMaxMemoryMb)`,
          { limitMb: limits.pdfMaxMemoryMb, pagesParsed: pages.length },
        );
      } else if (opened === null && isStartupFailure(error)) {
        // The worker script itself is missing or broken: an installation problem, not the document's.
        settle(() =>
          reject(new Error(`the PDF parser thread could not start: ${error.message}`, { cause: error })),
        );
      } else {
        fail('corrupt', `the PDF parser failed: ${error.message}`);
      }
    });
    worker.on('exit', (code) => {
      fail('corrupt', `the PDF parser stopped unexpectedly (exit code ${code})`);
    });
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

function isStartupFailure(error: Error & { code?: string }): boolean {
  return [
    'MODULE_NOT_FOUND',
    'ERR_MODULE_NOT_FOUND',
    'ERR_WORKER_PATH',
    'ERR_UNKNOWN_FILE_EXTENSION',
  ].includes(error.code ?? '');
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
