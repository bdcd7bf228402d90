/**
 * The ingest processor: a plain function with its services passed in, testable without a process.
 *
 * ingest: resolve the source → load → hash → chunk → skip if this version is already complete →
 * embed the missing chunks in batches (through the shared rate limit) → upsert each batch as it
 * comes → delete the document's other versions. Point ids derive from tenant, document, version
 * and chunk index, so a retried or resumed job rewrites the same points and never adds others.
 */
import { createHash } from 'node:crypto';
import type { ModelApi } from '@quire/api-client';
import {
  CHUNKER_ENCODING,
  CHUNKER_VERSION,
  type Chunk,
  type ChunkPoint,
  chunkDocument,
  DEFAULT_CHUNKER_OPTIONS,
  findDuplicateDocuments,
  type LoadLimits,
  loadDocument,
  pointId,
  QuireError,
  resolveSource,
  type SourceOptions,
  type VectorStore,
} from '@quire/core';
import {
  type DeleteJobData,
  DeleteJobDataSchema,
  type DeleteResult,
  DocumentLease,
  describeZodError,
  documentOrderKeys,
  type IngestJobData,
  IngestJobDataSchema,
  type IngestProgress,
  type IngestResult,
  isPermanent,
  isRateLimited,
  JOB_NAMES,
} from '@quire/jobs';
import type { Metrics } from '@quire/runtime';
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** Bump when loading changes in a way that should produce new chunks for old files (the chunker has its own). */
export const PIPELINE_VERSION = 1;

export interface IngestDeps {
  store: VectorStore;
  /** The model API, already wrapped with the shared rate limit and metrics. */
  models: ModelApi;
  embeddingModel: string;
  dimension: number;
  /** Chunks per embeddings request. */
  embedBatchSize: number;
  /** Embeddings requests in flight per job. */
  embedConcurrency: number;
  chunking: { chunkSize?: number | undefined; chunkOverlap?: number | undefined };
  loadLimits: Partial<LoadLimits>;
  sources: Partial<SourceOptions>;
  redis: Redis;
  prefix: string;
  logger: Logger;
  metrics: Metrics;
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
    let deps = rootDeps;
    const raw = (job.data ?? {}) as { tenant?: unknown; documentId?: unknown };
    const logger = deps.logger.child({
      jobId: job.id,
      queue: 'ingest',
      tenant: raw.tenant,
      documentId: raw.documentId,
    });
    deps = { ...deps, logger };
    if (job.name === JOB_NAMES.ingest) {
      const parsed = IngestJobDataSchema.safeParse(job.data);
      if (!parsed.success)
        throw new UnrecoverableError(`invalid ingest job: ${describeZodError(parsed.error)}`);
      return withDocumentLease(deps, job, token, parsed.data, (lease) =>
        ingest(deps, job, parsed.data, lease, signal),
      );
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

/** Stops a job that lost its document's lease (it expired, or a later job took over) before it writes. */
async function assertLease(lease: DocumentLease, seq: number | undefined): Promise<void> {
  if (!(await lease.stillHeld(seq))) {
    throw new QuireError('lease_lost', 'lost the lease on the document to another job; will try again', {
      retryable: true,
    });
  }
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

/**
 * When this attempt is the job's last (a permanent error, or no attempts left), removes the chunks it
 * stored of a version it could not finish, so that a failed job leaves nothing half-written behind.
 * Earlier attempts keep them: the retry resumes from there.
 */
async function removeUnfinishedVersion(
  deps: IngestDeps,
  job: DocumentJob,
  data: IngestJobData,
  lease: DocumentLease,
  version: string,
  cause: unknown,
): Promise<void> {
  const last = isPermanent(cause) || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  if (!last || isRateLimited(cause) || !(await lease.stillHeld(data.seq).catch(() => false))) return;
  try {
    await deps.store.deleteVersion(data.tenant, data.documentId, version);
    deps.logger.warn({ version }, 'job failed for good; removed the chunks of its unfinished version');
  } catch (error) {
    deps.logger.error({ err: error, version }, 'could not remove the chunks of an unfinished version');
  }
}

/** The error that stopped the batches, rather than the abort it caused in the others. */
function firstCause(reason: unknown, stopped: AbortSignal): unknown {
  return stopped.aborted && stopped.reason !== undefined ? stopped.reason : reason;
}

/** The version of a document: its bytes and everything that shapes its stored chunks. */
export function documentVersion(bytes: Uint8Array, parts: Record<string, unknown>): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ pipeline: PIPELINE_VERSION, ...parts }));
  hash.update('\0');
  hash.update(bytes);
  return hash.digest('hex').slice(0, 32);
}

/** Other documents of the tenant with this content, logged; a failed look is no reason to fail the job. */
async function reportDuplicates(
  deps: IngestDeps,
  data: IngestJobData,
  chunks: readonly Chunk[],
  signal: AbortSignal | undefined,
): Promise<string[]> {
  try {
    const duplicateOf = await findDuplicateDocuments({
      store: deps.store,
      tenant: data.tenant,
      documentId: data.documentId,
      chunks,
      ...(signal ? { signal } : {}),
    });
    if (duplicateOf.length > 0) {
      deps.logger.warn(
        { duplicateOf },
        'the same content is stored under other document ids; retrieval collapses their passages',
      );
    }
    return duplicateOf;
  } catch (error) {
    if (signal?.aborted) throw error;
    deps.logger.warn({ err: error }, 'could not look for duplicate documents');
    return [];
  }
}

async function ingest(
  deps: IngestDeps,
  job: DocumentJob,
  data: IngestJobData,
  lease: DocumentLease,
  signal?: AbortSignal,
) {
  const { store, logger } = deps;
  const timings: Record<string, number> = {};
  const started = performance.now();
  let mark = started;
  const lap = (stage: string) => {
    const now = performance.now();
    timings[stage] = Math.round((now - mark) * 100) / 100;
    deps.metrics.stageDuration('ingest', stage, (now - mark) / 1000);
    mark = now;
  };
  const progress = (p: IngestProgress) => job.updateProgress(p);

  await progress({ stage: 'loading' });
  const source = await resolveSource(data.source, { ...deps.sources, ...(signal ? { signal } : {}) });
  const doc = await loadDocument(
    {
      bytes: source.bytes,
      name: source.name,
      ...(source.claimedType ? { claimedType: source.claimedType } : {}),
      ...(data.password !== undefined ? { password: data.password } : {}),
      ...(signal ? { signal } : {}),
    },
    { limits: deps.loadLimits },
  );
  lap('load');

  const chunking = {
    chunkSize: data.chunking?.chunkSize ?? deps.chunking.chunkSize ?? DEFAULT_CHUNKER_OPTIONS.chunkSize,
    chunkOverlap:
      data.chunking?.chunkOverlap ?? deps.chunking.chunkOverlap ?? DEFAULT_CHUNKER_OPTIONS.chunkOverlap,
  };
  const sourceName = data.sourceName ?? source.name;
  const metadata = data.metadata ?? {};
  const version = documentVersion(source.bytes, {
    chunking,
    chunker: [CHUNKER_VERSION, CHUNKER_ENCODING],
    model: deps.embeddingModel,
    dimension: deps.dimension,
    sourceName,
    metadata,
  });
  await progress({ stage: 'chunking', pages: doc.pageCount });
  const chunks = chunkDocument(doc, chunking);
  lap('chunk');
  if (chunks.length === 0) {
    throw new UnrecoverableError(`${JSON.stringify(source.name)}: no text to index after chunking`);
  }
  const tokens = chunks.reduce((sum, c) => sum + c.tokenCount, 0);
  const duplicateOf = await reportDuplicates(deps, data, chunks, signal);
  const base = {
    v: 1 as const,
    tenant: data.tenant,
    documentId: data.documentId,
    version,
    sourceName,
    kind: doc.kind,
    pages: doc.pageCount,
    chunks: chunks.length,
    tokens,
    ...(duplicateOf.length > 0 ? { duplicateOf } : {}),
  };

  const stored = await store.countChunks(data.tenant, data.documentId, version, { signal });
  if (stored === chunks.length) {
    await progress({ stage: 'cleanup', chunks: chunks.length });
    await assertLease(lease, data.seq);
    await store.deleteOtherVersions(data.tenant, data.documentId, version, { signal });
    lap('cleanup');
    timings.total = Math.round(performance.now() - started);
    logger.info({ version, chunks: chunks.length }, 'document unchanged; skipped');
    await progress({ stage: 'done', pages: doc.pageCount, chunks: chunks.length, chunksEmbedded: 0 });
    return { ...base, outcome: 'skipped' as const, chunksEmbedded: 0, timingsMs: timings };
  }

  // Resume: an interrupted run of this version left some chunks stored; embed only the others.
  let missing = chunks;
  if (stored > 0) {
    const present = new Set(
      (await store.listChunks(data.tenant, { documentId: data.documentId, signal }))
        .filter((r) => r.version === version)
        .map((r) => r.chunkIndex),
    );
    missing = chunks.filter((c) => !present.has(c.index));
    logger.info(
      { version, stored: present.size, missing: missing.length },
      'resuming an interrupted ingestion',
    );
  }

  const ingestedAt = new Date().toISOString();
  const batches: Chunk[][] = [];
  for (let i = 0; i < missing.length; i += deps.embedBatchSize)
    batches.push(missing.slice(i, i + deps.embedBatchSize));
  let batchesDone = 0;
  let chunksEmbedded = 0;
  await progress({
    stage: 'embedding',
    pages: doc.pageCount,
    chunks: chunks.length,
    chunksEmbedded,
    batches: batches.length,
    batchesDone,
  });

  const toPoint = (chunk: Chunk, vector: number[]): ChunkPoint => ({
    id: pointId(data.tenant, data.documentId, version, chunk.index),
    tenant: data.tenant,
    documentId: data.documentId,
    version,
    chunkIndex: chunk.index,
    chunkCount: chunks.length,
    text: chunk.text,
    pageStart: chunk.pageStart,
    pageEnd: chunk.pageEnd,
    headingPath: chunk.headingPath,
    sourceName,
    metadata,
    ingestedAt,
    vector,
  });

  // Batches run `embedConcurrency` at a time; the first failure stops the others.
  const stop = new AbortController();
  const batchSignal = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const batch = batches[next++]!;
      batchSignal.throwIfAborted();
      const result = await deps.models.embeddings(
        { model: deps.embeddingModel, input: batch.map((c) => c.text) },
        { signal: batchSignal, estimatedTokens: batch.reduce((sum, c) => sum + c.tokenCount, 0) },
      );
      if (result.vectors.length !== batch.length || result.dimension !== deps.dimension) {
        throw new QuireError(
          'invalid_input',
          `embedding model ${deps.embeddingModel} returned ${result.vectors.length} vectors of dimension ${result.dimension} for ${batch.length} inputs; expected dimension ${deps.dimension}`,
          { retryable: true },
        );
      }
      await assertLease(lease, data.seq);
      await store.upsert(
        data.tenant,
        batch.map((c, i) => toPoint(c, result.vectors[i]!)),
        { signal: batchSignal },
      );
      batchesDone += 1;
      chunksEmbedded += batch.length;
      await progress({
        stage: 'embedding',
        pages: doc.pageCount,
        chunks: chunks.length,
        chunksEmbedded,
        batches: batches.length,
        batchesDone,
      });
    }
  };
  const runners = Array.from({ length: Math.min(deps.embedConcurrency, batches.length) }, () =>
    worker().catch((error: unknown) => {
      stop.abort(error);
      throw error;
    }),
  );
  // Wait for every runner to settle so nothing keeps writing after the job has failed.
  const settled = await Promise.allSettled(runners);
  const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) {
    const cause = firstCause(failure.reason, stop.signal);
    await removeUnfinishedVersion(deps, job, data, lease, version, cause);
    throw cause;
  }
  lap('embed_store');

  await progress({ stage: 'cleanup', chunks: chunks.length, chunksEmbedded });
  await assertLease(lease, data.seq);
  await store.deleteOtherVersions(data.tenant, data.documentId, version, { signal });
  lap('cleanup');
  timings.total = Math.round(performance.now() - started);
  await progress({ stage: 'done', pages: doc.pageCount, chunks: chunks.length, chunksEmbedded });
  return { ...base, outcome: 'ingested' as const, chunksEmbedded, timingsMs: timings };
}
