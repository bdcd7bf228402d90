/** Running poppler's pdftotext and Quire's loadDocument the same way, for the PDF benchmark. */
import { spawn, spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import {
  DEFAULT_LOAD_LIMITS,
  loadDocument,
  ParseSandbox,
  type PdfEngineName,
  type PdfEngines,
  resolvePdfEngines,
} from '@quire/core';
import { PDFParse } from 'pdf-parse';
import { PeakRssWatcher } from '../lib/proc.js';
import { ThreadPdfPool } from './thread-pool.js';

/** pdftotext's version line, or null when it is not installed. */
export function pdftotextVersion(): string | null {
  const result = spawnSync('pdftotext', ['-v'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) return null;
  return `${result.stderr}${result.stdout}`.split('\n')[0]!.trim();
}

export interface ToolRun {
  ms: number;
  /** Peak RSS of the pdftotext process, in MiB (polled). */
  peakRssMb?: number;
}

/** Extracts a PDF's text with pdftotext to stdout (read and dropped), as an indexer piping it would. */
export function runPdftotext(path: string, options: { watchRss?: boolean } = {}): Promise<ToolRun> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn('pdftotext', ['-q', '-enc', 'UTF-8', path, '-'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const watcher = options.watchRss && child.pid !== undefined ? new PeakRssWatcher(child.pid) : undefined;
    child.stdout.resume();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const peakRssMb = watcher?.stop();
      if (code !== 0) reject(new Error(`pdftotext ${path} exited with ${code}: ${stderr.trim()}`));
      else resolve({ ms: performance.now() - started, ...(peakRssMb === undefined ? {} : { peakRssMb }) });
    });
  });
}

export interface QuireLoad {
  ms: number;
  pages: number;
  chars: number;
}

const engines = new Map<PdfEngineName, Promise<PdfEngines>>();

/** One engine alone (no fallback), as `QUIRE_PDF_ENGINE` picks it. */
export function engineAlone(engine: PdfEngineName): Promise<PdfEngines> {
  let resolved = engines.get(engine);
  if (resolved === undefined) {
    resolved = resolvePdfEngines(engine).then((e) => ({ ...e, fallback: null }));
    engines.set(engine, resolved);
  }
  return resolved;
}

/**
 * Where each engine's parses run. `per-engine` (the default): a sandbox of each engine's own, as in
 * a worker, which resolves one engine at start and whose children parse with it alone (the other
 * engine only as a per-file fallback). `shared`: one process-wide sandbox for both, so a child that
 * parsed with pdf.js (its heap, a few hundred MiB) also runs Poppler's tools, and its every `spawn`
 * copies that memory's page tables.
 */
export type SandboxLayout = 'per-engine' | 'shared';

let sandboxLayout: SandboxLayout = 'per-engine';
const sandboxes = new Map<PdfEngineName, ParseSandbox>();

export function setSandboxLayout(layout: SandboxLayout): void {
  sandboxLayout = layout;
}

function sandboxFor(engine: PdfEngineName): ParseSandbox | undefined {
  if (sandboxLayout === 'shared') return undefined;
  let sandbox = sandboxes.get(engine);
  if (sandbox === undefined) {
    // The worker's defaults: as many children as `defaultParseSandbox()` starts.
    sandbox = new ParseSandbox({});
    sandboxes.set(engine, sandbox);
  }
  return sandbox;
}

export async function closeSandboxes(): Promise<void> {
  await Promise.all([...sandboxes.values()].map((sandbox) => sandbox.close()));
  sandboxes.clear();
}

/**
 * Loads a PDF with Quire's loadDocument (parsed in the parse sandbox) with one engine, reading the
 * file as the worker does.
 */
export async function runLoadDocument(
  path: string,
  maxPages = 2000,
  engine: PdfEngineName = 'pdfjs',
): Promise<QuireLoad & { text: string }> {
  const pdfEngines = await engineAlone(engine);
  const sandbox = sandboxFor(engine);
  const started = performance.now();
  const bytes = await readFile(path);
  const doc = await loadDocument(
    { bytes, name: path },
    { limits: { maxPages }, pdfEngines, ...(sandbox === undefined ? {} : { sandbox }) },
  );
  return {
    ms: performance.now() - started,
    pages: doc.pageCount ?? 0,
    chars: doc.text.length,
    text: doc.text,
  };
}

/** pdftotext's text of a PDF (reading order, UTF-8). */
export function pdftotextText(path: string, options: { cropBox?: boolean } = {}): string {
  if (options.cropBox) return pdftotextCropBox(path);
  const result = spawnSync('pdftotext', ['-q', '-enc', 'UTF-8', path, '-'], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  return result.stdout ?? '';
}

/**
 * pdftotext's text inside each page's crop box, the area a reader (and pdf.js) shows: text a
 * printer placed outside it (slug lines, crop marks) is left out. `pdftotext -cropbox` does not do
 * this (it changes only `-bbox` output: the corpus's text is the same with and without it); its
 * crop area (`-x -y -W -H`, points at the default 72 dpi from the page's top left) does. Pages are
 * cropped in runs of equal boxes; a rotated page is not cropped.
 */
function pdftotextCropBox(path: string): string {
  const info = spawnSync('pdfinfo', ['-box', '-f', '1', '-l', '100000', path], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  }).stdout;
  const pageCount = Number(/^Pages:\s+(\d+)/m.exec(info ?? '')?.[1] ?? 0);
  const boxes = new Map<number, Record<string, number[]>>();
  for (const [, page, box, values] of (info ?? '').matchAll(
    /^Page\s+(\d+)\s+(MediaBox|CropBox|rot):\s+(.*)$/gm,
  )) {
    const entry = boxes.get(Number(page)) ?? {};
    entry[box!] = values!.trim().split(/\s+/).map(Number);
    boxes.set(Number(page), entry);
  }
  const cropOf = (page: number): string[] => {
    const { MediaBox: media, CropBox: crop, rot } = boxes.get(page) ?? {};
    if (media === undefined || crop === undefined || (rot?.[0] ?? 0) % 360 !== 0) return [];
    if (media.every((value, i) => Math.abs(value - crop[i]!) < 1)) return [];
    const [mx0, , , my1] = media as [number, number, number, number];
    const [cx0, cy0, cx1, cy1] = crop as [number, number, number, number];
    return ['-x', String(Math.floor(cx0 - mx0)), '-y', String(Math.floor(my1 - cy1))].concat([
      '-W',
      String(Math.ceil(cx1 - cx0)),
      '-H',
      String(Math.ceil(cy1 - cy0)),
    ]);
  };
  let text = '';
  for (let first = 1; first <= pageCount; ) {
    const crop = cropOf(first);
    let last = first;
    while (last < pageCount && cropOf(last + 1).join() === crop.join()) last++;
    const args = ['-q', '-enc', 'UTF-8', '-f', String(first), '-l', String(last), ...crop, path, '-'];
    text += spawnSync('pdftotext', args, { encoding: 'utf8', maxBuffer: 1 << 30 }).stdout ?? '';
    first = last + 1;
  }
  return text;
}

/**
 * Words of a text for the recall comparison, both sides normalised the same way: NFKC (ligatures
 * to letters), line-end hyphenation joined (`param-\neters` → `parameters`), lower case, runs of
 * letters, marks and digits.
 */
export function recallWords(text: string): string[] {
  const joined = text.normalize('NFKC').replace(/(\p{L})[-\u00ad\u2010]\s*\n\s*(\p{Ll})/gu, '$1$2');
  return joined.toLowerCase().match(/[\p{L}\p{M}\p{N}]+/gu) ?? [];
}

/** Share of the reference's words (as a multiset) found in the candidate. */
export function wordRecall(candidate: string, reference: string): number {
  const counts = new Map<string, number>();
  for (const word of recallWords(candidate)) counts.set(word, (counts.get(word) ?? 0) + 1);
  const wanted = recallWords(reference);
  if (wanted.length === 0) return 1;
  let found = 0;
  for (const word of wanted) {
    const left = counts.get(word) ?? 0;
    if (left > 0) {
      found++;
      counts.set(word, left - 1);
    }
  }
  return found / wanted.length;
}

/** The parse sandbox's default RSS cap per child, in MiB (`QUIRE_PARSE_MAX_MEMORY_MB`). */
export const SANDBOX_CAP_MB = DEFAULT_LOAD_LIMITS.parseMaxMemoryMb;

let threads: ThreadPdfPool | undefined;

/** Parses a PDF on the baseline's worker threads (the isolation before the sandbox), reading the file too. */
export async function runThreads(path: string, size = 2): Promise<QuireLoad> {
  const started = performance.now();
  const bytes = await readFile(path);
  threads ??= new ThreadPdfPool(size);
  const parsed = await threads.parse(bytes);
  return { ms: performance.now() - started, pages: parsed.pages, chars: parsed.chars };
}

export async function closeThreads(): Promise<void> {
  await threads?.close();
  threads = undefined;
}

/**
 * Extracts a PDF's text with pdf-parse (the same pdf.js) on the calling thread in one `getText()` call,
 * as the LangChain.js baseline does: what the parser costs without Quire's isolation and page loop.
 */
export async function runPdfParse(path: string): Promise<{ ms: number; pages: number }> {
  const started = performance.now();
  const parser = new PDFParse({ data: new Uint8Array(await readFile(path)) });
  try {
    const result = await parser.getText();
    return { ms: performance.now() - started, pages: result.total };
  } finally {
    await parser.destroy();
  }
}

/** Runs `task` over `items`, `concurrency` at a time; returns the wall time and each result in order. */
export async function pool<T, R>(
  items: readonly T[],
  concurrency: number,
  task: (item: T) => Promise<R>,
): Promise<{ ms: number; results: R[] }> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await task(items[index]!);
      }
    }),
  );
  return { ms: performance.now() - started, results };
}
