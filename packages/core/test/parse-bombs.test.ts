/**
 * Hostile documents, generated here, through `loadDocument` and a parse sandbox with a low cap:
 * a PDF with a huge content stream, a DOCX whose entry lies about its size and inflates to 1 GiB,
 * and an honest DOCX of 100 MiB of XML. Each fails at once with a reason that names the file, the
 * limit and its setting; the memory of the whole process tree (this process + the sandbox's
 * children) stays under the cap plus a stated margin, and this process's own RSS comes back.
 */
import { makeContentStreamBombPdf, makeLargeXmlDocx, makePdf, makeZipBombDocx } from '@quire/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDocument } from '../src/loaders/index.js';
import { type ParseFinishedEvent, ParseSandbox, readProcessMemory } from '../src/sandbox/index.js';

const MIB = 2 ** 20;
/** The sandbox children's RSS cap in these tests. */
const CAP_MB = 256;
/**
 * What the tree may hold beyond this process's baseline and one child at the cap: the RSS the
 * watchdog can miss between two samples (25 ms) plus this process's own working memory (the
 * bombs' bytes, test bookkeeping). Stated here, asserted below.
 */
const MARGIN_MB = 96;

/** A page of ordinary text (the PDF quality gate wants some 200 letters a page). */
const NOTE = Array.from(
  { length: 6 },
  () => 'A short note about lighthouses and the keepers who tended them.',
);

const limits = { parseMaxMemoryMb: CAP_MB, parseTimeoutMs: 90_000 };
const finished: ParseFinishedEvent[] = [];
const sandbox = new ParseSandbox({ size: 2, observer: { parseFinished: (e) => finished.push(e) } });

/** Samples this process and every sandbox child every 20 ms; keeps the peak of their sum. */
class TreeRssWatcher {
  peakBytes = 0;
  private readonly timer: NodeJS.Timeout;
  private busy = false;

  constructor() {
    this.timer = setInterval(() => void this.sample(), 20);
  }

  private async sample(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    const pids = [process.pid, ...sandbox.pids()];
    const readings = await Promise.all(pids.map((pid) => readProcessMemory(pid)));
    this.peakBytes = Math.max(
      this.peakBytes,
      readings.reduce((sum, r) => sum + (r?.rssBytes ?? 0), 0),
    );
    this.busy = false;
  }

  stop(): number {
    clearInterval(this.timer);
    return this.peakBytes;
  }
}

async function ownRss(): Promise<number> {
  return (await readProcessMemory(process.pid))?.rssBytes ?? Number.NaN;
}

let baselineBytes = 0;
let watcher: TreeRssWatcher;

beforeAll(async () => {
  // Warm the loaders in this process (detection, modules) so the baseline is what a worker holds.
  await loadDocument({ bytes: await makePdf([NOTE]), name: 'warm.pdf' }, { limits, sandbox });
  baselineBytes = await ownRss();
  watcher = new TreeRssWatcher();
});

afterAll(async () => {
  watcher.stop();
  await sandbox.close();
});

describe('hostile documents in the parse sandbox', () => {
  it('fails a PDF whose content stream grows without end at the RSS cap, while a small PDF goes through', async () => {
    const bomb = makeContentStreamBombPdf();
    expect(bomb.length).toBeLessThan(2 * MIB);
    const order: string[] = [];
    const bombLoad = loadDocument({ bytes: bomb, name: 'bomb.pdf' }, { limits, sandbox }).then(
      () => order.push('bomb loaded'),
      (error: unknown) => {
        order.push('bomb failed');
        throw error;
      },
    );
    bombLoad.catch(() => undefined);
    // Another document arrives while the bomb is being parsed: it has a child of its own.
    while (sandbox.stats().busy === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    const small = await loadDocument({ bytes: await makePdf([NOTE]), name: 'note.pdf' }, { limits, sandbox });
    order.push('small loaded');
    expect(small.text).toContain('lighthouses');

    await expect(bombLoad).rejects.toMatchObject({
      name: 'DocumentError',
      code: 'parse_out_of_memory',
      retryable: false,
      message: `"bomb.pdf": parsing needed more than ${CAP_MB} MiB of memory (limit parseMaxMemoryMb, QUIRE_PARSE_MAX_MEMORY_MB)`,
    });
    expect(order).toEqual(['small loaded', 'bomb failed']);
  });

  it('fails a DOCX whose entry declares 1,000 bytes and inflates to 1 GiB, counting what it inflates', async () => {
    const bomb = makeZipBombDocx({ inflateToBytes: 1024 * MIB, declaredBytes: 1000 });
    expect(bomb.length).toBeLessThan(4 * MIB);
    await expect(
      loadDocument(
        { bytes: bomb, name: 'bomb.docx' },
        { limits: { ...limits, maxInflatedBytes: 64 * MIB }, sandbox },
      ),
    ).rejects.toMatchObject({
      code: 'too_large',
      retryable: false,
      message:
        '"bomb.docx": inflates to more than 64.0 MiB (limit maxInflatedBytes, QUIRE_MAX_INFLATED_BYTES): stopped in "word/document.xml"; the archive declares 0.0 MiB in all',
    });
  });

  it('fails a DOCX of 100 MiB of XML, inside the inflation limit, at the RSS cap', async () => {
    const docx = makeLargeXmlDocx(100 * MIB);
    await expect(loadDocument({ bytes: docx, name: 'huge.docx' }, { limits, sandbox })).rejects.toMatchObject(
      {
        code: 'parse_out_of_memory',
        message: `"huge.docx": parsing needed more than ${CAP_MB} MiB of memory (limit parseMaxMemoryMb, QUIRE_PARSE_MAX_MEMORY_MB)`,
      },
    );
  });

  it('kept the whole process tree under the cap plus the margin, and this process gives its memory back', async () => {
    const peakTree = watcher.stop();
    const killed = finished.filter((e) => e.outcome === 'killed');
    expect(killed.map((e) => e.kind).sort()).toEqual(['docx', 'pdf']);
    for (const event of killed) expect(event.peakRssBytes).toBeLessThan((CAP_MB + MARGIN_MB) * MIB);
    // One child at the cap (the other parsed a small PDF beside it: ~100 MiB, inside the margin
    // only if the bomb was not at its peak then, so it is counted apart).
    const smallChild = 160 * MIB;
    expect(peakTree).toBeLessThan(baselineBytes + (CAP_MB + MARGIN_MB) * MIB + smallChild);
    expect(Math.abs((await ownRss()) - baselineBytes)).toBeLessThan(50 * MIB);
  });
});
