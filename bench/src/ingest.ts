/**
 * Ingestion throughput: Quire (N ingest worker processes, real Redis, the producer SDK) against the
 * LangChain.js pipeline a user would write, on the same corpus files, each against a fresh testkit
 * model server with the same latency and rate limits. Prints docs/s, chunks/s, tokens/s, 429s, the
 * share of the provider's rate bound reached, and Quire ÷ LangChain ratios from the same round.
 *
 * Two scenarios: `latency` (the provider answers with latency, no rate limit binds: what each pipeline
 * does with its own time) and `rate` (a tokens-per-minute limit binds: how close each gets to it).
 */
import { resolve } from 'node:path';
import { getTestRedis, type RunningModelServer, startModelServer } from '@quire/testkit';
import { z } from 'zod';
import { type LangChainRunResult, runLangChain } from './ingest/langchain-run.js';
import { type QuireRunResult, runQuire } from './ingest/quire-run.js';
import { intList, nonNegative, parseFlags, positiveInt } from './lib/args.js';
import { type CorpusFile, type CorpusSet, ingestionFiles } from './lib/corpus.js';
import { corpusDir } from './lib/env.js';
import { machineInfo, percent, printLine, printTable, times, writeResults } from './lib/report.js';
import { type ProviderUse, ServerSampler } from './lib/server-sampler.js';
import { median, ratio } from './lib/stats.js';
import { BUILTIN_MODEL_ENV } from './lib/workers.js';

const USAGE = `pnpm bench:ingest [flags]
  --set small|full           latency scenario's files: small leaves out the two large CJK novels (default full)
  --rate-set small|full      rate scenario's files (default small: at its defaults the LangChain.js pipeline
                             cannot ingest the full set under a binding TPM, one of its 512-chunk batches
                             of the Chinese novel holding more tokens than a minute's budget)
  --copies N                 ingest every file N times as distinct documents (default 1)
  --runs N                   rounds; each runs every pipeline once, order alternating (default 3)
  --workers 1,2,4            Quire ingest worker processes to try (default 1,2,4)
  --ingest-concurrency N     INGEST_CONCURRENCY of each worker (default 2, the worker's default)
  --scenario both|latency|rate  (default both)
  --latency-ms N             provider latency per request (default 100)
  --latency-per-input-ms N   provider latency per embedded input (default 2)
  --rpm N                    rate scenario: requests per minute (default 600)
  --tpm N                    rate scenario: tokens per minute, as the server counts them (default 200000)
  --lc-chunk-size N          LangChain splitter chunk size in characters (default 1600 ≈ Quire's 400 tokens)
  --lc-chunk-overlap N       LangChain splitter overlap in characters (default 200 ≈ Quire's 50 tokens)
  --quire-ocr auto|off       QUIRE_OCR of the ingest workers (default auto, the workers' default: image-only
                             pages are read by OCR; off: not read, as the LangChain.js pipeline does)
  --quire-ocr-engine auto|tesseract|tesseract.js
                             QUIRE_OCR_ENGINE of the ingest workers (default auto, the workers' default:
                             Tesseract's program when installed)
  --cpu-profile-dir DIR      ingest workers write V8 CPU profiles there (read them with profile-summary)`;

const Flags = z.object({
  set: z.enum(['small', 'full']).default('full'),
  rateSet: z.enum(['small', 'full']).default('small'),
  copies: positiveInt.default(1),
  runs: positiveInt.default(3),
  workers: intList.default([1, 2, 4]),
  ingestConcurrency: positiveInt.default(2),
  scenario: z.enum(['both', 'latency', 'rate']).default('both'),
  latencyMs: nonNegative.default(100),
  latencyPerInputMs: nonNegative.default(2),
  rpm: positiveInt.default(600),
  tpm: positiveInt.default(200_000),
  lcChunkSize: positiveInt.default(1600),
  lcChunkOverlap: z.coerce.number().int().min(0).default(200),
  quireOcr: z.enum(['auto', 'off']).default('auto'),
  quireOcrEngine: z.enum(['auto', 'tesseract', 'tesseract.js']).default('auto'),
  cpuProfileDir: z.string().min(1).optional(),
});

const flags = parseFlags(Flags, USAGE);
const API_KEY = 'sk-bench';
const root = corpusDir();

interface Scenario {
  name: 'latency' | 'rate';
  set: CorpusSet;
  files: CorpusFile[];
  rpm: number | undefined;
  tpm: number | undefined;
}
const scenarios: Scenario[] = [];
if (flags.scenario !== 'rate') {
  scenarios.push({
    name: 'latency',
    set: flags.set,
    files: ingestionFiles(root, flags.set),
    rpm: undefined,
    tpm: undefined,
  });
}
if (flags.scenario !== 'latency') {
  scenarios.push({
    name: 'rate',
    set: flags.rateSet,
    files: ingestionFiles(root, flags.rateSet),
    rpm: flags.rpm,
    tpm: flags.tpm,
  });
}

interface Measurement {
  scenario: Scenario['name'];
  round: number;
  pipeline: string;
  docs: number;
  completed: number;
  chunks: number;
  wallSeconds: number;
  docsPerSecond: number;
  chunksPerSecond: number;
  provider: ProviderUse;
  langchain?: LangChainRunResult;
  /** Whole-process-tree CPU seconds of the pipeline during the run. */
  cpuSeconds: number;
  quire?: QuireRunResult;
}

async function withServer<T>(
  scenario: Scenario,
  run: (server: RunningModelServer, start: () => void, end: () => void) => Promise<T>,
): Promise<{ value: T; provider: ProviderUse }> {
  const server = await startModelServer({
    apiKey: API_KEY,
    latencyMs: flags.latencyMs,
    latencyPerInputMs: flags.latencyPerInputMs,
    ...(scenario.rpm !== undefined || scenario.tpm !== undefined
      ? {
          rateLimit: {
            ...(scenario.rpm !== undefined ? { requestsPerMinute: scenario.rpm } : {}),
            ...(scenario.tpm !== undefined ? { tokensPerMinute: scenario.tpm } : {}),
          },
        }
      : {}),
  });
  let sampler: ServerSampler | undefined;
  try {
    const value = await run(
      server,
      () => {
        sampler = new ServerSampler(server);
      },
      () => sampler?.end(),
    );
    if (!sampler) throw new Error('the pipeline never started');
    return {
      value,
      provider: sampler.stop({ requestsPerMinute: scenario.rpm, tokensPerMinute: scenario.tpm }),
    };
  } finally {
    await server.close({ graceMs: 1000 });
  }
}

async function measureLangChain(scenario: Scenario, round: number): Promise<Measurement> {
  const { value, provider } = await withServer(scenario, (server, start, end) =>
    runLangChain({
      files: scenario.files,
      copies: flags.copies,
      server,
      apiKey: API_KEY,
      model: BUILTIN_MODEL_ENV.QUIRE_EMBEDDING_MODEL,
      chunkSize: flags.lcChunkSize,
      chunkOverlap: flags.lcChunkOverlap,
      onStart: start,
      onEnd: end,
    }),
  );
  const seconds = value.ms.total / 1000;
  return {
    scenario: scenario.name,
    round,
    pipeline: 'langchain',
    docs: value.docs,
    completed: value.docs,
    chunks: value.chunks,
    wallSeconds: seconds,
    docsPerSecond: value.docs / seconds,
    chunksPerSecond: value.chunks / seconds,
    provider,
    langchain: value,
    cpuSeconds: value.treeCpuSeconds,
  };
}

async function measureQuire(scenario: Scenario, round: number, workers: number, redisUrl: string) {
  const { value, provider } = await withServer(scenario, (server, start, end) =>
    runQuire({
      workers,
      ingestConcurrency: flags.ingestConcurrency,
      files: scenario.files,
      copies: flags.copies,
      corpusRoot: root,
      redisUrl,
      server,
      apiKey: API_KEY,
      rpm: scenario.rpm ?? 0,
      tpm: scenario.tpm ?? 0,
      env: { QUIRE_OCR: flags.quireOcr, QUIRE_OCR_ENGINE: flags.quireOcrEngine },
      ...(flags.cpuProfileDir ? { cpuProfileDir: resolve(flags.cpuProfileDir) } : {}),
      onStart: start,
      onEnd: end,
    }),
  );
  const seconds = value.wallMs / 1000;
  return {
    scenario: scenario.name,
    round,
    pipeline: `quire×${workers}`,
    docs: value.docs,
    completed: value.completed,
    chunks: value.chunks,
    wallSeconds: seconds,
    docsPerSecond: value.completed / seconds,
    chunksPerSecond: value.chunks / seconds,
    provider,
    quire: value,
    cpuSeconds: value.cpuSeconds,
  } satisfies Measurement;
}

/** Whole-tree CPU seconds per million tokens the server counted. */
function cpuPerMillion(m: Measurement): number {
  return m.cpuSeconds / (m.provider.tokens / 1e6);
}

/** Where the CPU went: Quire by process (workers, their children by program), LangChain by phase. */
function cpuSplit(m: Measurement): string {
  const s = (n: number) => `${n.toFixed(2)} s`;
  if (m.quire) {
    const programs = Object.entries(m.quire.cpu.byProgram)
      .sort((a, b) => b[1] - a[1])
      .map(([name, cpu]) => `${name} ${s(cpu)}`);
    return `workers ${s(m.quire.cpu.roots)}, children ${s(m.quire.cpu.children)}${programs.length ? ` (${programs.join(', ')})` : ''}`;
  }
  const phase = m.langchain!.treeCpuByPhase;
  return `load ${s(phase.load)}, split ${s(phase.split)}, embed+store ${s(phase.embedStore)} (in-process figure ${s(m.langchain!.cpuSeconds)})`;
}

function row(m: Measurement) {
  const q = m.quire;
  return {
    scenario: m.scenario,
    round: m.round,
    pipeline: m.pipeline,
    'wall s': m.wallSeconds,
    docs: `${m.completed}/${m.docs}`,
    'docs/s': m.docsPerSecond,
    'chunks/s': m.chunksPerSecond,
    'srv tok/s': m.provider.tokens / m.provider.seconds,
    reqs: m.provider.requests,
    '429s': m.provider.rateLimited,
    'in-flight': m.provider.meanInFlight,
    'tok share': m.provider.tokenShare === null ? null : percent(m.provider.tokenShare),
    'req share': m.provider.requestShare === null ? null : percent(m.provider.requestShare),
    'tree cpu s': m.cpuSeconds,
    'cpu s/1M tok': cpuPerMillion(m),
    'Σload s': q ? q.stageMs.load! / 1000 : m.langchain!.ms.load / 1000,
    'Σembed s': q ? q.stageMs.embed_store! / 1000 : m.langchain!.ms.embedStore / 1000,
    'peak rss MB': q ? q.cpu.peakRssMb : m.langchain!.peakRssMb,
  };
}

async function main() {
  const machine = machineInfo();
  printLine(
    `ingestion benchmark: ${flags.runs} round(s), every file × ${flags.copies}, ` +
      `Quire workers ${flags.workers.join(', ')} (QUIRE_OCR=${flags.quireOcr}, QUIRE_OCR_ENGINE=${flags.quireOcrEngine}); provider latency ${flags.latencyMs} ms + ${flags.latencyPerInputMs} ms/input`,
  );
  printLine(`machine: ${machine.cpus} × ${machine.cpuModel}, load average ${machine.loadAverage.join(' ')}`);
  const redis = await getTestRedis();
  const measurements: Measurement[] = [];
  const failedRuns: { scenario: string; round: number; pipeline: string; error: string }[] = [];
  try {
    for (const scenario of scenarios) {
      printLine(
        `\nscenario ${scenario.name}: ${scenario.files.length} files (${scenario.set} set), ` +
          `${scenario.tpm ? `${scenario.rpm} requests/min, ${scenario.tpm} tokens/min` : 'no rate limit'}`,
      );
      for (let round = 1; round <= flags.runs; round++) {
        const order = ['langchain', ...flags.workers.map(String)];
        if (round % 2 === 0) order.reverse();
        for (const pipeline of order) {
          let m: Measurement;
          try {
            m =
              pipeline === 'langchain'
                ? await measureLangChain(scenario, round)
                : await measureQuire(scenario, round, Number(pipeline), redis.url);
          } catch (error) {
            // On a shared machine a process can be lost to others' clean-ups: keep the other runs.
            const message = error instanceof Error ? error.message : String(error);
            failedRuns.push({ scenario: scenario.name, round, pipeline, error: message });
            printLine(`  run failed (${scenario.name}, round ${round}, ${pipeline}): ${message}`);
            continue;
          }
          measurements.push(m);
          printTable('', [row(m)]);
          printLine(`  cpu: ${cpuSplit(m)}`);
          if (m.provider.rateLimitedAt.length > 0)
            printLine(`  429s sent at (s into the run): ${m.provider.rateLimitedAt.join(', ')}`);
          for (const failure of m.quire?.failures ?? [])
            printLine(`  failed: ${failure.document}: ${failure.reason}`);
        }
      }
    }
  } finally {
    await redis.stop();
  }

  const summary = summarise(measurements);
  const path = writeResults('ingest', {
    benchmark: 'ingest',
    machine,
    flags,
    scenarios: scenarios.map((sc) => ({
      name: sc.name,
      set: sc.set,
      rpm: sc.rpm ?? null,
      tpm: sc.tpm ?? null,
      files: sc.files.map((f) => ({ name: f.name, bytes: f.bytes })),
    })),
    summary,
    measurements,
    failedRuns,
  });
  printLine(`\nresults: ${path}`);
}

function summarise(measurements: Measurement[]) {
  const out = [];
  for (const scenario of scenarios) {
    const of = (pipeline: string) =>
      measurements.filter((m) => m.scenario === scenario.name && m.pipeline === pipeline);
    const baseline = of('langchain');
    const rows = [];
    for (const pipeline of ['langchain', ...flags.workers.map((n) => `quire×${n}`)]) {
      const ms = of(pipeline);
      const perRoundRatios = ms
        .map((m) => {
          const base = baseline.find((b) => b.round === m.round);
          return base ? ratio(m.docsPerSecond, base.docsPerSecond) : Number.NaN;
        })
        .filter(Number.isFinite);
      const perRoundCpuRatios = ms
        .map((m) => {
          const base = baseline.find((b) => b.round === m.round);
          return base ? ratio(cpuPerMillion(m), cpuPerMillion(base)) : Number.NaN;
        })
        .filter(Number.isFinite);
      const shares = ms
        .map((m) => Math.max(m.provider.tokenShare ?? Number.NaN, m.provider.requestShare ?? Number.NaN))
        .filter(Number.isFinite);
      const q = ms.map((m) => m.quire).filter((x): x is QuireRunResult => x !== undefined);
      rows.push({
        pipeline,
        runs: ms.length,
        'docs/s p50': median(ms.map((m) => m.docsPerSecond)),
        'chunks/s p50': median(ms.map((m) => m.chunksPerSecond)),
        'srv tok/s p50': median(ms.map((m) => m.provider.tokens / m.provider.seconds)),
        '429s p50': median(ms.map((m) => m.provider.rateLimited)),
        'in-flight p50': median(ms.map((m) => m.provider.meanInFlight)),
        'bound share p50': shares.length ? percent(median(shares)) : null,
        'vs langchain p50': pipeline === 'langchain' ? '1×' : times(median(perRoundRatios)),
        'tree cpu s p50': median(ms.map((m) => m.cpuSeconds)),
        'cpu s/1M tok p50': median(ms.map(cpuPerMillion)),
        'cpu/1M tok vs langchain p50': pipeline === 'langchain' ? '1×' : times(median(perRoundCpuRatios)),
        failed: ms.reduce((sum, m) => sum + (m.docs - m.completed), 0),
        'chars÷4 / server tokens': q.length
          ? median(q.map((r, i) => ratio(r.limiterTokens, ms[i]!.provider.tokens)))
          : null,
      });
    }
    printTable(
      `summary, scenario ${scenario.name} (medians over rounds; ratios per round, then median)`,
      rows,
    );
    out.push({ scenario: scenario.name, rows });
  }
  return out;
}

await main();
