/**
 * OCR: pages/s of Quire's OCR (tesseract.js in the parse sandbox's children, one task per page)
 * against the `tesseract` command-line program (Debian's, one process per page, one thread each)
 * on the same page images with the same language data, one page at a time and two at a time (the
 * machine's two cores); the peak RSS of a sandbox child against its cap; and the word recall of
 * Quire's text against the CLI's on the shared corpus's two scanned PDFs and on generated pages
 * (whose known text both tools are also scored against).
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import {
  DEFAULT_LOAD_LIMITS,
  findOcrLanguage,
  type OcrPageSource,
  ocrPages,
  type ParseFinishedEvent,
  ParseSandbox,
  PdfRasteriser,
  resolveOcrSettings,
} from '@quire/core';
import {
  makeTempDir,
  OCR_ENGLISH_PAGE,
  OCR_FRENCH_PAGE,
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

Needs poppler's pdftoppm (to render the scanned PDFs) and the tesseract CLI for the baseline
(Debian/Ubuntu: apt-get install poppler-utils tesseract-ocr).`;

const flags = parseFlags(z.object({ runs: positiveInt.default(3), dpi: positiveInt.default(300) }), USAGE);

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
        pages.push({ set: 'corpus', name: `${scan}#${page}`, path, bytes: image });
      }
    } finally {
      await rasteriser.close();
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

  const quireTexts = new Map<string, string>();
  const cliTexts = new Map<string, string>();
  const rows: Record<string, string | number>[] = [];
  const results: Record<string, unknown> = {};
  let peakChildMb = 0;
  let peakTreeMb = 0;
  for (const concurrency of CONCURRENCIES) {
    const finished: ParseFinishedEvent[] = [];
    const sandbox = new ParseSandbox({
      size: concurrency,
      observer: { parseFinished: (e) => finished.push(e) },
    });
    const settings = resolveOcrSettings({ langs: ['eng'], concurrency });
    const sources: OcrPageSource[] = pages.map((p, i) => ({
      page: i + 1,
      frame: 0,
      image: async () => p.bytes,
    }));
    const limits = { ...DEFAULT_LOAD_LIMITS, parseTimeoutMs: 600_000 };
    // One untimed pass starts the children and loads the model, as in a running worker.
    await ocrPages(sources, 'bench', { settings }, { limits, sandbox });
    const quireRuns: number[] = [];
    const cliRuns: number[] = [];
    for (let r = 0; r < flags.runs; r++) {
      const watcher = new TreeRssWatcher(process.pid);
      let started = performance.now();
      const read = await ocrPages(sources, 'bench', { settings }, { limits, sandbox });
      quireRuns.push(pages.length / ((performance.now() - started) / 1000));
      peakTreeMb = Math.max(peakTreeMb, watcher.stop() / MIB);
      for (const [i, result] of read.entries()) quireTexts.set(pages[i]!.name, result.text);

      started = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < pages.length) {
            const page = pages[next++]!;
            const { stdout } = await run(
              'tesseract',
              [page.path, 'stdout', '-l', 'eng', '--oem', '1', '--psm', '3', '--tessdata-dir', tessdata],
              { env: { ...process.env, OMP_THREAD_LIMIT: '1' }, maxBuffer: 64 * MIB },
            );
            cliTexts.set(page.name, stdout);
          }
        }),
      );
      cliRuns.push(pages.length / ((performance.now() - started) / 1000));
    }
    await sandbox.close();
    const childPeak = Math.max(...finished.map((e) => e.peakRssBytes)) / MIB;
    peakChildMb = Math.max(peakChildMb, childPeak);
    const quire = median(quireRuns);
    const cli = median(cliRuns);
    rows.push({
      concurrency,
      'quire pages/s': round(quire),
      'cli pages/s': round(cli),
      'quire / cli': times(ratio(quire, cli)),
      'peak child RSS MiB': Math.round(childPeak),
    });
    results[`c${concurrency}`] = {
      quirePagesPerSecond: quireRuns,
      cliPagesPerSecond: cliRuns,
      quire,
      cli,
      ratio: ratio(quire, cli),
      peakChildRssMb: childPeak,
    };
  }
  printTable(`Throughput (median of ${flags.runs} runs) and memory (cap ${CAP_MB} MiB per child)`, rows);

  const recallRows = pages.map((p) => {
    const quire = quireTexts.get(p.name) ?? '';
    const cli = cliTexts.get(p.name) ?? '';
    return {
      set: p.set,
      page: p.name,
      'recall vs cli': round(wordRecall(cli, quire)),
      'quire vs known': p.known === undefined ? '–' : round(wordRecall(p.known, quire)),
      'cli vs known': p.known === undefined ? '–' : round(wordRecall(p.known, cli)),
    };
  });
  printTable(
    "Word recall of Quire's text against the CLI's (and both against the known text of generated pages)",
    recallRows,
  );
  const bySet = (set: Page['set']) =>
    recallRows.filter((r) => r.set === set).map((r) => r['recall vs cli'] as number);
  const summary = {
    corpusRecallMedian: median(bySet('corpus')),
    corpusRecallMin: Math.min(...bySet('corpus')),
    generatedRecallMedian: median(bySet('generated')),
    throughputRatioAtConcurrency2: (results.c2 as { ratio: number }).ratio,
    peakChildRssMb: Math.round(peakChildMb),
    peakTreeRssMb: Math.round(peakTreeMb),
    capMb: CAP_MB,
  };
  printLine();
  printLine(
    `recall vs CLI: corpus median ${summary.corpusRecallMedian.toFixed(3)} (min ${summary.corpusRecallMin.toFixed(3)}), generated median ${summary.generatedRecallMedian.toFixed(3)}; ` +
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
