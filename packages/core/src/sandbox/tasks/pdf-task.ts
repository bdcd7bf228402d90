/**
 * Sandbox task `pdf`: the text of each page of a PDF with the `pdfjs` engine, pdf-parse (pdf.js).
 * Runs in a sandbox child, which keeps pdf.js loaded between documents and is killed from outside
 * on the memory cap or the time limit: pdf.js runs synchronously for long stretches on hostile input.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PdfTaskInput, PdfTaskOutput } from '../../loaders/pdf-engine-types.js';
import { type PdfPageText, pagesToCheckForImages } from '../../loaders/pdf-text-quality.js';
import { TaskFailure } from '../protocol.js';

export type { PdfTaskInput, PdfTaskOutput };

/** pdf.js codes on its PasswordException. */
const NEED_PASSWORD = 1;

type PdfParseModule = typeof import('pdf-parse');

interface PdfJs {
  pdfParse: PdfParseModule;
  /** The operators with which a page paints an image (pdf.js's `OPS`). */
  imageOps: Set<number>;
}
let pdfJs: Promise<PdfJs> | undefined;

/**
 * Loads pdf-parse, its pdf.js and pdf.js's worker module (which pdf.js would otherwise import on
 * the first document: in Node.js it runs in this thread, as a "fake worker" found through
 * `globalThis.pdfjsWorker`, which the module sets).
 *
 * pdf.js's legacy build (the one for Node.js) carries core-js, which replaces `Array.prototype.push`
 * for the whole process with a JavaScript function on V8 up to 12.1 (Node.js 20): that engine throws
 * the wrong error when pushing onto an array whose length was made read-only. pdf.js pushes for
 * every glyph run, so the replacement cost about a fifth of its CPU time. pdf.js never pushes onto
 * such an array, and other code in this process should get the engine's own `push` as it would
 * without pdf.js, so once both modules are loaded the engine's `push` is put back (on newer
 * engines core-js leaves it alone, and this changes nothing).
 */
async function loadPdfJs(): Promise<PdfJs> {
  const push = Object.getOwnPropertyDescriptor(Array.prototype, 'push');
  const require = createRequire(import.meta.url);
  const pdfjsPath = createRequire(require.resolve('pdf-parse')).resolve('pdfjs-dist/legacy/build/pdf.mjs');
  const pdfParse = await import('pdf-parse');
  const { OPS } = (await import(pathToFileURL(pdfjsPath).href)) as { OPS: Record<string, number> };
  await import(pathToFileURL(join(dirname(pdfjsPath), 'pdf.worker.mjs')).href);
  if (push !== undefined) Object.defineProperty(Array.prototype, 'push', push);
  const imageOps = new Set(
    Object.entries(OPS)
      .filter(([name]) => /^paint.*Image/.test(name))
      .map(([, op]) => op),
  );
  return { pdfParse, imageOps };
}

interface PdfJsDocument {
  getPage(page: number): Promise<{ getOperatorList(): Promise<{ fnArray: number[] }> }>;
}

/**
 * Whether a page paints an image, from its operator list (the page is not rendered). Asked only of
 * pages without text (`pagesToCheckForImages`); null when pdf.js cannot say.
 */
async function pageHasImages(parser: unknown, page: number, ops: Set<number>): Promise<boolean | null> {
  const doc = (parser as { doc?: PdfJsDocument }).doc;
  if (doc === undefined) return null;
  try {
    const list = await (await doc.getPage(page)).getOperatorList();
    return list.fnArray.some((op) => ops.has(op));
  } catch {
    return null;
  }
}

/** Where pdf.js finds CMaps (CJK text), standard fonts and its WASM decoders: inside pdfjs-dist. */
function resources() {
  const require = createRequire(import.meta.url);
  const pdfjsDir = dirname(createRequire(require.resolve('pdf-parse')).resolve('pdfjs-dist/package.json'));
  return {
    cMapUrl: `${join(pdfjsDir, 'cmaps')}/`,
    cMapPacked: true,
    standardFontDataUrl: `${join(pdfjsDir, 'standard_fonts')}/`,
    wasmUrl: `${join(pdfjsDir, 'wasm')}/`,
  };
}
let pdfResources: ReturnType<typeof resources> | undefined;

function passwordCode(error: unknown): number | undefined {
  if (!(error instanceof Error) || error.name !== 'PasswordException') return undefined;
  const cause = error.cause as { code?: unknown } | undefined;
  return typeof cause?.code === 'number' ? cause.code : NEED_PASSWORD;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Opens the document, trying each candidate password until one is accepted, and last no password
 * at all: a PDF that opens without one (an owner password only) is readable by anyone anyway.
 */
async function open(input: PdfTaskInput, pdfParse: PdfParseModule) {
  const { PDFParse, VerbosityLevel } = pdfParse;
  pdfResources ??= resources();
  let lastError: unknown;
  const attempts = [...input.passwords, undefined];
  for (const [index, password] of attempts.entries()) {
    const parser = new PDFParse({
      // pdf.js takes ownership of (detaches) the bytes it is given: an attempt that may be followed
      // by another gets a copy, the last one the input's own bytes (a Uint8Array view, not a Buffer,
      // which pdf-parse would copy).
      data:
        index < attempts.length - 1
          ? new Uint8Array(input.data)
          : new Uint8Array(input.data.buffer, input.data.byteOffset, input.data.byteLength),
      ...(password === undefined ? {} : { password }),
      verbosity: VerbosityLevel.ERRORS,
      isEvalSupported: false,
      useSystemFonts: false,
      ...pdfResources,
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

function titleOf(info: { info?: unknown; metadata?: { get(name: string): unknown } | null }): string | null {
  const dictionary = info.info as { Title?: unknown } | undefined;
  for (const candidate of [dictionary?.Title, info.metadata?.get('dc:title')]) {
    if (typeof candidate === 'string' && candidate.trim() !== '') return candidate.trim();
  }
  return null;
}

/**
 * One `getText` call per page: measured as fast as one call for the whole document, and it stops a
 * long document early on `maxChars` and keeps a page that fails to itself.
 */
export async function run(input: PdfTaskInput): Promise<PdfTaskOutput> {
  pdfJs ??= loadPdfJs();
  const { pdfParse, imageOps } = await pdfJs;
  let opened: Awaited<ReturnType<typeof open>>;
  try {
    opened = await open(input, pdfParse);
  } catch (error) {
    const code = passwordCode(error);
    if (code === undefined) {
      throw new TaskFailure('corrupt', 'is damaged: pdf.js found no document in it', {
        engineMessage: messageOf(error),
      });
    }
    if (code === NEED_PASSWORD && input.passwords.length === 0) {
      throw new TaskFailure('encrypted', 'the PDF is password-protected; give its password');
    }
    throw new TaskFailure('wrong_password', 'the password is not right for this PDF');
  }
  const { parser, info } = opened;
  try {
    const pageCount = info.total;
    if (pageCount > input.maxPages) {
      throw new TaskFailure(
        'too_many_pages',
        `has ${pageCount} pages, more than the limit of ${input.maxPages} (maxPages)`,
        { pageCount, limit: input.maxPages },
      );
    }
    const pages: PdfPageText[] = [];
    let chars = 0;
    for (let page = 1; page <= pageCount; page++) {
      let text: string | null;
      try {
        const result = await parser.getText({ partial: [page] });
        text = result.pages[0]?.text ?? '';
      } catch {
        text = null;
      }
      pages.push({ page, text });
      chars += text?.length ?? 0;
      if (chars > input.maxChars) {
        throw new TaskFailure(
          'too_many_chars',
          `has more than ${input.maxChars} characters of text (limit maxChars), reached on page ${page}`,
          { limit: input.maxChars, page },
        );
      }
    }
    // Which pages without text paint images tells a scanned page (for OCR, or a scan's verdict)
    // from a blank one.
    for (const entry of pagesToCheckForImages(pages, input.imagesOfBlankPages ?? true)) {
      entry.images = await pageHasImages(parser, entry.page, imageOps);
    }
    return { engine: 'pdfjs', pageCount, title: titleOf(info), pages };
  } finally {
    await parser.destroy().catch(() => undefined);
  }
}
