#!/usr/bin/env node
/**
 * The ingest worker process: env → logger → connections → services → worker → shutdown.
 */
import { readFileSync } from 'node:fs';
import { createModels, createStore } from '@quire/core';
import { mapProcessorError, QUEUES } from '@quire/jobs';
import {
  createLogger,
  createMetrics,
  guardModels,
  SharedRateLimiter,
  ShutdownManager,
  serveMetrics,
} from '@quire/runtime';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { loadEnv } from './env.js';
import { createIngestProcessor } from './processor.js';

const SERVICE = 'ingest-worker';
const version = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

async function main(): Promise<void> {
  let env: ReturnType<typeof loadEnv>;
  try {
    env = loadEnv();
  } catch (error) {
    process.stderr.write(`${SERVICE}: ${(error as Error).message}\n`);
    process.exit(2);
  }
  const { config } = env;
  const logger = createLogger({
    service: SERVICE,
    version,
    level: config.log.level,
    format: config.log.format,
  });
  const metrics = createMetrics({ service: SERVICE });
  const shutdown = new ShutdownManager({ logger, graceMs: env.shutdownGraceMs });
  shutdown.listen();

  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  shutdown.register('redis', () => redis.quit().then(() => undefined), 1);

  const store = createStore(config);
  await store.init();
  shutdown.register('store', () => store.close(), 1);

  const limiter =
    config.models.limits.requestsPerMinute > 0 || config.models.limits.tokensPerMinute > 0
      ? new SharedRateLimiter(redis, config.models.limits, { keyPrefix: config.queuePrefix })
      : undefined;
  const models = guardModels(createModels(config, { logger }), {
    metrics,
    providerKey: config.models.baseURL ?? 'builtin',
    ...(limiter ? { limiter } : {}),
  });

  const processor = createIngestProcessor({
    store,
    models,
    embeddingModel: config.models.embeddingModel,
    dimension: config.models.dimension,
    embedBatchSize: config.models.embedBatchSize,
    embedConcurrency: config.models.embedConcurrency,
    chunking: { chunkSize: config.ingest.chunkSize, chunkOverlap: config.ingest.chunkOverlap },
    loadLimits: {
      maxBytes: config.ingest.maxFileBytes,
      maxPages: config.ingest.maxPdfPages,
      maxChars: config.ingest.maxChars,
      pdfTimeoutMs: config.ingest.pdfTimeoutMs,
      pdfMaxMemoryMb: config.ingest.pdfMaxMemoryMb,
    },
    sources: {
      roots: config.ingest.fileRoots,
      maxBytes: config.ingest.maxFileBytes,
      urlTimeoutMs: config.ingest.urlTimeoutMs,
      allowPrivateNetworks: config.ingest.allowPrivateUrls,
    },
    redis,
    prefix: config.queuePrefix,
    logger,
    metrics,
  });

  const worker = new Worker(
    QUEUES.ingest,
    async (job, token, signal) => {
      try {
        return await processor(job, token, signal);
      } catch (error) {
        throw await mapProcessorError(error, { rateLimit: (ms) => worker.rateLimit(ms) });
      }
    },
    {
      connection: redis,
      prefix: config.queuePrefix,
      concurrency: env.concurrency,
      lockDuration: env.lockMs,
      autorun: false,
    },
  );
  worker.on('completed', (job, result: { outcome?: string }) => {
    const seconds = ((job.finishedOn ?? Date.now()) - (job.processedOn ?? Date.now())) / 1000;
    metrics.jobFinished(QUEUES.ingest, 'completed', seconds);
    logger.info(
      {
        jobId: job.id,
        tenant: job.data?.tenant,
        documentId: job.data?.documentId,
        outcome: result?.outcome,
        seconds,
      },
      'job completed',
    );
  });
  worker.on('failed', (job, error) => {
    if (!job) return;
    const final = job.attemptsMade >= (job.opts.attempts ?? 1) || error.name === 'UnrecoverableError';
    const seconds = ((job.finishedOn ?? Date.now()) - (job.processedOn ?? Date.now())) / 1000;
    metrics.jobFinished(QUEUES.ingest, final ? 'failed' : 'retried', seconds);
    logger[final ? 'error' : 'warn'](
      {
        jobId: job.id,
        tenant: job.data?.tenant,
        documentId: job.data?.documentId,
        attempts: job.attemptsMade,
        err: error.message,
      },
      final ? 'job failed' : 'job attempt failed; will retry',
    );
  });
  worker.on('error', (err) => logger.error({ err }, 'worker error'));
  shutdown.register('worker', async () => {
    logger.info('closing worker: no new jobs; waiting for in-flight jobs');
    await worker.close();
  });

  if (env.metricsPort > 0) {
    const server = await serveMetrics(metrics.registry, {
      port: env.metricsPort,
      ready: () => worker.isRunning(),
    });
    shutdown.register('metrics', () => new Promise<void>((resolve) => server.close(() => resolve())));
  }

  void worker.run();
  await worker.waitUntilReady();
  logger.info(
    {
      concurrency: env.concurrency,
      store: config.store.kind,
      models: config.models.kind,
      prefix: config.queuePrefix,
    },
    'ingest worker ready',
  );
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${SERVICE}: failed to start: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
