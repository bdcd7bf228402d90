// The PDF parser's thread. Plain JavaScript (type-checked through JSDoc) so that the same file
// runs from the sources in tests and from dist/ in production, with no build step in between.
// It runs under `resourceLimits` and is terminated from outside on timeout, abort or when it
// exceeds its heap: a hostile PDF can only ever stall or kill this thread.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { PDFParse, VerbosityLevel } from 'pdf-parse';

/** @typedef {import('./pdf-worker-protocol.js').PdfWorkerData} PdfWorkerData */
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
 * @param {PdfWorkerData} input
 */
async function open(input) {
  const candidates = [...input.passwords, undefined];
  /** @type {unknown} */
  let lastError;
  for (const password of candidates) {
    const parser = new PDFParse({
      // pdf.js takes ownership of the array it is given; each attempt gets its own copy.
      data: input.data.slice(),
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

/** @param {PdfWorkerData} input */
async function run(input) {
  let opened;
  try {
    opened = await open(input);
  } catch (error) {
    const code = passwordCode(error);
    if (code === undefined) {
      post({ type: 'failed', code: 'corrupt', reason: messageOf(error) });
    } else if (code === NEED_PASSWORD && input.passwords.length === 0) {
      post({ type: 'failed', code: 'encrypted', reason: 'the PDF is password-protected; give its password' });
    } else {
      post({ type: 'failed', code: 'wrong_password', reason: 'the password is not right for this PDF' });
    }
    return;
  }
  const { parser, info } = opened;
  post({ type: 'opened', pageCount: info.total, title: titleOf(info) });
  for (let page = 1; page <= info.total; page++) {
    try {
      const result = await parser.getText({ partial: [page] });
      post({ type: 'page', page, text: result.pages[0]?.text ?? '' });
    } catch (error) {
      post({ type: 'page', page, text: null, error: messageOf(error) });
    }
  }
  post({ type: 'done' });
  await parser.destroy();
}

await run(/** @type {PdfWorkerData} */ (workerData));
