import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { makePdf, makeTempDir, spawnProcess, type TempDir } from '@quire/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_LOAD_LIMITS,
  defaultPdfParserPool,
  type LoadLimits,
  PdfParserPool,
} from '../src/loaders/index.js';
import { parsePdfInWorker } from '../src/loaders/pdf-loader.js';
import type { ParsedPdf } from '../src/loaders/pdf-parser-pool.js';

/**
 * The pool keeps parser threads alive between PDFs. These tests hold it to what one thread per PDF
 * gave: every load gets its own pages back, and a thread killed by a hostile PDF (stood in for by
 * scripts that spin or hoard memory, or by an abort) costs only that load.
 */
const spinWorker = new URL('./fixtures/workers/spin-worker.mjs', import.meta.url);
const growHeapWorker = new URL('./fixtures/workers/grow-heap-worker.mjs', import.meta.url);

const limits = (overrides: Partial<LoadLimits> = {}): LoadLimits => ({
  ...DEFAULT_LOAD_LIMITS,
  ...overrides,
});

/** Page `p` of document `d` says a phrase no other page says. */
function phrase(d: number, p: number): string {
  return `Document ${d} page ${p} mentions the heron of shelf ${d * 100 + p}.`;
}

const documents: Buffer[] = [];
beforeAll(async () => {
  for (let d = 1; d <= 6; d++) {
    const pages = Array.from({ length: d + 1 }, (_, index) => [
      phrase(d, index + 1),
      'A second line of text.',
    ]);
    documents.push(await makePdf(pages));
  }
});

function doc(d: number): Buffer {
  const bytes = documents[d - 1];
  if (bytes === undefined) throw new Error(`no document ${d}`);
  return bytes;
}

function expectPages(parsed: ParsedPdf, d: number): void {
  expect(parsed.pageCount).toBe(d + 1);
  expect(parsed.pages.map((page) => page.page)).toEqual(Array.from({ length: d + 1 }, (_, i) => i + 1));
  parsed.pages.forEach((page, index) => {
    expect(page.text).toContain(phrase(d, index + 1));
    // Nothing of another page or document leaks in.
    expect(page.text?.match(/Document \d+ page \d+/g)).toEqual([`Document ${d} page ${index + 1}`]);
  });
}

const pools: PdfParserPool[] = [];
function makePool(...args: ConstructorParameters<typeof PdfParserPool>): PdfParserPool {
  const pool = new PdfParserPool(...args);
  pools.push(pool);
  return pool;
}
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
});

const parse = (pool: PdfParserPool, d: number, overrides: { signal?: AbortSignal } = {}) =>
  pool.parse({ bytes: doc(d), name: `doc-${d}.pdf`, limits: limits(), passwords: [], ...overrides });

describe('PdfParserPool', () => {
  it('parses PDFs one after another on one long-lived thread', async () => {
    const pool = makePool({ size: 1 });
    for (const d of [1, 2, 3, 4]) expectPages(await parse(pool, d), d);
    expect(pool.stats()).toMatchObject({ threads: 1, busy: 0, started: 1, killed: 0, recycled: 0 });
  });

  it('parses concurrent PDFs on its threads, each page on its own page of its own document', async () => {
    const pool = makePool({ size: 2 });
    const loads = [1, 2, 3, 4, 5, 6].map((d) => parse(pool, d));
    expect(pool.stats()).toMatchObject({ busy: 2, queued: 4 });
    const parsed = await Promise.all(loads);
    parsed.forEach((result, index) => {
      expectPages(result, index + 1);
    });
    expect(pool.stats()).toMatchObject({ threads: 2, started: 2, killed: 0 });
  });

  it('replaces a thread killed by an abort, and the next PDF parses', async () => {
    const pool = makePool({ size: 1 });
    expectPages(await parse(pool, 1), 1);
    const controller = new AbortController();
    // The idle thread takes the load at once; aborting now kills it mid-document.
    const aborted = parse(pool, 2, { signal: controller.signal });
    expect(pool.stats().busy).toBe(1);
    controller.abort(new Error('caller gave up'));
    await expect(aborted).rejects.toThrow('caller gave up');
    expect(pool.stats()).toMatchObject({ killed: 1 });
    expectPages(await parse(pool, 3), 3);
    expect(pool.stats()).toMatchObject({ threads: 1, started: 2, killed: 1 });
  });

  it('replaces a thread that spun past the time limit or exhausted its heap', async () => {
    const pool = makePool({ size: 1 });
    const pdf = doc(1);
    await expect(
      pool.parse({
        bytes: pdf,
        name: 'spin.pdf',
        limits: limits({ pdfTimeoutMs: 200 }),
        passwords: [],
        workerUrl: spinWorker,
      }),
    ).rejects.toMatchObject({ code: 'parse_timeout' });
    expectPages(await parse(pool, 2), 2);
    await expect(
      pool.parse({
        bytes: pdf,
        name: 'bomb.pdf',
        limits: limits({ pdfMaxMemoryMb: 16 }),
        passwords: [],
        workerUrl: growHeapWorker,
      }),
    ).rejects.toMatchObject({ code: 'parse_out_of_memory' });
    expectPages(await parse(pool, 3), 3);
    expect(pool.stats()).toMatchObject({ threads: 1, killed: 2 });
  });

  it('fails only the load whose thread cannot be created', async () => {
    const pool = makePool({ size: 1 });
    await expect(
      pool.parse({
        bytes: doc(1),
        name: 'doc-1.pdf',
        limits: limits(),
        passwords: [],
        workerUrl: new URL('https://example.com/pdf-worker.mjs'),
      }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_URL_SCHEME' });
    expectPages(await parse(pool, 2), 2);
    expect(pool.stats()).toMatchObject({ queued: 0, started: 1 });
  });

  it('keeps a thread that stopped at a limit, which then parses the next PDF', async () => {
    const pool = makePool({ size: 1 });
    await expect(
      pool.parse({ bytes: doc(4), name: 'long.pdf', limits: limits({ maxPages: 2 }), passwords: [] }),
    ).rejects.toMatchObject({ code: 'too_many_pages' });
    await expect(
      pool.parse({ bytes: doc(4), name: 'wordy.pdf', limits: limits({ maxChars: 100 }), passwords: [] }),
    ).rejects.toMatchObject({ code: 'too_many_chars', details: { page: 2 } });
    expectPages(await parse(pool, 2), 2);
    expect(pool.stats()).toMatchObject({ started: 1, killed: 0 });
  });

  it('lets a waiting load be aborted without touching the busy thread', async () => {
    const pool = makePool({ size: 1 });
    const first = parse(pool, 3);
    const controller = new AbortController();
    const waiting = parse(pool, 4, { signal: controller.signal });
    expect(pool.stats()).toMatchObject({ busy: 1, queued: 1 });
    controller.abort(new Error('no longer needed'));
    await expect(waiting).rejects.toThrow('no longer needed');
    expectPages(await first, 3);
    expect(pool.stats()).toMatchObject({ queued: 0, started: 1, killed: 0 });
  });

  it('replaces a thread after maxDocumentsPerThread documents, and after one that grew its heap', async () => {
    const byCount = makePool({ size: 1, maxDocumentsPerThread: 2 });
    for (const d of [1, 2, 3]) expectPages(await parse(byCount, d), d);
    expect(byCount.stats()).toMatchObject({ started: 2, recycled: 1 });

    const byHeap = makePool({ size: 1, recycleHeapMb: 0 });
    for (const d of [1, 2]) expectPages(await parse(byHeap, d), d);
    expect(byHeap.stats()).toMatchObject({ started: 2, recycled: 2 });
  });

  it('closes idle threads after idleTimeoutMs', async () => {
    const pool = makePool({ size: 1, idleTimeoutMs: 0 });
    expectPages(await parse(pool, 1), 1);
    await vi.waitFor(() => expect(pool.stats().threads).toBe(0));
    expectPages(await parse(pool, 2), 2);
    expect(pool.stats()).toMatchObject({ started: 2, killed: 0, recycled: 0 });
  });

  it('fails waiting and later loads once closed', async () => {
    const pool = makePool({ size: 1 });
    const running = parse(pool, 1).catch((error: unknown) => error);
    const waiting = parse(pool, 2).catch((error: unknown) => error);
    await pool.close();
    expect(await running).toMatchObject({ message: 'the PDF parser pool was closed' });
    expect(await waiting).toMatchObject({ message: 'the PDF parser pool was closed' });
    await expect(parse(pool, 3)).rejects.toThrow('the PDF parser pool is closed');
    expect(pool.stats().threads).toBe(0);
  });

  it('refuses options that make no sense, naming them', () => {
    expect(() => new PdfParserPool({ size: 0 })).toThrow(
      'PdfParserPool size must be a positive integer, got 0',
    );
    expect(() => new PdfParserPool({ idleTimeoutMs: -1 })).toThrow('idleTimeoutMs must be a finite number');
  });

  it("leaves the caller's bytes whole, so the same Buffer can be loaded again", async () => {
    const pool = makePool({ size: 1 });
    // Buffer.alloc is never carved from Node's shared pool: its memory is its own, as a file read's is.
    const bytes = Buffer.alloc(doc(2).length);
    doc(2).copy(bytes);
    for (let round = 0; round < 2; round++) {
      expectPages(await pool.parse({ bytes, name: 'doc-2.pdf', limits: limits(), passwords: [] }), 2);
    }
    expect(bytes.equals(doc(2))).toBe(true);
  });

  it('is what parsePdfInWorker uses by default: one thread for loads in a row', async () => {
    const before = defaultPdfParserPool().stats().started;
    for (const d of [1, 2]) {
      expectPages(await parsePdfInWorker(doc(d), `doc-${d}.pdf`, { limits: DEFAULT_LOAD_LIMITS }), d);
    }
    // Only this test uses the default pool in this file: its one thread served both loads.
    expect(defaultPdfParserPool().stats().started - before).toBe(1);
  });
});

describe('PdfParserPool in a process of its own', () => {
  let tmp: TempDir;
  beforeAll(async () => {
    tmp = await makeTempDir('pdf-pool-exit');
  });
  afterAll(async () => {
    await tmp.cleanup();
  });

  it('never keeps the process alive with an idle thread, and prints nothing', async () => {
    const pdfPath = join(tmp.path, 'doc.pdf');
    await writeFile(pdfPath, doc(2));
    const script = join(tmp.path, 'parse-and-exit.mjs');
    const poolModule = pathToFileURL(
      fileURLToPath(new URL('../src/loaders/pdf-parser-pool.ts', import.meta.url)),
    );
    await writeFile(
      script,
      [
        `import { readFile } from 'node:fs/promises';`,
        `import { PdfParserPool } from ${JSON.stringify(poolModule.href)};`,
        // An idle timeout far longer than the test: only unref'd threads let the process end.
        `const pool = new PdfParserPool({ idleTimeoutMs: 600000 });`,
        `const limits = ${JSON.stringify(DEFAULT_LOAD_LIMITS)};`,
        `const parsed = await pool.parse({ bytes: await readFile(${JSON.stringify(pdfPath)}), name: 'doc.pdf', limits, passwords: [] });`,
        `process.stdout.write('pages ' + parsed.pages.length + '\\n');`,
      ].join('\n'),
    );
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const child = await spawnProcess(process.execPath, ['--import', tsx, script]);
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      child.exited,
      new Promise<'still running'>((resolve) => {
        timer = setTimeout(() => resolve('still running'), 20_000);
      }),
    ]);
    clearTimeout(timer);
    if (outcome === 'still running') await child.kill('SIGKILL');
    expect(outcome).toEqual({ code: 0, signal: null });
    expect(child.output()).toBe('[stdout] pages 3');
  }, 30_000);
});
