#!/usr/bin/env node
/** The ingest worker process: env → logger → connections → services → worker → shutdown. */
import { readFileSync } from 'node:fs';
import {
  checkParseMemoryBudget,
  configureDefaultParseSandbox,
  configurePdfEngines,
  loadChunkerEncoding,
  ocrLanguageDir,
  openOcrCache,
  resolveOcrEngine,
} from '@quire/core';
import { forgetSecretsWhenDone, QUEUES, releaseSpoolWhenDone, SecretKeyring, Spool } from '@quire/jobs';
import { mapProcessorError, readContainerMemoryLimit, runMain, startWorkerProcess } from '@quire/runtime';
import { Queue, Worker } from 'bullmq';
import { loadEnv } from './env.js';
import { createIngestProcessor } from './processor.js';

const SERVICE = 'ingest-worker';
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

runMain(SERVICE, async () => {
  const env = loadEnv();
  const { config } = env;
  // Every sandbox child at its cap, plus the worker, must fit the container: else the kernel's OOM
  // killer takes the whole worker (and its jobs) instead of the sandbox taking one parse.
  checkParseMemoryBudget(config.parse, readContainerMemoryLimit());
  const app = await startWorkerProcess({
    service: SERVICE,
    version,
    config,
    shutdownGraceMs: env.shutdownGraceMs,
    metricsPort: env.metricsPort,
  });

  // PDF, DOCX and HTML parse in child processes under an RSS cap; loadDocument uses this sandbox.
  const sandbox = await configureDefaultParseSandbox({
    size: config.parse.poolSize,
    maxTasksPerChild: config.parse.maxTasksPerChild,
    observer: {
      parseFinished: (event) => app.metrics.parseFinished(event),
      childExited: ({ reason }) => app.metrics.sandboxChildExited(reason),
    },
  });
  // After the workers (phase 0) have let their jobs finish.
  app.shutdown.register('parse-sandbox', () => sandbox.close(), 1);
  // The children start now rather than with the first documents (they stop when idle, as any child).
  sandbox.prestart(config.parse.maxMemoryMb);
  // Likewise the chunker's token encoder, which every document needs.
  loadChunkerEncoding();
  // Resolved once (auto: poppler when installed), so every PDF of this worker reads one way.
  const pdfEngines = await configurePdfEngines(config.ingest.pdfEngine);
  app.logger.info(
    {
      setting: pdfEngines.setting,
      engine: pdfEngines.primary.engine,
      version: pdfEngines.primary.version,
      fallback: pdfEngines.fallback?.engine ?? null,
    },
    `PDF engine: ${pdfEngines.primary.version}${pdfEngines.fallback ? `, falling back to ${pdfEngines.fallback.version}` : ''}`,
  );

  // A language that is not installed, or an engine asked for and missing, stops the worker at
  // start, not each scanned document later.
  if (config.ocr.mode !== 'off') {
    const ocrEngine = await resolveOcrEngine(config.ocr.engine);
    ocrLanguageDir(config.ocr.langs, config.ocr.langDirs, { uncompressed: ocrEngine.name === 'tesseract' });
    app.logger.info(
      { setting: config.ocr.engine, engine: ocrEngine.name, recipe: ocrEngine.recipe },
      `OCR engine: ${ocrEngine.recipe}`,
    );
  }
  // OCR results by page image and recipe: a re-chunked or retried scan is not read again.
  const ocrCache = config.ocr.cachePath === null ? undefined : openOcrCache(config.ocr.cachePath);
  if (ocrCache !== undefined) app.shutdown.register('ocr-cache', () => ocrCache.close(), 2);

  const processor = createIngestProcessor({
    store: app.store,
    models: app.models,
    embeddingModel: config.models.embeddingModel,
    dimension: config.models.dimension,
    embedBatchSize: config.models.embedBatchSize,
    embedConcurrency: config.models.embedConcurrency,
    chunking: { chunkSize: config.ingest.chunkSize, chunkOverlap: config.ingest.chunkOverlap },
    loadLimits: {
      maxBytes: config.ingest.maxFileBytes,
      maxPages: config.ingest.maxPdfPages,
      maxChars: config.ingest.maxChars,
      maxInflatedBytes: config.ingest.maxInflatedBytes,
      parseTimeoutMs: config.parse.timeoutMs,
      parseMaxMemoryMb: config.parse.maxMemoryMb,
    },
    sources: {
      // The spool holds documents producers could not put in the job; it is read like a root.
      roots:
        config.ingest.spoolDir === null
          ? config.ingest.fileRoots
          : [...config.ingest.fileRoots, config.ingest.spoolDir],
      maxBytes: config.ingest.maxFileBytes,
      urlTimeoutMs: config.ingest.urlTimeoutMs,
      allowPrivateNetworks: config.ingest.allowPrivateUrls,
    },
    ocr: {
      settings: {
        mode: config.ocr.mode,
        langs: config.ocr.langs,
        minConfidence: config.ocr.minConfidence,
        langDirs: config.ocr.langDirs,
        engine: config.ocr.engine,
      },
      ...(ocrCache === undefined ? {} : { cache: ocrCache }),
    },
    redis: app.redis,
    prefix: config.queuePrefix,
    logger: app.logger,
    metrics: app.metrics,
    secrets: SecretKeyring.fromSetting(config.secretKeys),
  });

  const worker: Worker = new Worker(
    QUEUES.ingest,
    async (job, token, signal) => {
      try {
        return await processor(job, token, signal);
      } catch (error) {
        throw await mapProcessorError(error, { rateLimit: (ms) => worker.rateLimit(ms) });
      }
    },
    {
      connection: app.redis,
      prefix: config.queuePrefix,
      concurrency: env.concurrency,
      lockDuration: env.lockMs,
      stalledInterval: env.stalledIntervalMs,
      maxStalledCount: env.maxStalledCount,
      autorun: false,
    },
  );
  // Retries need a job's sealed secrets; once it has ended for good they go.
  forgetSecretsWhenDone(worker, {
    onError: (error, job) =>
      app.logger.warn(
        { err: error instanceof Error ? error.message : String(error), jobId: job.id },
        "could not remove a finished job's sealed secrets",
      ),
  });
  if (config.ingest.spoolDir !== null) {
    const spool = new Spool({ dir: config.ingest.spoolDir, redis: app.redis, prefix: config.queuePrefix });
    releaseSpoolWhenDone(worker, spool, {
      onError: (error, job) =>
        app.logger.warn(
          { err: error instanceof Error ? error.message : String(error), jobId: job.id },
          "could not remove a finished job's spooled document; the sweep will",
        ),
    });
    // Files whose job is gone or never came (a producer stopped between writing and enqueueing).
    const ingestQueue = new Queue(QUEUES.ingest, { connection: app.redis, prefix: config.queuePrefix });
    const sweep = setInterval(() => {
      spool
        .sweep(ingestQueue)
        .then((removed) => {
          if (removed > 0) app.logger.info({ removed }, 'spool swept');
        })
        .catch((error: unknown) =>
          app.logger.warn(
            { err: error instanceof Error ? error.message : String(error) },
            'spool sweep failed',
          ),
        );
    }, 600_000);
    sweep.unref();
    app.shutdown.register(
      'spool-sweep',
      async () => {
        clearInterval(sweep);
        await ingestQueue.close();
      },
      1,
    );
  }
  // Keep the pipeline full across documents: while jobs wait for the provider's budget, take more
  // (up to twice INGEST_CONCURRENCY), so that the next documents are loaded and chunked by the time
  // budget frees up, instead of the worker idling until the waiting jobs end.
  app.limiter?.onWaitingChange((waiting) => {
    worker.concurrency = waiting > 0 ? env.concurrency * 2 : env.concurrency;
  });
  app.addWorker(worker);
  await app.start({
    concurrency: env.concurrency,
    parseSandbox: { size: config.parse.poolSize, maxMemoryMb: config.parse.maxMemoryMb },
  });
});
