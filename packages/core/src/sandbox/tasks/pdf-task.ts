/**
 * Sandbox task `pdf`: the text of each page of a PDF with the `pdfjs` engine, pdf-parse (pdf.js).
 * Runs in a sandbox child, which keeps pdf.js loaded between documents and is killed from outside
 * on the memory cap or the time limit: pdf.js runs synchronously for long stretches on hostile input.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PdfTaskInput, PdfTaskOutput } from '../../loaders/pdf-engine-types.js';
import { needsImageCheck, type PdfPageText, pagesWithoutText } from '../../loaders/pdf-text-quality.js';
import { TaskFailure } from '../protocol.js';

export type { PdfTaskInput, PdfTaskOutput };

/** pdf.js codes on its PasswordException. */
const NEED_PASSWORD = 1;

type PdfParseModule = typeof import('pdf-parse');
let pdfParse: Promise<PdfParseModule> | undefined;

/** The operators with which a page paints an image (pdf.js's `OPS`), read from pdf-parse's own pdf.js. */
let imageOps: Promise<Set<number>> | undefined;
async function loadImageOps(): Promise<Set<number>> {
  const require = createRequire(import.meta.url);
  const path = createRequire(require.resolve('pdf-parse')).resolve('pdfjs-dist/legacy/build/pdf.mjs');
  const { OPS } = (await import(pathToFileURL(path).href)) as { OPS: Record<string, number> };
  return new Set(
    Object.entries(OPS)
      .filter(([name]) => /^paint.*Image/.test(name))
      .map(([, op]) => op),
  );
}

interface PdfJsDocument {
  getPage(page: number): Promise<{ getOperatorList(): Promise<{ fnArray: number[] }> }>;
}

/**
 * Whether a page paints an image, from its operator list (the page is not rendered). Asked only of
 * pages without text when the verdict depends on it; null when pdf.js cannot say.
 */
async function pageHasImages(parser: unknown, page: number): Promise<boolean | null> {
  const doc = (parser as { doc?: PdfJsDocument }).doc;
  if (doc === undefined) return null;
  try {
    imageOps ??= loadImageOps();
    const ops = await imageOps;
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
async function open(input: PdfTaskInput) {
  pdfParse ??= import('pdf-parse');
  const { PDFParse, VerbosityLevel } = await pdfParse;
  pdfResources ??= resources();
  let lastError: unknown;
  for (const password of [...input.passwords, undefined]) {
    const parser = new PDFParse({
      // pdf.js takes ownership of the array it is given; each attempt gets its own copy.
      data: input.data.slice(),
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
  let opened: Awaited<ReturnType<typeof open>>;
  try {
    opened = await open(input);
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
    // A scan or a blank document: which pages paint images tells them apart.
    if (needsImageCheck(pages)) {
      for (const entry of pagesWithoutText(pages)) entry.images = await pageHasImages(parser, entry.page);
    }
    return { engine: 'pdfjs', pageCount, title: titleOf(info), pages };
  } finally {
    await parser.destroy().catch(() => undefined);
  }
}
