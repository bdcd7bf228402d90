/**
 * The ingest queue's processor: wiring between a BullMQ job and core's `ingestDocument()`.
 *
 * It validates the payload, holds the document's lease while the job works (a job that finds the
 * document busy goes back to the delayed set), skips a job that a later one for the document has
 * superseded, and tells the pipeline how to report progress, when it still owns the document and
 * when a failure is the job's last.
 */
import type { ModelApi } from '@quire/api-client';
import { type IngestDocumentDeps, ingestDocument, QuireError } from '@quire/core';
import {
  type DeleteJobData,
  DeleteJobDataSchema,
  type DeleteResult,
  describeZodError,
  documentOrderKeys,
  type IngestJobData,
  IngestJobPayloadSchema,
  type IngestProgress,
  type IngestResult,
  JOB_NAMES,
  type OpenedIngestJob,
  openIngestJob,
  SecretKeyError,
  type SecretKeyring,
} from '@quire/jobs';
import { DocumentLease, isPermanent, isRateLimited, type Metrics } from '@quire/runtime';
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

export interface IngestDeps extends Omit<IngestDocumentDeps, 'logger' | 'models'> {
  /** The model API, already wrapped with the shared rate limit and metrics. */
  models: ModelApi;
  redis: Redis;
  prefix: string;
  logger: Logger;
  metrics: Metrics;
  /** Opens the sealed secrets of version 2 jobs (QUIRE_SECRET_KEYS); null: such jobs fail. */
  secrets: SecretKeyring | null;
  /** Delay before a job blocked by another job of the same document looks again, in ms. Default 1,000. */
  documentBusyDelayMs?: number;
  /** Lease on a document while a job works on it, in ms. Default 30,000. */
  documentLeaseMs?: number;
}

type DocumentJob = Job<unknown, IngestResult | DeleteResult>;

export function createIngestProcessor(rootDeps: IngestDeps) {
  return async function processDocumentJob(
    job: DocumentJob,
    token: string | undefined,
    signal?: AbortSignal,
  ): Promise<IngestResult | DeleteResult> {
    const raw = (job.data ?? {}) as { tenant?: unknown; documentId?: unknown };
    const logger = rootDeps.logger.child({
      jobId: job.id,
      queue: 'ingest',
      tenant: raw.tenant,
      documentId: raw.documentId,
    });
    const deps = { ...rootDeps, logger };
    if (job.name === JOB_NAMES.ingest) {
      const parsed = IngestJobPayloadSchema.safeParse(job.data);
      if (!parsed.success)
        throw new UnrecoverableError(`invalid ingest job: ${describeZodError(parsed.error)}`);
      const data = openSecrets(parsed.data, deps.secrets);
      return withDocumentLease(deps, job, token, data, (lease) => ingest(deps, job, data, lease, signal));
    }
    if (job.name === JOB_NAMES.delete) {
      const parsed = DeleteJobDataSchema.safeParse(job.data);
      if (!parsed.success)
        throw new UnrecoverableError(`invalid delete job: ${describeZodError(parsed.error)}`);
      return withDocumentLease(deps, job, token, parsed.data, async () => {
        await deps.store.deleteDocument(parsed.data.tenant, parsed.data.documentId, { signal });
        return { v: 1, tenant: parsed.data.tenant, documentId: parsed.data.documentId, outcome: 'deleted' };
      });
    }
    throw new UnrecoverableError(`unknown job name ${JSON.stringify(job.name)} on the ingest queue`);
  };
}

/** The job with its sealed secrets opened; secrets that do not open fail it for good. */
function openSecrets(payload: Parameters<typeof openIngestJob>[0], keyring: SecretKeyring | null) {
  try {
    return openIngestJob(payload, keyring);
  } catch (error) {
    if (error instanceof SecretKeyError) throw new UnrecoverableError(error.message);
    throw error;
  }
}

async function ingest(
  deps: IngestDeps,
  job: DocumentJob,
  data: OpenedIngestJob,
  lease: DocumentLease,
  signal?: AbortSignal,
): Promise<IngestResult> {
  const services: IngestDocumentDeps = {
    store: deps.store,
    models: deps.models,
    embeddingModel: deps.embeddingModel,
    dimension: deps.dimension,
    logger: deps.logger,
    ...(deps.embedBatchSize !== undefined ? { embedBatchSize: deps.embedBatchSize } : {}),
    ...(deps.embedConcurrency !== undefined ? { embedConcurrency: deps.embedConcurrency } : {}),
    ...(deps.chunking !== undefined ? { chunking: deps.chunking } : {}),
    ...(deps.loadLimits !== undefined ? { loadLimits: deps.loadLimits } : {}),
    ...(deps.sources !== undefined ? { sources: deps.sources } : {}),
    ...(deps.ocr !== undefined ? { ocr: deps.ocr } : {}),
  };
  const result = await ingestDocument(services, {
    tenant: data.tenant,
    documentId: data.documentId,
    source: data.source,
    ...(data.sourceName !== undefined ? { sourceName: data.sourceName } : {}),
    ...(data.metadata !== undefined ? { metadata: data.metadata } : {}),
    ...(data.password !== undefined ? { password: data.password } : {}),
    ...(data.chunking !== undefined ? { chunking: data.chunking } : {}),
    ...(data.force === true ? { force: true } : {}),
    ...(data.ocr !== undefined ? { ocr: data.ocr } : {}),
    ...(signal ? { signal } : {}),
    onProgress: (progress) => job.updateProgress(progress satisfies IngestProgress),
    assertOwner: async () => {
      if (!(await lease.stillHeld(data.seq))) {
        throw new QuireError('lease_lost', 'lost the lease on the document to another job; will try again', {
          retryable: true,
        });
      }
    },
    // A rate-limited job goes back to waiting without using an attempt, so it is never the last.
    isFinalFailure: (cause) =>
      !isRateLimited(cause) && (isPermanent(cause) || job.attemptsMade + 1 >= (job.opts.attempts ?? 1)),
  });
  for (const [stage, ms] of Object.entries(result.timingsMs)) {
    if (stage !== 'total') deps.metrics.stageDuration('ingest', stage, ms / 1000);
  }
  return { ...result, v: 1 };
}

/**
 * Runs `work` while holding the document's lease, unless a later job for the document already won.
 * Without the lease the job is parked in the delayed set and tried again (no attempt used).
 */
async function withDocumentLease<R extends IngestResult | DeleteResult>(
  deps: IngestDeps,
  job: DocumentJob,
  token: string | undefined,
  data: IngestJobData | DeleteJobData,
  work: (lease: DocumentLease) => Promise<R>,
): Promise<R | IngestResult | DeleteResult> {
  const keys = documentOrderKeys(deps.prefix, data.tenant, data.documentId);
  const lease = new DocumentLease(deps.redis, keys, `job:${job.id}`, {
    ttlMs: deps.documentLeaseMs ?? 30_000,
  });
  if (!(await lease.acquire())) {
    await job.updateProgress({ stage: 'waiting-for-document' } satisfies IngestProgress);
    const delay = (deps.documentBusyDelayMs ?? 1_000) * (0.75 + Math.random() * 0.5);
    await job.moveToDelayed(Date.now() + Math.round(delay), token);
    throw new DelayedError();
  }
  try {
    if (data.seq !== undefined && data.seq < (await lease.lastApplied())) {
      deps.logger.info({ seq: data.seq }, 'a later job for this document already won; nothing to do');
      return superseded(job.name, data);
    }
    const result = await work(lease);
    if (data.seq !== undefined) await lease.markApplied(data.seq);
    return result;
  } catch (error) {
    throw nameDocument(error, data.tenant, data.documentId);
  } finally {
    await lease
      .release()
      .catch((error: unknown) => deps.logger.warn({ err: error }, 'could not release document lease'));
  }
}

/** Failure reasons name the document they are about (unless they already do). */
function nameDocument(error: unknown, tenant: string, documentId: string): unknown {
  if (!(error instanceof Error) || error instanceof DelayedError || error.message.includes(documentId))
    return error;
  error.message = `document ${JSON.stringify(documentId)} of tenant ${tenant}: ${error.message}`;
  return error;
}

function superseded(name: string, data: IngestJobData | DeleteJobData): IngestResult | DeleteResult {
  if (name === JOB_NAMES.delete) {
    return { v: 1, tenant: data.tenant, documentId: data.documentId, outcome: 'superseded' };
  }
  return {
    v: 1,
    tenant: data.tenant,
    documentId: data.documentId,
    outcome: 'superseded',
    version: null,
    sourceName: null,
    kind: null,
    pages: null,
    chunks: 0,
    chunksEmbedded: 0,
    tokens: 0,
    timingsMs: {},
  };
}
