/**
 * Scale-out on one machine: 1, 2, 4… ingest worker processes against one Redis, one SQLite file and
 * one model server with latency and a provider rate limit. Each run must ingest every document
 * exactly once (point-by-point against a clean run); its throughput, 429s and share of the rate
 * bound are measured. The workload grows with the worker count (`documentsPerWorker`), so each run
 * lasts about as long and the larger runs press against the bound.
 */
import { makeCorpus } from '../corpus.js';
import { enqueueDocuments, type OutcomeSummary, summariseOutcomes, waitForJobs } from '../jobs.js';
import { cleanRun, Sandbox, TENANT } from '../sandbox.js';
import { compareChunks, readChunks, type StoreDiff } from '../store-check.js';

export interface ScaleOutConfig {
  workers: number;
  /** Workers share the provider limit through Redis (`QUIRE_PROVIDER_RPM`/`TPM` = the server's). */
  sharedLimit: boolean;
}

export interface ScaleOutOptions {
  redisUrl: string;
  /** Runs, in order. Default 1, 2 and 4 workers with the shared limit, then 4 without. */
  configs?: readonly ScaleOutConfig[];
  /** Documents per worker process in a run. */
  documentsPerWorker: number;
  /** The model server's limit, requests per rolling minute. */
  requestsPerMinute: number;
  /** The model server's limit, tokens per rolling minute. Default: none. */
  tokensPerMinute?: number;
  /** Model server latency per request, in ms. Default 200. */
  latencyMs?: number;
  /** Model server latency per embedded input, in ms. Default 5. */
  latencyPerInputMs?: number;
  /** Jobs per worker process. Default 2. */
  concurrency?: number;
  /** Chunks per embeddings request. Default 8. */
  embedBatchSize?: number;
  seed?: number;
  /** Per run, in ms. Default 600,000. */
  timeoutMs?: number;
  log?: (line: string) => void;
}

export interface ScaleOutRun extends ScaleOutConfig {
  documents: number;
  chunks: number;
  durationMs: number;
  docsPerSecond: number;
  chunksPerSecond: number;
  /** Embeddings requests the server answered 200. */
  requestsOk: number;
  /** 429 answers. */
  rateLimited: number;
  /** Admitted requests per minute over the run. */
  requestsPerMinute: number;
  /** `requestsPerMinute` over the server's limit. */
  shareOfBound: number;
  /** Inputs the server embedded over the chunks stored: above 1 when work was done twice. */
  embedRatio: number;
  /** When each 429 was sent, in seconds since the run started. */
  rateLimitedAtSeconds: number[];
  jobs: OutcomeSummary;
  diff: StoreDiff;
}

export interface ScaleOutReport {
  runs: ScaleOutRun[];
  requestsPerMinuteLimit: number;
  cleanRunMs: number;
}

export const DEFAULT_SCALE_CONFIGS: readonly ScaleOutConfig[] = [
  { workers: 1, sharedLimit: true },
  { workers: 2, sharedLimit: true },
  { workers: 4, sharedLimit: true },
  { workers: 4, sharedLimit: false },
];

export async function runScaleOut(options: ScaleOutOptions): Promise<ScaleOutReport> {
  const log = options.log ?? (() => {});
  const configs = options.configs ?? DEFAULT_SCALE_CONFIGS;
  const most = Math.max(...configs.map((c) => c.workers)) * options.documentsPerWorker;
  const corpus = makeCorpus({ documents: most, seed: options.seed ?? 4 });
  const reference = await cleanRun({ redisUrl: options.redisUrl, documents: corpus });
  log(`clean run: ${reference.chunks.length} chunks in ${(reference.durationMs / 1000).toFixed(1)} s`);
  const rateLimit = {
    requestsPerMinute: options.requestsPerMinute,
    ...(options.tokensPerMinute ? { tokensPerMinute: options.tokensPerMinute } : {}),
  };

  const runs: ScaleOutRun[] = [];
  for (const config of configs) {
    const docs = corpus.slice(0, config.workers * options.documentsPerWorker);
    const ids = new Set(docs.map((d) => d.documentId));
    const rateLimitedAt: number[] = [];
    const noop = () => {};
    // The server's request log tells when each 429 went out: the shape of the limiting over time.
    const logger = {
      debug: (fields: object) => {
        if ((fields as { status?: unknown }).status === 429) rateLimitedAt.push(performance.now());
      },
      info: noop,
      warn: noop,
      error: noop,
    };
    // A sandbox per run: a fresh rate-limit window on the server and in Redis, an empty store.
    const sandbox = await Sandbox.open({
      label: `scale-${config.workers}`,
      redisUrl: options.redisUrl,
      server: {
        latencyMs: options.latencyMs ?? 200,
        latencyPerInputMs: options.latencyPerInputMs ?? 5,
        rateLimit,
        logger,
      },
    });
    try {
      const pool = sandbox.pool(
        {},
        {
          concurrency: options.concurrency ?? 2,
          embedBatchSize: options.embedBatchSize ?? 8,
          ...(config.sharedLimit
            ? { providerRpm: options.requestsPerMinute, providerTpm: options.tokensPerMinute ?? 0 }
            : {}),
        },
      );
      await pool.start(config.workers);
      sandbox.server.resetStats();
      const started = performance.now();
      rateLimitedAt.length = 0;
      const jobs = await enqueueDocuments(sandbox.producer, TENANT, docs);
      const outcomes = await waitForJobs(sandbox.producer, () => jobs, {
        timeoutMs: options.timeoutMs ?? 600_000,
      });
      const durationMs = performance.now() - started;
      const stats = sandbox.server.stats;
      await pool.stop();
      const chunks = await readChunks(sandbox.store, TENANT);
      const diff = compareChunks(
        reference.chunks.filter((c) => ids.has(c.documentId)),
        chunks,
      );
      const requestsOk = stats.byStatus[200] ?? 0;
      const minutes = durationMs / 60_000;
      const run: ScaleOutRun = {
        ...config,
        documents: docs.length,
        chunks: chunks.length,
        durationMs,
        docsPerSecond: docs.length / (durationMs / 1000),
        chunksPerSecond: chunks.length / (durationMs / 1000),
        requestsOk,
        rateLimited: stats.rateLimited,
        requestsPerMinute: requestsOk / minutes,
        shareOfBound: requestsOk / minutes / options.requestsPerMinute,
        embedRatio: chunks.length === 0 ? 0 : stats.inputs / chunks.length,
        rateLimitedAtSeconds: rateLimitedAt.map((t) => (t - started) / 1000),
        jobs: summariseOutcomes(outcomes),
        diff,
      };
      log(
        `${config.workers} worker(s), shared limit ${config.sharedLimit ? 'on' : 'off'}: ` +
          `${run.docsPerSecond.toFixed(2)} docs/s, ${run.chunksPerSecond.toFixed(1)} chunks/s, ` +
          `${run.requestsPerMinute.toFixed(0)} req/min (${(run.shareOfBound * 100).toFixed(0)}% of the bound), ` +
          `${run.rateLimited} × 429, ${run.jobs.failed} failed, store ${diff.exact ? 'exact' : 'NOT exact'}`,
      );
      runs.push(run);
    } finally {
      await sandbox.close();
    }
  }
  return { runs, requestsPerMinuteLimit: options.requestsPerMinute, cleanRunMs: reference.durationMs };
}
