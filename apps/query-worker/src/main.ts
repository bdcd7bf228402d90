#!/usr/bin/env node
/** The query worker process: queues `query`, `batch` and `eval`. */
import { readFileSync } from 'node:fs';
import { loadChunkerEncoding } from '@quire/core';
import { defaultJobOptions, JOB_NAMES, QUEUES } from '@quire/jobs';
import { mapProcessorError, runMain, startWorkerProcess } from '@quire/runtime';
import { Queue, Worker } from 'bullmq';
import { loadEnv } from './env.js';
import { createEvalProcessor, createEvalQueryProcessor } from './eval-processor.js';
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

  const queryDeps = {
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
  };
  // The answer's context is counted in the chunker's tokens: its encoder loads now (~0.3 s of CPU)
  // rather than in the first question.
  loadChunkerEncoding();
  const query = createQueryProcessor(queryDeps);
  const evalQuery = createEvalQueryProcessor(queryDeps);
  const batch = createBatchProcessor({ logger: app.logger });
  // Where an eval adds its questions: a request-path client, as for any producer.
  const queryQueue = new Queue(QUEUES.query, { connection: app.redis, prefix: config.queuePrefix });
  app.shutdown.register('eval-query-queue', () => queryQueue.close(), 1);
  const evaluate = createEvalProcessor({
    store: app.store,
    queryQueue,
    redis: app.redis,
    jobOptions: defaultJobOptions(),
    defaults: queryDeps.defaults,
    logger: app.logger,
  });
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
        return job.name === JOB_NAMES.evalQuery
          ? await evalQuery(job, token, signal)
          : await query(job, token, signal);
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
  const evalWorker = new Worker(
    QUEUES.eval,
    async (job, token) => {
      try {
        if (token === undefined) throw new Error('an eval step needs its lock token');
        return await evaluate(job, token);
      } catch (error) {
        throw await mapProcessorError(error);
      }
    },
    { ...common, concurrency: env.batchConcurrency },
  );
  app.addWorker(queryWorker);
  app.addWorker(batchWorker);
  app.addWorker(evalWorker);
  await app.start({ queryConcurrency: env.queryConcurrency, batchConcurrency: env.batchConcurrency });
});
