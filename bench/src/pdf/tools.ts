/** Running poppler's pdftotext and Quire's loadDocument the same way, for the PDF benchmark. */
import { spawn, spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import {
  DEFAULT_LOAD_LIMITS,
  loadDocument,
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
 * Loads a PDF with Quire's loadDocument (parsed in the parse sandbox) with one engine, reading the
 * file as the worker does.
 */
export async function runLoadDocument(
  path: string,
  maxPages = 2000,
  engine: PdfEngineName = 'pdfjs',
): Promise<QuireLoad & { text: string }> {
  const pdfEngines = await engineAlone(engine);
  const started = performance.now();
  const bytes = await readFile(path);
  const doc = await loadDocument({ bytes, name: path }, { limits: { maxPages }, pdfEngines });
  return {
    ms: performance.now() - started,
    pages: doc.pageCount ?? 0,
    chars: doc.text.length,
    text: doc.text,
  };
}

/** pdftotext's text of a PDF (reading order, UTF-8). */
export function pdftotextText(path: string): string {
  const result = spawnSync('pdftotext', ['-q', '-enc', 'UTF-8', path, '-'], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  return result.stdout ?? '';
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
