/**
 * OCR: pages/s of Quire's OCR (tesseract.js in the parse sandbox's children, one task per page)
 * against the `tesseract` command-line program (Debian's, one process per page, one thread each)
 * on the same page images with the same language data, one page at a time and two at a time (the
 * machine's two cores); the peak RSS of a sandbox child against its cap; and the word recall of
 * Quire's text against the CLI's on the shared corpus's two scanned PDFs and on generated pages
 * (whose known text both tools are also scored against), per page and pooled over the pages
 * (matched words over all the CLI's words). With `--compare-recycle on` Quire also runs as its
 * sandbox ran OCR before OCR children kept their engine (a child replaced once it holds more than
 * half its cap: a process start and a model load per page), in the same run.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import {
  DEFAULT_LOAD_LIMITS,
  findOcrLanguage,
  OCR_KEEP_RSS_SHARE,
  OCR_PAGES_PER_CHILD,
  type OcrPageSource,
  ocrPages,
  type ParseFinishedEvent,
  ParseSandbox,
  PdfRasteriser,
  resolveOcrEngine,
  resolveOcrSettings,
} from '@quire/core';
import {
  makeTempDir,
  OCR_ENGLISH_PAGE,
  OCR_FRENCH_PAGE,
  ocrWords,
  renderTextPage,
  TreeRssWatcher,
  wordRecall,
} from '@quire/testkit';
import { z } from 'zod';
import { parseFlags, positiveInt } from './lib/args.js';
import { corpusDir } from './lib/env.js';
import { machineInfo, printLine, printTable, times, writeResults } from './lib/report.js';
import { median, ratio, round } from './lib/stats.js';

const run = promisify(execFile);

const USAGE = `pnpm bench:ocr [flags]
  --runs N     timed passes over all pages per tool and concurrency (default 3)
  --dpi N      resolution the scanned PDFs are rendered at (default 300)
  --cli-noise on|off
               also read the corpus pages rendered at dpi-1 and dpi+1 with the CLI and score the
               CLI against itself: how much recall moves when the pixels move a little (default on)
  --compare-recycle on|off
               also time Quire with the previous recycling: an OCR child replaced once it holds
               more than half its cap, i.e. a child start and a model load per page (default on)
  --engine auto|tesseract|tesseract.js
               Quire's OCR engine (QUIRE_OCR_ENGINE; default auto, the workers' default: the
               tesseract program when installed)

Needs poppler's pdftoppm (to render the scanned PDFs) and the tesseract CLI for the baseline
(Debian/Ubuntu: apt-get install poppler-utils tesseract-ocr).`;

const flags = parseFlags(
  z.object({
    runs: positiveInt.default(3),
    dpi: positiveInt.default(300),
    compareRecycle: z.enum(['on', 'off']).default('on'),
    cliNoise: z.enum(['on', 'off']).default('on'),
    engine: z.enum(['auto', 'tesseract', 'tesseract.js']).default('auto'),
  }),
  USAGE,
);

const CONCURRENCIES = [1, 2] as const;
const CAP_MB = DEFAULT_LOAD_LIMITS.parseMaxMemoryMb;
const SCANS = ['pdf/ocrmypdf__scanned_book_page.pdf', 'pdf/ocrmypdf__scanned_6pages.pdf'];
const MIB = 2 ** 20;

interface Page {
  set: 'corpus' | 'generated';
  name: string;
  path: string;
  bytes: Uint8Array;
  /** Known text of a generated page. */
  known?: string;
  /** A corpus page rendered at dpi-1 and dpi+1 (`--cli-noise on`). */
  nearby?: string[];
}

/** Words of `expected` (as a multiset) found in `read`, and how many words `expected` has. */
function matched(expected: string, read: string): { found: number; total: number } {
  const total = ocrWords(expected).length;
  return { found: Math.round(wordRecall(expected, read) * total), total };
}

/** Matched words over all expected words of several pages (a micro-average), 1 when there are none. */
function pooled(counts: ReadonlyArray<{ found: number; total: number }>): number {
  const total = counts.reduce((sum, c) => sum + c.total, 0);
  return total === 0 ? 1 : counts.reduce((sum, c) => sum + c.found, 0) / total;
}

async function cliRead(path: string, tessdata: string): Promise<string> {
  const { stdout } = await run(
    'tesseract',
    [path, 'stdout', '-l', 'eng', '--oem', '1', '--psm', '3', '--tessdata-dir', tessdata],
    { env: { ...process.env, OMP_THREAD_LIMIT: '1' }, maxBuffer: 64 * MIB },
  );
  return stdout;
}

const tmp = await makeTempDir('bench-ocr');
try {
  await main();
} finally {
  await tmp.cleanup();
}

async function main(): Promise<void> {
  const corpus = corpusDir();
  const pages: Page[] = [];
  // The corpus scans, rendered once as the loader renders them (grey PGM, at `dpi` or less for a page
  // over the pixel limit), so both tools read the same pixels.
  const { maxOcrPixels: maxPixels } = resolveOcrSettings({});
  for (const scan of SCANS) {
    const bytes = await readFile(join(corpus, scan));
    const rasteriser = await PdfRasteriser.open(bytes, scan, {
      dpi: flags.dpi,
      maxPixels,
      timeoutMs: 120_000,
    });
    try {
      const { stdout } = await run('pdfinfo', [join(corpus, scan)]);
      const count = Number(/^Pages:\s+(\d+)/m.exec(stdout)?.[1] ?? 0);
      for (let page = 1; page <= count; page++) {
        const path = join(tmp.path, `${scan.replace(/[/.]/g, '_')}-${page}.pgm`);
        const image = await rasteriser.page(page);
        await writeFile(path, image);
        pages.push({ set: 'corpus', name: `${scan}#${page}`, path, bytes: image, nearby: [] });
      }
    } finally {
      await rasteriser.close();
    }
    if (flags.cliNoise === 'on') {
      for (const dpi of [flags.dpi - 1, flags.dpi + 1]) {
        const nearby = await PdfRasteriser.open(bytes, scan, { dpi, maxPixels, timeoutMs: 120_000 });
        try {
          for (const page of pages.filter((p) => p.name.startsWith(`${scan}#`))) {
            const path = page.path.replace(/\.pgm$/, `-${dpi}dpi.pgm`);
            await writeFile(path, await nearby.page(Number(page.name.split('#')[1])));
            page.nearby?.push(path);
          }
        } finally {
          await nearby.close();
        }
      }
    }
  }
  const generated: Array<[string, readonly string[]]> = [
    ['lease', OCR_ENGLISH_PAGE],
    ['bail (fr)', OCR_FRENCH_PAGE],
    ['lease, small print', OCR_ENGLISH_PAGE],
  ];
  for (const [name, lines] of generated) {
    const path = join(tmp.path, `${name.replace(/\W+/g, '-')}.png`);
    const png = await renderTextPage(lines, name.includes('small') ? { fontSize: 34 } : {});
    await writeFile(path, png);
    pages.push({ set: 'generated', name, path, bytes: png, known: lines.join('\n') });
  }

  // The same language data for both: the npm package's model, unpacked for the CLI.
  const eng = findOcrLanguage('eng');
  if (eng === undefined) throw new Error('the eng language data is not installed');
  const tessdata = join(tmp.path, 'tessdata');
  await mkdir(tessdata);
  const model = await readFile(eng.path);
  await writeFile(join(tessdata, 'eng.traineddata'), eng.path.endsWith('.gz') ? gunzipSync(model) : model);
  const { stdout: cliVersion } = await run('tesseract', ['--version']);

  printLine(
    `OCR benchmark: ${pages.length} pages (${pages.filter((p) => p.set === 'corpus').length} from the corpus scans at ${flags.dpi} dpi, ${pages.filter((p) => p.set === 'generated').length} generated), language eng (${eng.source}: ${eng.path})`,
  );
  printLine(
    `baseline: ${cliVersion.split('\n')[0]} --oem 1 --psm 3, OMP_THREAD_LIMIT=1, one process per page`,
  );
  printLine(`Quire's engine: ${(await resolveOcrEngine(flags.engine)).recipe} (--engine ${flags.engine})`);
  printLine(
    `sandbox: an OCR child keeps its Tesseract worker while it holds up to ${Math.round(OCR_KEEP_RSS_SHARE * CAP_MB)} MiB after a page, for ${OCR_PAGES_PER_CHILD} pages`,
  );

  const quireTexts = new Map<string, string>();
  const cliTexts = new Map<string, string>();
  const rows: Record<string, string | number>[] = [];
  const results: Record<string, unknown> = {};
  let peakChildMb = 0;
  let peakTreeMb = 0;
  const compare = flags.compareRecycle === 'on';
  for (const concurrency of CONCURRENCIES) {
    const finished: ParseFinishedEvent[] = [];
    // Children stay through the CLI's passes (as in a worker with scans queued): a timed pass
    // measures warm children, the first pass cold ones.
    const idleTimeoutMs = 3_600_000;
    const sandbox = new ParseSandbox({
      size: concurrency,
      idleTimeoutMs,
      observer: { parseFinished: (e) => finished.push(e) },
    });
    // As before OCR children kept their engine: a child holding more than half its cap is replaced.
    const previousFinished: ParseFinishedEvent[] = [];
    const previous = compare
      ? new ParseSandbox({
          size: concurrency,
          idleTimeoutMs,
          kinds: { ocr: { recycleRssShare: 0.5 } },
          observer: { parseFinished: (e) => previousFinished.push(e) },
        })
      : undefined;
    const settings = resolveOcrSettings({ langs: ['eng'], concurrency, engine: flags.engine });
    const sources: OcrPageSource[] = pages.map((p, i) => ({
      page: i + 1,
      frame: 0,
      image: async () => p.bytes,
    }));
    const limits = { ...DEFAULT_LOAD_LIMITS, parseTimeoutMs: 600_000 };
    // One untimed pass starts the children and loads the model, as in a running worker; its
    // pages/s is what the first scan a fresh worker reads gets.
    let started = performance.now();
    await ocrPages(sources, 'bench', { settings }, { limits, sandbox });
    const coldPagesPerSecond = pages.length / ((performance.now() - started) / 1000);
    if (previous !== undefined) await ocrPages(sources, 'bench', { settings }, { limits, sandbox: previous });
    const quireRuns: number[] = [];
    const previousRuns: number[] = [];
    const cliRuns: number[] = [];
    const childStarts = { quire: 0, previous: 0 };
    for (let r = 0; r < flags.runs; r++) {
      const watcher = new TreeRssWatcher(process.pid);
      let startedChildren = sandbox.stats().started;
      started = performance.now();
      const read = await ocrPages(sources, 'bench', { settings }, { limits, sandbox });
      quireRuns.push(pages.length / ((performance.now() - started) / 1000));
      childStarts.quire += sandbox.stats().started - startedChildren;
      peakTreeMb = Math.max(peakTreeMb, watcher.stop() / MIB);
      for (const [i, result] of read.entries()) quireTexts.set(pages[i]!.name, result.text);

      if (previous !== undefined) {
        startedChildren = previous.stats().started;
        started = performance.now();
        await ocrPages(sources, 'bench', { settings }, { limits, sandbox: previous });
        previousRuns.push(pages.length / ((performance.now() - started) / 1000));
        childStarts.previous += previous.stats().started - startedChildren;
      }

      started = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < pages.length) {
            const page = pages[next++]!;
            cliTexts.set(page.name, await cliRead(page.path, tessdata));
          }
        }),
      );
      cliRuns.push(pages.length / ((performance.now() - started) / 1000));
    }
    const stats = sandbox.stats();
    await sandbox.close();
    await previous?.close();
    const childPeak = Math.max(...finished.map((e) => e.peakRssBytes)) / MIB;
    peakChildMb = Math.max(peakChildMb, childPeak);
    const quire = median(quireRuns);
    const cli = median(cliRuns);
    const before = previousRuns.length === 0 ? undefined : median(previousRuns);
    const timedPages = flags.runs * pages.length;
    rows.push({
      concurrency,
      'quire pages/s': round(quire),
      'cli pages/s': round(cli),
      'quire / cli': times(ratio(quire, cli)),
      'child starts / page': round(childStarts.quire / timedPages),
      'first pass pages/s': round(coldPagesPerSecond),
      ...(before === undefined
        ? {}
        : {
            'child per page: pages/s': round(before),
            'its / cli': times(ratio(before, cli)),
            'its starts / page': round(childStarts.previous / timedPages),
            'quire / it': times(ratio(quire, before)),
          }),
      'peak child RSS MiB': Math.round(childPeak),
    });
    results[`c${concurrency}`] = {
      quirePagesPerSecond: quireRuns,
      cliPagesPerSecond: cliRuns,
      childPerPagePagesPerSecond: previousRuns,
      quire,
      cli,
      ratio: ratio(quire, cli),
      firstPassPagesPerSecond: coldPagesPerSecond,
      childStartsPerPage: childStarts.quire / timedPages,
      ...(before === undefined
        ? {}
        : {
            childPerPage: before,
            childPerPageRatio: ratio(before, cli),
            childPerPageStartsPerPage: childStarts.previous / timedPages,
            peakChildPerPageRssMb: Math.max(...previousFinished.map((e) => e.peakRssBytes)) / MIB,
          }),
      sandbox: stats,
      peakChildRssMb: childPeak,
    };
  }
  printTable(`Throughput (median of ${flags.runs} runs) and memory (cap ${CAP_MB} MiB per child)`, rows);

  // The CLI against itself on the same page rendered 1 dpi coarser and finer: the recall a page
  // gets from pixel noise alone, whichever engine reads it.
  const noise = new Map<string, { found: number; total: number }[]>();
  if (flags.cliNoise === 'on') {
    for (const page of pages) {
      const reference = cliTexts.get(page.name) ?? '';
      const counts = [];
      for (const path of page.nearby ?? []) counts.push(matched(reference, await cliRead(path, tessdata)));
      if (counts.length > 0) noise.set(page.name, counts);
    }
  }
  const perPage = pages.map((p) => ({
    page: p,
    vsCli: matched(cliTexts.get(p.name) ?? '', quireTexts.get(p.name) ?? ''),
  }));
  const recallRows = perPage.map(({ page: p, vsCli }) => {
    const quire = quireTexts.get(p.name) ?? '';
    const cli = cliTexts.get(p.name) ?? '';
    const selfCounts = noise.get(p.name);
    return {
      set: p.set,
      page: p.name,
      'cli words': vsCli.total,
      'recall vs cli': round(pooled([vsCli])),
      ...(flags.cliNoise === 'on'
        ? {
            [`cli ${flags.dpi - 1}/${flags.dpi + 1} dpi vs cli`]:
              selfCounts === undefined ? '–' : selfCounts.map((c) => round(pooled([c]))).join(' / '),
          }
        : {}),
      'quire vs known': p.known === undefined ? '–' : round(wordRecall(p.known, quire)),
      'cli vs known': p.known === undefined ? '–' : round(wordRecall(p.known, cli)),
    };
  });
  printTable(
    "Word recall of Quire's text against the CLI's, per page (and both against the known text of generated pages)",
    recallRows,
  );
  const inSet = (set?: Page['set']) => perPage.filter((r) => set === undefined || r.page.set === set);
  const bySet = (set: Page['set']) => inSet(set).map((r) => pooled([r.vsCli]));
  const noiseCounts = [...noise.values()];
  const summary = {
    /** Matched words over all the CLI's words, all pages: what the ≥ 0.95 target is judged on. */
    pooledRecall: pooled(inSet().map((r) => r.vsCli)),
    corpusPooledRecall: pooled(inSet('corpus').map((r) => r.vsCli)),
    generatedPooledRecall: pooled(inSet('generated').map((r) => r.vsCli)),
    corpusRecallMedian: median(bySet('corpus')),
    corpusRecallMin: Math.min(...bySet('corpus')),
    generatedRecallMedian: median(bySet('generated')),
    ...(noiseCounts.length === 0
      ? {}
      : {
          cliNoiseCorpusPooledRecall: [0, 1].map((i) => pooled(noiseCounts.map((c) => c[i]!))),
        }),
    throughputRatioAtConcurrency2: (results.c2 as { ratio: number }).ratio,
    peakChildRssMb: Math.round(peakChildMb),
    peakTreeRssMb: Math.round(peakTreeMb),
    capMb: CAP_MB,
  };
  printLine();
  printLine(
    `recall vs CLI, pooled (matched words / CLI words): all pages ${summary.pooledRecall.toFixed(3)}, corpus ${summary.corpusPooledRecall.toFixed(3)}, generated ${summary.generatedPooledRecall.toFixed(3)}; ` +
      `per page: corpus median ${summary.corpusRecallMedian.toFixed(3)} (min ${summary.corpusRecallMin.toFixed(3)}), generated median ${summary.generatedRecallMedian.toFixed(3)}` +
      (summary.cliNoiseCorpusPooledRecall === undefined
        ? ''
        : `; the CLI against itself at ${flags.dpi - 1}/${flags.dpi + 1} dpi, corpus pooled: ${summary.cliNoiseCorpusPooledRecall.map((v) => v.toFixed(3)).join(' / ')}`),
  );
  printLine(
    `throughput at concurrency 2: ${times(summary.throughputRatioAtConcurrency2)} the CLI; peak child RSS ${summary.peakChildRssMb} MiB of ${CAP_MB} MiB (whole tree ${summary.peakTreeRssMb} MiB)`,
  );
  const path = writeResults('ocr', {
    machine: machineInfo(),
    flags,
    pages: pages.map((p) => p.name),
    results,
    recall: recallRows,
    summary,
  });
  printLine(`results: ${path}`);
}
