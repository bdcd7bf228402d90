import { makePdf, REPORT_PAGES } from '@quire/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_LOAD_LIMITS, type LoadLimits } from '../src/loaders/index.js';
import { parsePdfInWorker } from '../src/loaders/pdf-loader.js';

/**
 * The PDF parser runs in a worker thread that is terminated on timeout, abort or heap exhaustion.
 * Stand-in workers play the hostile parse (spinning forever, hoarding memory) through the very
 * code path that guards the real one; the real worker is also driven over a tiny heap cap.
 */
const spinWorker = new URL('./fixtures/workers/spin-worker.mjs', import.meta.url);
const growHeapWorker = new URL('./fixtures/workers/grow-heap-worker.mjs', import.meta.url);

const limits = (overrides: Partial<LoadLimits>): LoadLimits => ({ ...DEFAULT_LOAD_LIMITS, ...overrides });

/** Counts main-thread timer ticks: they only happen while the caller's event loop is free. */
function tickCounter(onTick?: (ticks: number) => void): { readonly ticks: number; stop(): void } {
  let ticks = 0;
  const interval = setInterval(() => {
    ticks++;
    onTick?.(ticks);
  }, 5);
  return {
    get ticks() {
      return ticks;
    },
    stop: () => clearInterval(interval),
  };
}

let stopTicks: (() => void) | undefined;
afterEach(() => stopTicks?.());

describe('PDF parsing in a worker thread', () => {
  it('keeps the caller responsive while the parser spins, and aborts it on the signal', async () => {
    const pdf = await makePdf(REPORT_PAGES);
    const controller = new AbortController();
    // Only a running main event loop can fire the abort: if parsing blocked it, the load would
    // end by its (long) timeout instead and this test would fail.
    const counter = tickCounter((ticks) => {
      if (ticks === 5) controller.abort(new Error('caller gave up'));
    });
    stopTicks = counter.stop;
    await expect(
      parsePdfInWorker(pdf, 'spin.pdf', {
        limits: limits({ pdfTimeoutMs: 60_000 }),
        signal: controller.signal,
        workerUrl: spinWorker,
      }),
    ).rejects.toThrow('caller gave up');
    expect(counter.ticks).toBeGreaterThanOrEqual(5);
  });

  it('terminates a parser that never yields once the time limit passes', async () => {
    const pdf = await makePdf(REPORT_PAGES);
    const counter = tickCounter();
    stopTicks = counter.stop;
    await expect(
      parsePdfInWorker(pdf, 'spin.pdf', { limits: limits({ pdfTimeoutMs: 300 }), workerUrl: spinWorker }),
    ).rejects.toMatchObject({
      code: 'parse_timeout',
      document: 'spin.pdf',
      message: '"spin.pdf": parsing took longer than 0.3 s (limit pdfTimeoutMs)',
    });
    // The 5 ms ticks fall due long before the 300 ms limit, so they ran while the parser spun.
    expect(counter.ticks).toBeGreaterThan(0);
  });

  it('fails a parser that exhausts its heap cap with parse_out_of_memory', async () => {
    const pdf = await makePdf(REPORT_PAGES);
    await expect(
      parsePdfInWorker(pdf, 'bomb.pdf', {
        limits: limits({ pdfMaxMemoryMb: 16 }),
        workerUrl: growHeapWorker,
      }),
    ).rejects.toMatchObject({
      code: 'parse_out_of_memory',
      message: '"bomb.pdf": parsing needed more than 16 MB of memory (limit pdfMaxMemoryMb)',
    });
  });

  it('holds the real parser to its heap cap too', async () => {
    const pdf = await makePdf(REPORT_PAGES);
    await expect(
      parsePdfInWorker(pdf, 'tight.pdf', { limits: limits({ pdfMaxMemoryMb: 4 }) }),
    ).rejects.toMatchObject({
      code: 'parse_out_of_memory',
    });
  });

  it('parses with the real worker and hands back every page', async () => {
    const pdf = await makePdf(REPORT_PAGES, { title: 'Quarterly Lighthouse Report' });
    const parsed = await parsePdfInWorker(pdf, 'report.pdf', { limits: DEFAULT_LOAD_LIMITS });
    expect(parsed.pageCount).toBe(3);
    expect(parsed.title).toBe('Quarterly Lighthouse Report');
    expect(parsed.pages.map((page) => page.page)).toEqual([1, 2, 3]);
  });

  it('reports a worker script that cannot start as an installation error, not a document error', async () => {
    const pdf = await makePdf(REPORT_PAGES);
    const missing = new URL('./fixtures/workers/missing-worker.mjs', import.meta.url);
    const error = await parsePdfInWorker(pdf, 'r.pdf', {
      limits: DEFAULT_LOAD_LIMITS,
      workerUrl: missing,
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect((error as { code?: unknown }).code).toBeUndefined();
    expect((error as Error).message).toContain('the PDF parser thread could not start');
  });
});
