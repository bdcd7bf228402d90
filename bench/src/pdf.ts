/**
 * PDF extraction: pages/s of Quire's loadDocument (pdf.js in the parse sandbox's child processes)
 * against the previous isolation (pdf.js on worker threads) and poppler's pdftotext on the same PDFs,
 * one at a time and two at a time (the machine's two cores); the fixed cost per PDF; peak RSS of the
 * whole process tree on a generated 1,000-page PDF and on a hostile PDF, beside the sandbox's cap.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeContentStreamBombPdf, makePdf, makeTempDir, spawnProcess, TreeRssWatcher } from '@quire/testkit';
import { z } from 'zod';
import { parseFlags, positiveInt } from './lib/args.js';
import { type CorpusFile, pdfFiles } from './lib/corpus.js';
import { corpusDir } from './lib/env.js';
import { machineInfo, printLine, printTable, times, writeResults } from './lib/report.js';
import { median, ratio, summarize } from './lib/stats.js';
import {
  closeSandboxes,
  closeThreads,
  pdftotextText,
  pdftotextVersion,
  pool,
  recallWords,
  runLoadDocument,
  runPdfParse,
  runPdftotext,
  runThreads,
  SANDBOX_CAP_MB,
  setSandboxLayout,
  wordRecall,
} from './pdf/tools.js';

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

const USAGE = `pnpm bench:pdf [flags]
  --runs N           timed passes over the corpus PDFs per tool and concurrency (default 5)
  --large-pages N    pages of the generated PDF for the memory test (default 1000)
  --large-runs N     runs on the generated PDF (default 3)
  --sandbox L        per-engine (default: each engine's parses in a sandbox of its own, as in a
                     worker, which uses one engine) or shared (one sandbox for both engines)

Needs poppler's pdftotext for the comparison (Debian/Ubuntu: apt-get install poppler-utils);
without it only Quire's figures are printed.`;

const flags = parseFlags(
  z.object({
    runs: positiveInt.default(5),
    largePages: positiveInt.default(1000),
    largeRuns: positiveInt.default(3),
    sandbox: z.enum(['per-engine', 'shared']).default('per-engine'),
  }),
  USAGE,
);

const RSS_CHILD = fileURLToPath(new URL('./pdf/rss-child.ts', import.meta.url));
const CONCURRENCIES = [1, 2] as const;
/**
 * quire: loadDocument (the parse sandbox) with the pdfjs engine; quire-poppler: the same with the
 * poppler engine; threads: the previous isolation (pdf.js on worker threads, pdfjs's baseline);
 * pdftotext: poppler, a process per PDF; pdf-parse: pdf.js on the calling thread.
 */
const TOOLS = ['quire', 'quire-poppler', 'threads', 'pdftotext', 'pdf-parse'] as const;
type Tool = (typeof TOOLS)[number];

/** Deterministic prose-like lines: a page of a report, 46 lines of about 85 characters. */
function generatedPages(count: number): string[][] {
  const words =
    'the of and to in is that for it as with was on be by this are from at or an which have not were has its but all their'
      .concat(
        ' ingestion retrieval passage citation tenant vector embedding document chunk answer question model',
      )
      .split(' ');
  let seed = 42;
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed;
  };
  return Array.from({ length: count }, (_, page) => [
    `Section ${page + 1}`,
    ...Array.from({ length: 45 }, () => {
      let line = '';
      while (line.length < 85) line += `${words[next() % words.length]} `;
      return line.trim();
    }),
  ]);
}

async function main() {
  const machine = machineInfo();
  setSandboxLayout(flags.sandbox);
  const files = pdfFiles(corpusDir());
  const poppler = pdftotextVersion();
  printLine(
    `PDF extraction benchmark: ${files.length} corpus PDFs, ${flags.runs} run(s) per tool and concurrency`,
  );
  printLine(`machine: ${machine.cpus} × ${machine.cpuModel}, load average ${machine.loadAverage.join(' ')}`);
  printLine(`parse sandbox: ${flags.sandbox === 'shared' ? 'one for both engines' : 'one per engine'}`);
  if (!poppler) {
    printLine(
      'pdftotext not found: the comparison with poppler is skipped. Install it with `apt-get install poppler-utils` (Debian/Ubuntu).',
    );
  } else printLine(`poppler: ${poppler}`);

  // Warm-up pass: file cache, module loading; also gives the page counts.
  const warm = await pool(files, 2, (f) => runLoadDocument(f.path));
  await pool(files, 2, (f) => runThreads(f.path));
  const pages = warm.results.reduce((sum, r) => sum + r.pages, 0);
  if (poppler) {
    await pool(files, 2, (f) => runPdftotext(f.path));
    await pool(files, 2, (f) => runLoadDocument(f.path, 2000, 'poppler'));
  }
  printLine(`${pages} pages in total`);

  // Word recall of the pdfjs engine against pdftotext, per file, both normalised the same way.
  const recallRows: Array<{
    file: string;
    words: number;
    'pdfjs recall': number;
    'poppler engine recall': number;
    'pdfjs vs media box': number;
  }> = [];
  if (poppler) {
    for (const [i, f] of files.entries()) {
      // pdftotext inside each page's crop box, what a reader and pdf.js show: like with like.
      const reference = pdftotextText(f.path, { cropBox: true });
      const popplerText = (await runLoadDocument(f.path, 2000, 'poppler')).text;
      recallRows.push({
        file: f.name,
        words: recallWords(reference).length,
        'pdfjs recall': round(wordRecall(warm.results[i]!.text, reference)),
        'poppler engine recall': round(wordRecall(popplerText, reference)),
        // Against the whole media box, slug lines and crop marks outside the crop box included.
        'pdfjs vs media box': round(wordRecall(warm.results[i]!.text, pdftotextText(f.path))),
      });
    }
    printTable(
      'word recall against pdftotext inside the crop box (hyphenation joined, NFKC, lower case), per file',
      recallRows,
    );
    const recalls = recallRows.map((r) => r['pdfjs recall']);
    printLine(
      `pdfjs recall: median ${round(median(recalls))}, min ${Math.min(...recalls)}; files below 0.98: ${recallRows.filter((r) => r['pdfjs recall'] < 0.98).length} of ${recallRows.length}`,
    );
  }

  type Pass = {
    tool: Tool;
    concurrency: number;
    run: number;
    ms: number;
    pagesPerSecond: number;
  };
  const passes: Pass[] = [];
  for (let run = 1; run <= flags.runs; run++) {
    for (const concurrency of CONCURRENCIES) {
      const tools: Tool[] = ['quire', 'threads'];
      if (poppler) tools.push('pdftotext', 'quire-poppler');
      // pdf-parse on one thread cannot use a second core: it runs at concurrency 1 only.
      if (concurrency === 1) tools.push('pdf-parse');
      if (run % 2 === 0) tools.reverse();
      for (const tool of tools) {
        const task: Record<Tool, (f: CorpusFile) => Promise<{ ms: number }>> = {
          quire: (f) => runLoadDocument(f.path),
          'quire-poppler': (f) => runLoadDocument(f.path, 2000, 'poppler'),
          threads: (f) => runThreads(f.path),
          pdftotext: (f) => runPdftotext(f.path),
          'pdf-parse': (f) => runPdfParse(f.path),
        };
        const { ms } = await pool(files, concurrency, task[tool]);
        passes.push({ tool, concurrency, run, ms, pagesPerSecond: pages / (ms / 1000) });
      }
    }
  }
  const corpusRows = [];
  for (const concurrency of CONCURRENCIES) {
    for (const tool of TOOLS) {
      const mine = passes.filter((p) => p.tool === tool && p.concurrency === concurrency);
      if (mine.length === 0) continue;
      const against = (baseline: Tool) =>
        mine
          .map((p) => {
            const other = passes.find(
              (o) => o.tool === baseline && o.concurrency === concurrency && o.run === p.run,
            );
            return other ? ratio(p.pagesPerSecond, other.pagesPerSecond) : Number.NaN;
          })
          .filter(Number.isFinite);
      const ratios = against('pdftotext');
      const threadRatios = against('threads');
      corpusRows.push({
        tool,
        concurrency,
        runs: mine.length,
        'wall ms p50': median(mine.map((p) => p.ms)),
        'pages/s p50': median(mine.map((p) => p.pagesPerSecond)),
        'pages/s min': Math.min(...mine.map((p) => p.pagesPerSecond)),
        'pages/s max': Math.max(...mine.map((p) => p.pagesPerSecond)),
        'vs pdftotext p50': tool === 'pdftotext' ? '1×' : ratios.length ? times(median(ratios)) : null,
        'vs threads p50':
          tool === 'threads' ? '1×' : threadRatios.length ? times(median(threadRatios)) : null,
      });
    }
  }
  printTable(`corpus PDFs (${pages} pages): throughput`, corpusRows);
  await closeThreads();

  // The fixed cost of one PDF: a one-page document, one at a time.
  const smallest = files.reduce((a, b) => (a.bytes <= b.bytes ? a : b));
  const fixed = { quire: [] as number[], threads: [] as number[], pdftotext: [] as number[] };
  for (let i = 0; i < 10; i++) {
    fixed.quire.push((await runLoadDocument(smallest.path)).ms);
    fixed.threads.push((await runThreads(smallest.path)).ms);
    if (poppler) fixed.pdftotext.push((await runPdftotext(smallest.path)).ms);
  }
  await closeThreads();
  await closeSandboxes();
  printTable(`fixed cost per PDF (${smallest.name}, ${smallest.bytes} bytes, one at a time, 10 runs)`, [
    { tool: 'quire', ...pick(summarize(fixed.quire)) },
    { tool: 'threads', ...pick(summarize(fixed.threads)) },
    ...(poppler ? [{ tool: 'pdftotext', ...pick(summarize(fixed.pdftotext)) }] : []),
  ]);

  // Memory and speed on one large PDF, each tool in a process of its own.
  const tmp = await makeTempDir('bench-pdf');
  const large = { quire: [] as LargeRun[], threads: [] as LargeRun[], pdftotext: [] as LargeRun[] };
  const hostile: LargeRun[] = [];
  try {
    const started = performance.now();
    const path = join(tmp.path, `generated-${flags.largePages}-pages.pdf`);
    const bytes = await makePdf(generatedPages(flags.largePages));
    await writeFile(path, bytes);
    printLine(
      `\ngenerated ${flags.largePages}-page PDF: ${(bytes.length / 2 ** 20).toFixed(1)} MiB in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    for (let run = 0; run < flags.largeRuns; run++) {
      large.quire.push(await loadInChild(path, flags.largePages, 'quire'));
      large.threads.push(await loadInChild(path, flags.largePages, 'threads'));
      if (poppler) {
        const r = await runPdftotext(path, { watchRss: true });
        large.pdftotext.push({ ms: r.ms, peakRssMb: r.peakRssMb ?? Number.NaN, baselineRssMb: null });
      }
    }
    // A hostile PDF: one content stream that grows by tens of MiB a second until something stops it.
    const bombPath = join(tmp.path, 'hostile-content-stream.pdf');
    await writeFile(bombPath, makeContentStreamBombPdf());
    for (let run = 0; run < flags.largeRuns; run++) hostile.push(await loadInChild(bombPath, 0, 'quire'));
  } finally {
    await tmp.cleanup();
  }
  const largeRows = (['quire', 'threads', 'pdftotext'] as const)
    .filter((tool) => large[tool].length > 0)
    .map((tool) => ({
      tool,
      runs: large[tool].length,
      'ms p50': median(large[tool].map((r) => r.ms)),
      'pages/s p50': median(large[tool].map((r) => flags.largePages / (r.ms / 1000))),
      'peak RSS MiB p50': median(large[tool].map((r) => r.peakRssMb)),
      'peak child RSS MiB p50':
        tool === 'quire' ? median(large.quire.map((r) => r.peakChildRssMb ?? 0)) : null,
      'cap MiB': tool === 'quire' ? SANDBOX_CAP_MB : null,
      'idle RSS MiB':
        tool === 'pdftotext' ? null : median(large[tool].map((r) => r.baselineRssMb ?? Number.NaN)),
    }));
  printTable(
    `generated ${flags.largePages}-page PDF, one process per run (peak RSS: the process and its children)`,
    largeRows,
  );
  const hostileRows = [
    {
      tool: 'quire',
      runs: hostile.length,
      'ms to fail p50': median(hostile.map((r) => r.ms)),
      'peak RSS MiB p50': median(hostile.map((r) => r.peakRssMb)),
      'peak child RSS MiB max': Math.max(...hostile.map((r) => r.peakChildRssMb ?? 0)),
      'cap MiB': SANDBOX_CAP_MB,
      failure: hostile[0]?.error ?? '(loaded: not expected)',
    },
  ];
  printTable('hostile PDF (content stream growing without end), one process per run', hostileRows);

  const path = writeResults('pdf', {
    benchmark: 'pdf',
    machine,
    flags,
    poppler,
    files: files.map((f, i) => ({ name: f.name, bytes: f.bytes, pages: warm.results[i]!.pages })),
    pages,
    corpus: corpusRows,
    recall: recallRows,
    passes,
    fixedCost: { file: smallest.name, quireMs: fixed.quire, pdftotextMs: fixed.pdftotext },
    large: { pages: flags.largePages, rows: largeRows, runs: large },
    hostile: { capMb: SANDBOX_CAP_MB, rows: hostileRows, runs: hostile },
  });
  printLine(`\nresults: ${path}`);
}

interface LargeRun {
  ms: number;
  /** Peak RSS of the process and of its children together, in MiB. */
  peakRssMb: number;
  /** Peak RSS of the process's children alone (the parse sandbox's child), in MiB. */
  peakChildRssMb?: number;
  /** RSS of the process before it loads the PDF (Node.js, tsx and Quire's modules). */
  baselineRssMb: number | null;
  /** The load's failure, for the hostile PDF. */
  error?: string;
}

/** One load in a child process; the RSS of it and its children is sampled from here every 20 ms. */
async function loadInChild(path: string, pages: number, tool: 'quire' | 'threads'): Promise<LargeRun> {
  const child = await spawnProcess(
    process.execPath,
    ['--import', import.meta.resolve('tsx'), RSS_CHILD, path, String(pages), tool],
    { readyLine: /^START$/, readyTimeoutMs: 60_000 },
  );
  const tree = new TreeRssWatcher(child.pid);
  const exit = await child.exited;
  const peakTreeMb = tree.stop() / 2 ** 20;
  const line = child.lines.find((l) => l.stream === 'stdout' && l.text.startsWith('RESULT '));
  if (exit.code !== 0 || line === undefined) {
    throw new Error(
      `loading ${path} failed (exit ${exit.code ?? exit.signal}):\n${child.output().slice(-3000)}`,
    );
  }
  const result = JSON.parse(line.text.slice('RESULT '.length)) as {
    ms: number;
    pages: number;
    baselineRssMb: number | null;
    hwmMb: number | null;
    error?: string;
  };
  if (pages > 0 && result.pages !== pages) {
    throw new Error(`${path} loaded with ${result.pages} pages, expected ${pages}: ${result.error ?? ''}`);
  }
  const ownPeak = result.hwmMb ?? 0;
  return {
    ms: result.ms,
    peakRssMb: Math.max(peakTreeMb, ownPeak),
    ...(tool === 'quire' ? { peakChildRssMb: tree.peakChildrenBytes / 2 ** 20 } : {}),
    baselineRssMb: result.baselineRssMb,
    ...(result.error === undefined ? {} : { error: result.error }),
  };
}

function pick(s: ReturnType<typeof summarize>) {
  return { runs: s.n, 'ms p50': s.p50, 'ms p95': s.p95, 'ms min': s.min };
}

await main();
