/**
 * Reads pages by OCR: each page is one task of the parse sandbox (`ocr`), so pages run in parallel
 * on the sandbox's children under the same memory cap and time limit as any parse, progress is
 * told page by page, and one bad page fails alone. Results come from the OCR cache when the same
 * image was read with the same recipe before.
 */
import { DocumentError } from '../../errors.js';
import { moduleFile } from '../../module-files.js';
import { registerSandboxTask } from '../../sandbox/task-kinds.js';
import type { OcrTaskInput, OcrTaskOutput } from '../../sandbox/tasks/ocr-task.js';
import { assessPageText } from '../pdf-text-quality.js';
import { runInSandbox, type SandboxedLoadOptions } from '../sandboxed.js';
import { tidyText } from '../section-builder.js';
import { resolveOcrEngine } from './engine.js';
import { ocrLanguageDir } from './languages.js';
import { type OcrResultCache, ocrCacheKey } from './ocr-cache.js';
import type { OcrDocumentReport, OcrPageReport } from './report.js';
import { type OcrRecipe, type OcrSettings, ocrRecipe } from './settings.js';

export type { OcrDocumentReport, OcrPageReport } from './report.js';

/**
 * An OCR child keeps its Tesseract worker (~300–400 MiB with the eng model) while it holds up to
 * this share of its memory cap after a page (410 MiB of 512), so the next page does not pay a
 * process start and a model load; past it (WebAssembly memory never shrinks) the worker is ended
 * and the child replaced. Every page is still read under the whole cap, and a page that passes it
 * in a warm child is read again in a fresh one (see `ParseSandbox`).
 */
export const OCR_KEEP_RSS_SHARE = 0.8;
/** Pages a child reads before it is replaced: the worker's heap creeps up by a few MiB a page. */
export const OCR_PAGES_PER_CHILD = 50;

const ocrPolicy = { recycleRssShare: OCR_KEEP_RSS_SHARE, maxTasksPerChild: OCR_PAGES_PER_CHILD };
registerSandboxTask('ocr', moduleFile('../../sandbox/tasks/ocr-task', import.meta.url), ocrPolicy);
// The command-line engine keeps nothing in the child between pages: the sandbox's defaults.
registerSandboxTask('ocr-tesseract', moduleFile('../../sandbox/tasks/tesseract-task', import.meta.url));
// Reading an image's header takes little memory: it may run in a child that keeps an OCR worker.
registerSandboxTask(
  'image-info',
  moduleFile('../../sandbox/tasks/image-info-task', import.meta.url),
  ocrPolicy,
);

/** How a load runs OCR: settings, and the services around it. */
export interface OcrRunOptions {
  settings: OcrSettings;
  /** Results of earlier reads. Default: none (every page is read). */
  cache?: OcrResultCache;
  /** Told after each page read (or found in the cache). Must not throw. */
  onPage?: (progress: { done: number; total: number }) => void;
}

export interface OcrPageResult extends OcrPageReport {
  text: string;
}

/** One image to read: its bytes (computed on demand, e.g. rendered from a PDF) and frame. */
export interface OcrPageSource {
  page: number;
  frame: number;
  image: () => Promise<Uint8Array>;
}

/**
 * Reads the pages in order, `settings.concurrency` at a time. Rejects with the first page's
 * failure (a `DocumentError` naming the document), or the signal's reason.
 */
export async function ocrPages(
  sources: readonly OcrPageSource[],
  name: string,
  ocr: OcrRunOptions,
  sandboxed: SandboxedLoadOptions,
): Promise<OcrPageResult[]> {
  const { settings } = ocr;
  const engine = await resolveOcrEngine(settings.engine);
  const recipe = ocrRecipe(settings, engine);
  const cli = engine.name === 'tesseract';
  const langDir = ocrLanguageDir(settings.langs, settings.langDirs, { uncompressed: cli });
  const results: OcrPageResult[] = new Array(sources.length);
  let next = 0;
  let done = 0;
  const one = async (source: OcrPageSource): Promise<OcrPageResult> => {
    const image = await source.image();
    const key = ocrCacheKey(image, source.frame, recipe);
    const hit = ocr.cache?.get(key);
    let read: Pick<OcrTaskOutput, 'text' | 'confidence' | 'rotation'>;
    if (hit !== undefined) {
      read = {
        text: hit.text,
        confidence: hit.confidence,
        rotation: hit.rotation as OcrTaskOutput['rotation'],
      };
    } else {
      const input: OcrTaskInput = {
        image,
        frame: source.frame,
        langs: settings.langs,
        langDir,
        maxPixels: settings.maxPixels,
        maxOcrPixels: settings.maxOcrPixels,
        maxMemoryMb: sandboxed.limits.parseMaxMemoryMb,
        keepRssShare: OCR_KEEP_RSS_SHARE,
      };
      try {
        read = await runInSandbox<OcrTaskOutput>(cli ? 'ocr-tesseract' : 'ocr', name, input, sandboxed);
      } catch (error) {
        if (error instanceof DocumentError && !error.message.includes(`page ${source.page}`)) {
          throw new DocumentError(
            name,
            error.code,
            `page ${source.page}: ${stripName(error.message, name)}`,
            {
              cause: error,
              ...(error.details === undefined ? {} : { details: { ...error.details, page: source.page } }),
            },
          );
        }
        throw error;
      }
      ocr.cache?.set(key, { text: read.text, confidence: read.confidence, rotation: read.rotation });
    }
    return judge(source.page, read, settings, hit !== undefined);
  };
  const runner = async () => {
    while (next < sources.length) {
      const index = next++;
      sandboxed.signal?.throwIfAborted();
      results[index] = await one(sources[index] as OcrPageSource);
      done++;
      try {
        ocr.onPage?.({ done, total: sources.length });
      } catch {
        // progress is best effort
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(settings.concurrency, sources.length) }, runner));
  return results;
}

function stripName(message: string, name: string): string {
  const prefix = `${JSON.stringify(name)}: `;
  return message.startsWith(prefix) ? message.slice(prefix.length) : message;
}

/** Tidies OCR text and judges the page: illegible (nothing meaningful), low confidence, or good. */
function judge(
  page: number,
  read: Pick<OcrTaskOutput, 'text' | 'confidence' | 'rotation'>,
  settings: OcrSettings,
  cached: boolean,
): OcrPageResult {
  const text = tidyText(read.text.replace(/[ \t\u00a0]+/g, ' ')).replace(/^ +/gm, '');
  const verdict = assessPageText(text).verdict;
  const illegible = verdict === 'no_text' || verdict === 'garbled';
  return {
    page,
    text: illegible ? '' : text,
    confidence: Math.round(read.confidence * 10) / 10,
    lowConfidence: !illegible && read.confidence < settings.minConfidence,
    illegible,
    rotation: read.rotation,
    cached,
  };
}

/** The recipe pages are read with under `settings` (the engine resolved as `ocrPages` does). */
export async function ocrRecipeOf(settings: OcrSettings): Promise<OcrRecipe> {
  return ocrRecipe(settings, await resolveOcrEngine(settings.engine));
}

export async function reportOf(
  results: readonly OcrPageResult[],
  settings: OcrSettings,
): Promise<OcrDocumentReport> {
  return { recipe: await ocrRecipeOf(settings), pages: results.map(({ text: _text, ...page }) => page) };
}

/**
 * Chunk metadata for the pages `pageStart..pageEnd` of a document OCR read: `ocr: true`, the
 * lowest confidence among its OCR pages, and `ocrLowConfidence` when one is under the threshold.
 * Empty for a chunk without OCR pages.
 */
export function ocrChunkMetadata(
  report: OcrDocumentReport | undefined,
  pageStart: number | null,
  pageEnd: number | null,
): Record<string, string | number | boolean> {
  if (report === undefined || pageStart === null) return {};
  const end = pageEnd ?? pageStart;
  const pages = report.pages.filter((p) => !p.illegible && p.page >= pageStart && p.page <= end);
  if (pages.length === 0) return {};
  const confidence = Math.min(...pages.map((p) => p.confidence));
  return {
    ocr: true,
    ocrConfidence: confidence,
    ...(pages.some((p) => p.lowConfidence) ? { ocrLowConfidence: true } : {}),
  };
}
