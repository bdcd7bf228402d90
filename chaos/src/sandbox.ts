/**
 * One scenario's world: a queue prefix of its own, a temporary data directory holding the shared
 * SQLite store, a testkit model server, the producer SDK, and the worker processes — and the clean
 * reference run the scenario's store is compared with.
 */
import { join } from 'node:path';
import type { ChunkRecord } from '@quire/core';
import { Producer } from '@quire/jobs';
import {
  cleanupPrefix,
  makeTempDir,
  type RunningModelServer,
  type StartModelServerOptions,
  startModelServer,
  type TempDir,
  uniquePrefix,
} from '@quire/testkit';
import type { CorpusDocument } from './corpus.js';
import { enqueueDocuments, waitForJobs } from './jobs.js';
import { readChunks, type StoreLocation } from './store-check.js';
import { WorkerPool } from './worker-pool.js';

export const TENANT = 'chaos';
export const EMBEDDING_MODEL = 'chaos-embed';
export const DIMENSION = 64;
/** The model server's key; a test value, never a real one. */
export const API_KEY = 'sk-chaos-not-a-real-key';

/** Settings that shape the stored points: equal in a scenario and its clean run. */
export interface PipelineSettings {
  /** Tokens per chunk. Default 64: small, so a document makes many chunks and many batches. */
  chunkSize?: number;
  /** Token overlap between chunks. Default 8. */
  chunkOverlap?: number;
}

/** How the workers run; free to differ between a scenario and its clean run. */
export interface WorkerSettings {
  /** Jobs per worker process (`INGEST_CONCURRENCY`). Default 2. */
  concurrency?: number;
  /** Chunks per embeddings request (`QUIRE_EMBED_BATCH_SIZE`). Default 4. */
  embedBatchSize?: number;
  /** Embeddings requests in flight per job (`QUIRE_EMBED_CONCURRENCY`). Default 1. */
  embedConcurrency?: number;
  /** Retries inside the API client (`QUIRE_MODEL_MAX_RETRIES`). Default 1, the production default. */
  modelMaxRetries?: number;
  /** Per-attempt model API timeout in ms (`QUIRE_MODEL_TIMEOUT_MS`). Default 10,000. */
  modelTimeoutMs?: number;
  /** BullMQ job lock in ms (`WORKER_LOCK_MS`). Default 4,000. */
  lockMs?: number;
  /** Stalled-job check period in ms (`WORKER_STALLED_INTERVAL_MS`). Default 1,000. */
  stalledIntervalMs?: number;
  /** Shared provider limits (`QUIRE_PROVIDER_RPM`/`TPM`); 0 = none. Default 0. */
  providerRpm?: number;
  providerTpm?: number;
  /** Anything else, verbatim. */
  extraEnv?: Record<string, string>;
}

/** Options every worker scenario takes: the model server's latency, the workers' extra setting, the run. */
export interface ScenarioRunOptions {
  /** Worker processes. */
  workers?: number;
  /** Model server latency per request, in ms. Default 60. */
  latencyMs?: number;
  /** Model server latency per embedded input, in ms. Default 10. */
  latencyPerInputMs?: number;
  /** Extra environment of every worker, e.g. a setting under test. Default none. */
  workerEnv?: Record<string, string>;
  /** Seed of the corpus (and of the choice of victims where there are any). Default 1. */
  seed?: number;
  /** Give up waiting for the jobs after this long, in ms. Default 600,000. */
  timeoutMs?: number;
  /** Receives progress lines. Default: silent. */
  log?: (line: string) => void;
}

export interface SandboxOptions {
  /** Names the prefix and the temporary directory. */
  label: string;
  redisUrl: string;
  /** Model server knobs (latency, rate limit, faults). The key is always {@link API_KEY}. */
  server?: Omit<StartModelServerOptions, 'apiKey' | 'dimension'>;
  /** Producer job options: attempts and first backoff step. Default: the SDK's (5 attempts, 2 s). */
  jobOptions?: { attempts?: number; backoffMs?: number };
}

export class Sandbox {
  readonly prefix: string;
  readonly redisUrl: string;
  readonly dir: TempDir;
  readonly server: RunningModelServer;
  readonly producer: Producer;
  readonly store: StoreLocation;
  readonly #pools: WorkerPool[] = [];

  private constructor(options: SandboxOptions, dir: TempDir, server: RunningModelServer) {
    this.prefix = uniquePrefix(options.label);
    this.redisUrl = options.redisUrl;
    this.dir = dir;
    this.server = server;
    this.producer = new Producer({
      connection: options.redisUrl,
      prefix: this.prefix,
      ...(options.jobOptions ? { jobOptions: options.jobOptions } : {}),
    });
    this.store = {
      path: join(dir.path, 'data', 'vectors.db'),
      embeddingModel: EMBEDDING_MODEL,
      dimension: DIMENSION,
    };
  }

  static async open(options: SandboxOptions): Promise<Sandbox> {
    const dir = await makeTempDir(`chaos-${options.label}`);
    try {
      const server = await startModelServer({ ...options.server, apiKey: API_KEY, dimension: DIMENSION });
      return new Sandbox(options, dir, server);
    } catch (error) {
      await dir.cleanup();
      throw error;
    }
  }

  /** The environment of a worker of this sandbox. */
  workerEnv(pipeline: PipelineSettings = {}, workers: WorkerSettings = {}): Record<string, string> {
    return {
      REDIS_URL: this.redisUrl,
      QUIRE_QUEUE_PREFIX: this.prefix,
      QUIRE_DATA_DIR: join(this.dir.path, 'data'),
      QUIRE_SQLITE_PATH: this.store.path,
      // Set in the caller's environment, it would move the workers to Qdrant: the check reads SQLite.
      QDRANT_URL: '',
      QUIRE_MODEL_BASE_URL: this.server.url,
      QUIRE_MODEL_API_KEY: API_KEY,
      QUIRE_EMBEDDING_MODEL: EMBEDDING_MODEL,
      QUIRE_EMBEDDING_DIMENSION: String(DIMENSION),
      QUIRE_RERANK_MODEL: 'chaos-rerank',
      QUIRE_CHAT_MODEL: 'chaos-chat',
      QUIRE_CHUNK_SIZE: String(pipeline.chunkSize ?? 64),
      QUIRE_CHUNK_OVERLAP: String(pipeline.chunkOverlap ?? 8),
      QUIRE_EMBED_BATCH_SIZE: String(workers.embedBatchSize ?? 4),
      QUIRE_EMBED_CONCURRENCY: String(workers.embedConcurrency ?? 1),
      QUIRE_MODEL_MAX_RETRIES: String(workers.modelMaxRetries ?? 1),
      QUIRE_MODEL_TIMEOUT_MS: String(workers.modelTimeoutMs ?? 10_000),
      QUIRE_PROVIDER_RPM: String(workers.providerRpm ?? 0),
      QUIRE_PROVIDER_TPM: String(workers.providerTpm ?? 0),
      INGEST_CONCURRENCY: String(workers.concurrency ?? 2),
      WORKER_LOCK_MS: String(workers.lockMs ?? 4_000),
      WORKER_STALLED_INTERVAL_MS: String(workers.stalledIntervalMs ?? 1_000),
      SHUTDOWN_GRACE_MS: '10000',
      ...workers.extraEnv,
    };
  }

  /** A pool of worker processes of this sandbox (not started yet). */
  pool(pipeline: PipelineSettings = {}, workers: WorkerSettings = {}): WorkerPool {
    const pool = new WorkerPool({ env: this.workerEnv(pipeline, workers) });
    this.#pools.push(pool);
    return pool;
  }

  /** Stops the workers, then closes the producer, the model server, the prefix's keys and the directory. */
  async close(): Promise<void> {
    await Promise.all(this.#pools.map((p) => p.stop()));
    await this.producer.close().catch(() => undefined);
    await this.server.close({ graceMs: 500 });
    await cleanupPrefix(this.redisUrl, this.prefix).catch(() => undefined);
    await this.dir.cleanup();
  }
}

export interface CleanRunOptions {
  redisUrl: string;
  documents: readonly CorpusDocument[];
  pipeline?: PipelineSettings;
  /** Give up after this long, in ms. Default 300,000. */
  timeoutMs?: number;
}

export interface CleanRun {
  chunks: ChunkRecord[];
  durationMs: number;
}

/**
 * The reference: the same final documents ingested by one worker with no faults and no latency, in a
 * sandbox of its own. Every job must complete.
 */
export async function cleanRun(options: CleanRunOptions): Promise<CleanRun> {
  const started = performance.now();
  const sandbox = await Sandbox.open({ label: 'clean', redisUrl: options.redisUrl });
  try {
    const pool = sandbox.pool(options.pipeline, { concurrency: 4, embedBatchSize: 16 });
    await pool.start(1);
    const jobs = await enqueueDocuments(sandbox.producer, TENANT, options.documents);
    const outcomes = await waitForJobs(sandbox.producer, () => jobs, {
      timeoutMs: options.timeoutMs ?? 300_000,
    });
    const failed = outcomes.filter((o) => o.state !== 'completed');
    if (failed.length > 0) {
      throw new Error(
        `clean run: ${failed.length} jobs did not complete: ${failed
          .slice(0, 3)
          .map((o) => `${o.documentId}: ${o.failedReason ?? o.state}`)
          .join('; ')}`,
      );
    }
    await pool.stop();
    return { chunks: await readChunks(sandbox.store, TENANT), durationMs: performance.now() - started };
  } finally {
    await sandbox.close();
  }
}
