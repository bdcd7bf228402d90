/** One run of Quire's ingestion: N ingest worker processes on a private queue prefix, fed by the producer SDK. */
import { join } from 'node:path';
import { SqliteVectorStore, sqliteCollectionName } from '@quire/core';
import { type IngestResult, Producer, QUEUES } from '@quire/jobs';
import { cleanupPrefix, freePort, makeTempDir, type RunningModelServer, uniquePrefix } from '@quire/testkit';
import type { CorpusFile } from '../lib/corpus.js';
import { type TreeCpu, TreeCpuSampler } from '../lib/proc.js';
import { BUILTIN_MODEL_ENV, startWorkers, stopWorkers, untilWorkerDies } from '../lib/workers.js';

export interface QuireRunOptions {
  workers: number;
  /** INGEST_CONCURRENCY of each process. */
  ingestConcurrency: number;
  files: readonly CorpusFile[];
  copies: number;
  corpusRoot: string;
  redisUrl: string;
  server: RunningModelServer;
  apiKey: string;
  /** QUIRE_PROVIDER_RPM / _TPM: the provider's limits, shared by the workers; 0 = off. */
  rpm: number;
  tpm: number;
  /** Directory where each worker writes a V8 CPU profile when it exits (`node --cpu-prof`). */
  cpuProfileDir?: string;
  /** Extra worker environment, e.g. QUIRE_EMBED_BATCH_SIZE. */
  env?: Record<string, string>;
  /** Called once every worker is ready, just before the first job is enqueued. */
  onStart?: () => void;
  /** Called once the last job has ended, before the workers are stopped. */
  onEnd?: () => void;
}

export interface QuireRunResult {
  docs: number;
  completed: number;
  failures: { document: string; reason: string }[];
  pages: number;
  chunks: number;
  /** Chunk tokens as Quire's chunker counts them (cl100k). */
  chunkTokens: number;
  /** Σ ceil(chars / 4) of the stored chunks: what Quire's shared limiter charges for them. */
  limiterTokens: number;
  wallMs: number;
  /** Job time summed over jobs, by stage (load, chunk, embed_store, cleanup) and in total. */
  stageMs: Record<string, number>;
  /** From the workers' metrics: embeddings calls and the seconds they took (after the limiter let them go). */
  embedCalls: number;
  embedCallSeconds: number;
  /**
   * CPU seconds the whole process tree used from the first enqueue to the last completion: the worker
   * processes, their parse sandboxes and the external programs these run (pdftotext, tesseract).
   */
  cpuSeconds: number;
  /** The same, split into the workers' own CPU and their child processes' by program. */
  cpu: TreeCpu;
}

const TENANT = 'bench';

export async function runQuire(options: QuireRunOptions): Promise<QuireRunResult> {
  const tmp = await makeTempDir('bench-ingest');
  const prefix = uniquePrefix('bench-ingest');
  const metricsPorts = await Promise.all(Array.from({ length: options.workers }, () => freePort()));
  const env = {
    REDIS_URL: options.redisUrl,
    QUIRE_QUEUE_PREFIX: prefix,
    QUIRE_DATA_DIR: tmp.path,
    QUIRE_FILE_ROOTS: options.corpusRoot,
    QUIRE_MODEL_BASE_URL: options.server.url,
    QUIRE_MODEL_API_KEY: options.apiKey,
    ...BUILTIN_MODEL_ENV,
    QUIRE_PROVIDER_RPM: String(options.rpm),
    QUIRE_PROVIDER_TPM: String(options.tpm),
    INGEST_CONCURRENCY: String(options.ingestConcurrency),
    ...options.env,
  };
  const workers = await Promise.all(
    metricsPorts.map((port) =>
      startWorkers(
        'ingest-worker',
        1,
        { ...env, METRICS_PORT: String(port) },
        options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : [],
      ).then(([w]) => w!),
    ),
  );
  const producer = new Producer({ connection: options.redisUrl, prefix });
  try {
    options.onStart?.();
    const cpu = new TreeCpuSampler(workers.map((w) => w.pid));
    const started = performance.now();
    const jobs: { document: string; jobId: string }[] = [];
    for (let copy = 0; copy < options.copies; copy++) {
      for (const file of options.files) {
        const document = copy === 0 ? file.name : `${file.name}#${copy}`;
        const { jobId } = await producer.enqueueIngest({
          tenant: TENANT,
          documentId: document,
          source: { kind: 'path', path: file.path },
        });
        jobs.push({ document, jobId });
      }
    }
    // waitUntilFinished also sees jobs that finished before it was called.
    const settled = await untilWorkerDies(
      workers,
      Promise.allSettled(
        jobs.map((job) => producer.waitForJob(QUEUES.ingest, job.jobId, { timeoutMs: 3_600_000 })),
      ),
    );
    const wallMs = performance.now() - started;
    options.onEnd?.();
    const cpuUsed = cpu.stop();

    const failures: QuireRunResult['failures'] = [];
    const stageMs: Record<string, number> = {};
    let pages = 0;
    let chunks = 0;
    let chunkTokens = 0;
    settled.forEach((outcome, i) => {
      if (outcome.status === 'rejected') {
        failures.push({ document: jobs[i]!.document, reason: String(outcome.reason) });
        return;
      }
      const result = outcome.value as IngestResult;
      pages += result.pages ?? 0;
      chunks += result.chunks;
      chunkTokens += result.tokens;
      for (const [stage, ms] of Object.entries(result.timingsMs)) stageMs[stage] = (stageMs[stage] ?? 0) + ms;
    });

    const metrics = await Promise.all(metricsPorts.map((port) => scrapeEmbedCalls(port)));
    const limiterTokens = await storedChunkChars(join(tmp.path, 'vectors.db')).then((chars) => chars / 4);
    return {
      docs: jobs.length,
      completed: jobs.length - failures.length,
      failures,
      pages,
      chunks,
      chunkTokens,
      limiterTokens,
      wallMs,
      stageMs,
      embedCalls: metrics.reduce((sum, m) => sum + m.count, 0),
      embedCallSeconds: metrics.reduce((sum, m) => sum + m.seconds, 0),
      cpuSeconds: cpuUsed.total,
      cpu: cpuUsed,
    };
  } finally {
    await producer.close();
    await stopWorkers(workers);
    await cleanupPrefix(options.redisUrl, prefix);
    await tmp.cleanup();
  }
}

async function storedChunkChars(path: string): Promise<number> {
  const store = new SqliteVectorStore({
    path,
    dimension: Number(BUILTIN_MODEL_ENV.QUIRE_EMBEDDING_DIMENSION),
    collection: sqliteCollectionName(
      BUILTIN_MODEL_ENV.QUIRE_EMBEDDING_MODEL,
      Number(BUILTIN_MODEL_ENV.QUIRE_EMBEDDING_DIMENSION),
    ),
  });
  try {
    await store.init();
    const records = await store.listChunks(TENANT);
    return records.reduce((sum, r) => sum + r.text.length, 0);
  } finally {
    await store.close();
  }
}

/** Successful embeddings calls and their total seconds, from a worker's Prometheus endpoint. */
async function scrapeEmbedCalls(port: number): Promise<{ count: number; seconds: number }> {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text());
  const value = (name: string) => {
    const line = text
      .split('\n')
      .find((l) => l.startsWith(name) && l.includes('endpoint="embeddings"') && !l.startsWith('#'));
    return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
  };
  return {
    count: value('quire_model_call_duration_seconds_count'),
    seconds: value('quire_model_call_duration_seconds_sum'),
  };
}
