// A PDF parser thread of the pool (`pdf-parser-pool.ts`). Plain JavaScript (type-checked through
// JSDoc) so that the same file runs from the sources in tests and from dist/ in production, with no
// build step in between. It keeps pdf.js loaded and parses the PDFs it is sent, one at a time. It
// runs under `resourceLimits` and is terminated from outside on timeout, abort or when it exceeds
// its heap: a hostile PDF can only ever stall or kill this thread, which the pool then replaces.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { parentPort } from 'node:worker_threads';

// A library stays quiet, so whatever pdf.js prints is dropped here, in its own thread. This must
// happen before pdf.js loads (it binds console methods then). The pool cannot read and drop the
// thread's stdout itself instead: Node keeps the caller's process alive while a worker's stdout
// is being read, and an idle pooled thread must never do that.
for (const stream of [process.stdout, process.stderr]) stream.write = () => true;

const { PDFParse, VerbosityLevel } = await import('pdf-parse');

/** @typedef {import('./pdf-worker-protocol.js').PdfParseJob} PdfParseJob */
/** @typedef {import('./pdf-worker-protocol.js').PdfWorkerMessage} PdfWorkerMessage */

/** pdf.js codes on its PasswordException. */
const NEED_PASSWORD = 1;

/** Where pdf.js finds CMaps (CJK text), standard fonts and its WASM decoders: inside pdfjs-dist. */
const pdfjsDir = dirname(
  createRequire(createRequire(import.meta.url).resolve('pdf-parse')).resolve('pdfjs-dist/package.json'),
);
const resources = {
  cMapUrl: `${join(pdfjsDir, 'cmaps')}/`,
  cMapPacked: true,
  standardFontDataUrl: `${join(pdfjsDir, 'standard_fonts')}/`,
  wasmUrl: `${join(pdfjsDir, 'wasm')}/`,
};

/** @param {PdfWorkerMessage} message */
function post(message) {
  parentPort?.postMessage(message);
}

/** Megabytes of heap V8 holds for this thread once a job is over. */
function heapMb() {
  return Math.round((getHeapStatistics().total_heap_size / 2 ** 20) * 10) / 10;
}

/** @param {unknown} error */
function messageOf(error) {
  return error instanceof Error ? error.message : String(error);
}

/**
 * @param {unknown} error
 * @returns {number | undefined}
 */
function passwordCode(error) {
  if (!(error instanceof Error) || error.name !== 'PasswordException') return undefined;
  const cause = /** @type {{ code?: unknown } | undefined} */ (error.cause);
  return typeof cause?.code === 'number' ? cause.code : NEED_PASSWORD;
}

/**
 * Opens the document, trying each candidate password until one is accepted, and last no password
 * at all: a PDF that opens without one (an owner password only) is readable by anyone anyway.
 * @param {PdfParseJob} job
 */
async function open(job) {
  const candidates = [...job.passwords, undefined];
  /** @type {unknown} */
  let lastError;
  for (const password of candidates) {
    const parser = new PDFParse({
      // pdf.js takes ownership of the array it is given; each attempt gets its own copy.
      data: job.data.slice(),
      password,
      verbosity: VerbosityLevel.ERRORS,
      isEvalSupported: false,
      useSystemFonts: false,
      ...resources,
    });
    try {
      const info = await parser.getInfo();
      return { parser, info };
    } catch (error) {
      await parser.destroy().catch(() => undefined);
      lastError = error;
      if (passwordCode(error) === undefined) throw error;
    }
  }
  throw lastError;
}

/**
 * @param {{ info?: unknown; metadata?: { get(name: string): unknown } | null }} info
 * @returns {string | null}
 */
function titleOf(info) {
  const dictionary = /** @type {{ Title?: unknown } | undefined} */ (info.info);
  const candidates = [dictionary?.Title, info.metadata?.get('dc:title')];
  for (const candidate of candidates) {
    if (typeof candidate === 'string' && candidate.trim() !== '') return candidate.trim();
  }
  return null;
}

/**
 * Parses one document and ends with exactly one terminal message. Pages go out one by one as they
 * are read (one `getText` call each: measured as fast as one call for the whole document, and it
 * keeps a page that fails to a page of its own), so that the limits stop a long document early.
 * @param {PdfParseJob} job
 */
async function run(job) {
  let opened;
  try {
    opened = await open(job);
  } catch (error) {
    const code = passwordCode(error);
    if (code === undefined) {
      post({ type: 'failed', code: 'corrupt', reason: messageOf(error), heapMb: heapMb() });
    } else if (code === NEED_PASSWORD && job.passwords.length === 0) {
      post({
        type: 'failed',
        code: 'encrypted',
        reason: 'the PDF is password-protected; give its password',
        heapMb: heapMb(),
      });
    } else {
      post({
        type: 'failed',
        code: 'wrong_password',
        reason: 'the password is not right for this PDF',
        heapMb: heapMb(),
      });
    }
    return;
  }
  const { parser, info } = opened;
  let stopped = false;
  try {
    post({ type: 'opened', pageCount: info.total, title: titleOf(info) });
    // The pool fails the load on the same counts; stopping here frees the thread for the next one.
    stopped = info.total > job.maxPages;
    let chars = 0;
    for (let page = 1; page <= info.total && !stopped; page++) {
      try {
        const result = await parser.getText({ partial: [page] });
        const text = result.pages[0]?.text ?? '';
        post({ type: 'page', page, text });
        chars += text.length;
        stopped = chars > job.maxChars;
      } catch (error) {
        post({ type: 'page', page, text: null, error: messageOf(error) });
      }
    }
  } finally {
    await parser.destroy().catch(() => undefined);
  }
  post(stopped ? { type: 'stopped', heapMb: heapMb() } : { type: 'done', heapMb: heapMb() });
}

// Jobs run strictly one after another; the pool sends the next only after a terminal message.
let previous = Promise.resolve();
parentPort?.on('message', (/** @type {PdfParseJob} */ job) => {
  previous = previous
    .then(() => run(job))
    .catch((error) => {
      post({ type: 'failed', code: 'corrupt', reason: messageOf(error), heapMb: heapMb() });
    });
});
