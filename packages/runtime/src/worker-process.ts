/**
 * What every worker process shares: one wiring of env → logger → connections → services →
 * shutdown, and the same job logs and metrics for every queue. `main.ts` files stay short.
 */
import { DimensionMismatchError, type ModelApi } from '@quire/api-client';
import { ConfigError, createModels, createStore, type QuireConfig, type VectorStore } from '@quire/core';
import { connectRedis } from '@quire/jobs';
import type { Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { createLogger } from './logger.js';
import { createMetrics, type PromMetrics, serveMetrics } from './metrics.js';
import { guardModels, SharedRateLimiter } from './provider-limits.js';
import { announceReady, ShutdownManager } from './shutdown.js';

export interface WorkerProcessOptions {
  service: string;
  version: string;
  config: QuireConfig;
  shutdownGraceMs: number;
  /** Port for `/metrics` and `/healthz`; 0 = none. */
  metricsPort: number;
}

export interface WorkerProcess {
  config: QuireConfig;
  logger: Logger;
  metrics: PromMetrics;
  shutdown: ShutdownManager;
  /** For BullMQ and the shared rate limit (BullMQ needs `maxRetriesPerRequest: null`). */
  redis: Redis;
  store: VectorStore;
  /** The model API behind the shared provider rate limit, with metrics. */
  models: ModelApi;
  /** The shared provider rate limit, when one applies (limits configured, or a provider to learn from). */
  limiter: SharedRateLimiter | undefined;
  /** Registers a worker: logs and metrics for its jobs, closed first on shutdown, counted as ready. */
  addWorker(worker: Worker): void;
  /** Starts the workers and the metrics server; logs `<service> ready`. */
  start(details?: Record<string, unknown>): Promise<void>;
}

export async function startWorkerProcess(options: WorkerProcessOptions): Promise<WorkerProcess> {
  const { config, service } = options;
  const logger = createLogger({
    service,
    version: options.version,
    level: config.log.level,
    format: config.log.format,
  });
  const metrics = createMetrics({ service });
  const shutdown = new ShutdownManager({ logger, graceMs: options.shutdownGraceMs });
  shutdown.listen();

  // BullMQ workers block on this client (and duplicate it for their blocking reads): blocking role.
  const redis = connectRedis(config.redisUrl, 'blocking');
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  // The limiter writes what it holds on this connection: closed before it.
  let limiter: SharedRateLimiter | undefined;
  shutdown.register(
    'redis',
    async () => {
      await limiter?.close().catch(() => undefined);
      await redis.quit().catch(() => redis.disconnect());
    },
    1,
  );

  const store = createStore(config);
  await store.init();
  shutdown.register('store', () => store.close(), 1);

  const { limits } = config.models;
  // With a provider (a base URL) the limiter also runs without configured limits: it learns them
  // from the provider's x-ratelimit-* headers and 429s.
  limiter =
    limits.requestsPerMinute > 0 || limits.tokensPerMinute > 0 || config.models.baseURL !== undefined
      ? new SharedRateLimiter(redis, limits, { keyPrefix: config.queuePrefix })
      : undefined;
  const models = guardModels(createModels(config, { logger }), {
    metrics,
    providerKey: config.models.baseURL ?? 'builtin',
    ...(limiter ? { limiter } : {}),
  });

  await probeEmbeddingDimension(config, models, logger);

  const workers: Worker[] = [];
  return {
    config,
    logger,
    metrics,
    shutdown,
    redis,
    store,
    models,
    limiter,
    addWorker(worker) {
      workers.push(worker);
      observeWorker(worker, logger, metrics);
      shutdown.register(`worker:${worker.name}`, async () => {
        logger.info({ queue: worker.name }, 'closing worker: no new jobs; waiting for in-flight jobs');
        await worker.close();
      });
    },
    async start(details = {}) {
      if (options.metricsPort > 0) {
        const server = await serveMetrics(metrics.registry, {
          port: options.metricsPort,
          ready: () => !shutdown.shuttingDown && workers.every((w) => w.isRunning()),
        });
        shutdown.register('metrics', () => new Promise<void>((resolve) => server.close(() => resolve())));
      }
      for (const worker of workers) void worker.run();
      await Promise.all(workers.map((w) => w.waitUntilReady()));
      logger.info(
        {
          queues: workers.map((w) => w.name),
          store: config.store.kind,
          models: config.models.kind,
          prefix: config.queuePrefix,
          ...details,
        },
        `${service} ready`,
      );
      announceReady();
    },
  };
}

/**
 * With a real model API, embeds one short text at start-up so that a wrong
 * QUIRE_EMBEDDING_DIMENSION stops the process with a clear message instead of failing every job.
 * A provider that is unreachable right now is only a warning: jobs retry on their own.
 */
async function probeEmbeddingDimension(config: QuireConfig, models: ModelApi, logger: Logger): Promise<void> {
  if (config.models.kind !== 'api') return;
  const { embeddingModel, dimension } = config.models;
  // Three probes: a provider that garbles one answer now and then must not stop a worker.
  let mismatches = 0;
  let got = dimension;
  for (let probe = 0; probe < 3; probe++) {
    try {
      const result = await models.embeddings(
        { model: embeddingModel, input: ['dimension probe'] },
        { maxRetries: 0, timeout: Math.min(config.models.timeoutMs, 15_000) },
      );
      if (result.dimension === dimension) return;
      mismatches += 1;
      got = result.dimension;
    } catch (error) {
      if (error instanceof DimensionMismatchError) {
        mismatches += 1;
        got = error.got;
        continue;
      }
      logger.warn(
        { err: (error as Error).message },
        'could not probe the embedding model at start-up; continuing',
      );
      return;
    }
  }
  if (mismatches === 3) {
    throw new ConfigError(
      `invalid configuration:\nQUIRE_EMBEDDING_DIMENSION: ${embeddingModel} returns vectors of dimension ${got}, not ${dimension}`,
    );
  }
}

function jobFields(job: Job) {
  const data = job.data as { tenant?: unknown; documentId?: unknown; batchId?: unknown } | undefined;
  return { jobId: job.id, queue: job.queueName, tenant: data?.tenant, documentId: data?.documentId };
}

function observeWorker(worker: Worker, logger: Logger, metrics: PromMetrics): void {
  const seconds = (job: Job) => ((job.finishedOn ?? Date.now()) - (job.processedOn ?? Date.now())) / 1000;
  worker.on('completed', (job, result: { outcome?: string } | undefined) => {
    metrics.jobFinished(worker.name, 'completed', seconds(job));
    logger.info({ ...jobFields(job), outcome: result?.outcome, seconds: seconds(job) }, 'job completed');
  });
  worker.on('failed', (job, error) => {
    if (!job) return;
    const final = error.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
    metrics.jobFinished(worker.name, final ? 'failed' : 'retried', seconds(job));
    logger[final ? 'error' : 'warn'](
      { ...jobFields(job), attempts: job.attemptsMade, err: error.message },
      final ? 'job failed' : 'job attempt failed; will retry',
    );
  });
  worker.on('stalled', (jobId) =>
    logger.warn({ jobId, queue: worker.name }, 'job stalled; it will run again'),
  );
  worker.on('error', (err) => logger.error({ err, queue: worker.name }, 'worker error'));
}

/** Runs `main`, printing a start-up failure (bad env, unreachable store) on stderr and exiting non-zero. */
export function runMain(service: string, main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    const message =
      error instanceof Error ? (error.name === 'ConfigError' ? error.message : error.stack) : String(error);
    process.stderr.write(`${service}: failed to start: ${message}\n`);
    process.exit(error instanceof Error && error.name === 'ConfigError' ? 2 : 1);
  });
}
