#!/usr/bin/env node
/** The query worker process: queues `query` and `batch`. */
import { readFileSync } from 'node:fs';
import { QUEUES } from '@quire/jobs';
import { mapProcessorError, runMain, startWorkerProcess } from '@quire/runtime';
import { Worker } from 'bullmq';
import { loadEnv } from './env.js';
import { createBatchProcessor, createQueryProcessor } from './processor.js';

const SERVICE = 'query-worker';
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

runMain(SERVICE, async () => {
  const env = loadEnv();
  const { config } = env;
  const app = await startWorkerProcess({
    service: SERVICE,
    version,
    config,
    shutdownGraceMs: env.shutdownGraceMs,
    metricsPort: env.metricsPort,
  });

  const query = createQueryProcessor({
    store: app.store,
    models: app.models,
    modelNames: {
      embedding: config.models.embeddingModel,
      rerank: config.models.rerankModel,
      chat: config.models.chatModel,
    },
    defaults: {
      candidates: config.retrieval.candidates,
      topN: config.retrieval.topN,
      minRerankScore: config.retrieval.minRerankScore,
      contextTokens: config.retrieval.contextTokens,
    },
    maxRerankDocuments: config.models.rerankMaxDocuments,
    logger: app.logger,
    metrics: app.metrics,
  });
  const batch = createBatchProcessor({ logger: app.logger });
  const common = {
    connection: app.redis,
    prefix: config.queuePrefix,
    lockDuration: env.lockMs,
    stalledInterval: env.stalledIntervalMs,
    maxStalledCount: env.maxStalledCount,
    autorun: false,
  };

  const queryWorker: Worker = new Worker(
    QUEUES.query,
    async (job, token, signal) => {
      try {
        return await query(job, token, signal);
      } catch (error) {
        throw await mapProcessorError(error, { rateLimit: (ms) => queryWorker.rateLimit(ms) });
      }
    },
    { ...common, concurrency: env.queryConcurrency },
  );
  const batchWorker = new Worker(
    QUEUES.batch,
    async (job) => {
      try {
        return await batch(job);
      } catch (error) {
        throw await mapProcessorError(error);
      }
    },
    { ...common, concurrency: env.batchConcurrency },
  );
  app.addWorker(queryWorker);
  app.addWorker(batchWorker);
  await app.start({ queryConcurrency: env.queryConcurrency, batchConcurrency: env.batchConcurrency });
});
