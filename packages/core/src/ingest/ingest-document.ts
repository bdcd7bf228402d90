/**
 * The ingest pipeline, the twin of `answerQuestion()`: a plain function with its services passed in.
 *
 * source → load → hash → chunk → skip if this version is already complete → embed the missing
 * chunks in batches → upsert each batch as it comes → delete the document's other versions.
 * Point ids derive from tenant, document, version and chunk index, so a retried or resumed run
 * rewrites the same points and never adds others.
 */
import { createHash } from 'node:crypto';
import type { Logger, ModelApi } from '@quire/api-client';
import type { IngestProgress, IngestResult, IngestStage } from '@quire/contracts';
import { CHUNKER_VERSION, chunkDocument } from '../chunker/chunk-document.js';
import { DEFAULT_CHUNKER_OPTIONS } from '../chunker/options.js';
import { CHUNKER_ENCODING } from '../chunker/tokens.js';
import type { Chunk } from '../chunker/types.js';
import { findDuplicateDocuments } from '../duplicates/index.js';
import { DocumentError, QuireError } from '../errors.js';
import { recipeKey } from '../loaders/extraction-recipe.js';
import { loadDocument } from '../loaders/load-document.js';
import type { OcrResultCache } from '../loaders/ocr/ocr-cache.js';
import { ocrChunkMetadata } from '../loaders/ocr/ocr-pages.js';
import { type OcrSettingsInput, resolveOcrSettings } from '../loaders/ocr/settings.js';
import type { PdfEngines } from '../loaders/pdf-engines.js';
import type { LoadLimitsInput } from '../loaders/types.js';
import { resolveSource } from '../sources/resolve-source.js';
import type { IngestSource, SourceOptions } from '../sources/types.js';
import { pointId } from '../vector-store/ids.js';
import type { ChunkPoint, VectorStore } from '../vector-store/types.js';

/** Bump when loading changes in a way that should produce new chunks for old files (the chunker has its own). */
export const PIPELINE_VERSION = 1;

/** Where an ingestion is, as reported to {@link IngestDocumentRequest.onProgress}: a job's progress. */
export type IngestDocumentProgress = IngestProgress & {
  stage: Exclude<IngestStage, 'waiting-for-document' | 'storing'>;
};

/** What an ingestion did: a job's result without its version field. */
export type IngestDocumentResult = Omit<IngestResult, 'v' | 'outcome' | 'version' | 'sourceName' | 'kind'> & {
  /** Stored a new version, or found this version already complete. */
  outcome: 'ingested' | 'skipped';
  version: string;
  sourceName: string;
  kind: string;
};

/** The services and settings documents are ingested with. */
export interface IngestDocumentDeps {
  store: VectorStore;
  /** The model API (wrap it with a shared rate limit when several processes embed). */
  models: ModelApi;
  /** Embedding model name; the store must hold vectors of this model. */
  embeddingModel: string;
  /** Vector dimension the model returns and the store holds. */
  dimension: number;
  /**
   * Chunks per embeddings request.
   * @defaultValue 64
   */
  embedBatchSize?: number;
  /**
   * Embeddings requests in flight per document.
   * @defaultValue 4
   */
  embedConcurrency?: number;
  /** Chunk size and overlap in tokens when the request names none. Default: `DEFAULT_CHUNKER_OPTIONS`. */
  chunking?: { chunkSize?: number | undefined; chunkOverlap?: number | undefined };
  /** Limits on the loaded file, merged over `DEFAULT_LOAD_LIMITS`. */
  loadLimits?: LoadLimitsInput;
  /** The PDF engines. Default: the process-wide `defaultPdfEngines()` (`QUIRE_PDF_ENGINE`). */
  pdfEngines?: PdfEngines;
  /** Where sources may be read from (roots, URL policy, size and time limits). Default: `DEFAULT_SOURCE_OPTIONS`. */
  sources?: Partial<SourceOptions>;
  /** Told (at `info`/`warn`) of skips, resumes and clean-ups; silent without one. */
  logger?: Logger;
  /**
   * OCR of scanned PDF pages and image files: settings over `DEFAULT_OCR_SETTINGS`, and the result
   * cache. Default: OCR in mode `auto` with English, no cache.
   */
  ocr?: { settings?: OcrSettingsInput; cache?: OcrResultCache };
}

/** One document, and how to ingest it. */
export interface IngestDocumentRequest {
  tenant: string;
  documentId: string;
  source: IngestSource;
  /** Display name for citations. Default: the source's file name. */
  sourceName?: string;
  /** Stored with every chunk; filters can select on it. Default: none. */
  metadata?: Record<string, string | number | boolean>;
  /** Password of an encrypted PDF. Never logged. */
  password?: string;
  /** Overrides the deps' chunk size and overlap for this document. */
  chunking?: { chunkSize?: number | undefined; chunkOverlap?: number | undefined };
  /**
   * Embed and store every chunk again even when this version is already stored (complete or in
   * part); the points are rewritten under the same ids. Default false.
   */
  force?: boolean;
  /** Overrides the deps' OCR settings for this document (mode, languages, threshold). */
  ocr?: OcrSettingsInput;
  /** Aborts every source, load, model and store call; the ingestion then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Told of each stage and of every stored batch. A rejection fails the ingestion. */
  onProgress?: (progress: IngestDocumentProgress) => unknown;
  /**
   * Checked before every write to the store: rejects when the caller no longer owns the document
   * (its lease expired, a later job took over), so a run that lost the document stops writing.
   * Default: the caller always owns it.
   */
  assertOwner?: () => Promise<void>;
  /**
   * Asked when embedding or storing fails: true when no retry of this document will follow. The
   * chunks stored of the unfinished version are then removed, so a failure leaves nothing
   * half-written behind; otherwise they are kept and the retry resumes from there.
   * Not asked when `signal` aborted the run. Default: the error is not retryable.
   */
  isFinalFailure?: (cause: unknown) => boolean | Promise<boolean>;
}

const DEFAULT_EMBED_BATCH_SIZE = 64;
const DEFAULT_EMBED_CONCURRENCY = 4;

/** The version of a document: its bytes and everything that shapes its stored chunks. */
export function documentVersion(bytes: Uint8Array, parts: Record<string, unknown>): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ pipeline: PIPELINE_VERSION, ...parts }));
  hash.update('\0');
  hash.update(bytes);
  return hash.digest('hex').slice(0, 32);
}

/**
 * Ingests one document into the tenant's store. Failures keep the causes' errors: `QuireError`s of
 * the source, the loader and the store (`retryable` says whether to try again), the model API's
 * errors, `no_text` when nothing is left after chunking, and `invalid_input` when the embedding
 * model returns the wrong count or dimension of vectors.
 */
export async function ingestDocument(
  deps: IngestDocumentDeps,
  request: IngestDocumentRequest,
): Promise<IngestDocumentResult> {
  const { store, logger } = deps;
  const { tenant, documentId, signal } = request;
  const embedBatchSize = positive('embedBatchSize', deps.embedBatchSize, DEFAULT_EMBED_BATCH_SIZE);
  const embedConcurrency = positive('embedConcurrency', deps.embedConcurrency, DEFAULT_EMBED_CONCURRENCY);
  const progress = async (p: IngestDocumentProgress) => {
    await request.onProgress?.(p);
  };
  const assertOwner = async () => {
    await request.assertOwner?.();
  };
  const timings: Record<string, number> = {};
  const started = performance.now();
  let mark = started;
  const lap = (stage: string) => {
    const now = performance.now();
    timings[stage] = Math.round((now - mark) * 100) / 100;
    mark = now;
  };

  await progress({ stage: 'loading' });
  const ocrSettings = resolveOcrSettings(deps.ocr?.settings, request.ocr);
  // Progress of a long scan, page by page; sent in order, one at a time.
  let ocrProgress = Promise.resolve();
  const onOcrPage = ({ done, total }: { done: number; total: number }) => {
    ocrProgress = ocrProgress
      .then(() => progress({ stage: 'loading', pages: null, ocrPages: total, ocrPagesDone: done }))
      .catch(() => undefined);
  };
  const source = await resolveSource(request.source, { ...deps.sources, ...(signal ? { signal } : {}) });
  const doc = await loadDocument(
    {
      bytes: source.bytes,
      name: source.name,
      ...(source.claimedType ? { claimedType: source.claimedType } : {}),
      ...(request.password !== undefined ? { password: request.password } : {}),
      ...(signal ? { signal } : {}),
    },
    {
      ...(deps.loadLimits ? { limits: deps.loadLimits } : {}),
      ...(deps.pdfEngines ? { pdfEngines: deps.pdfEngines } : {}),
      ocr: {
        settings: ocrSettings,
        onPage: onOcrPage,
        ...(deps.ocr?.cache === undefined ? {} : { cache: deps.ocr.cache }),
      },
    },
  );
  await ocrProgress;
  lap('load');

  const chunking = {
    chunkSize: request.chunking?.chunkSize ?? deps.chunking?.chunkSize ?? DEFAULT_CHUNKER_OPTIONS.chunkSize,
    chunkOverlap:
      request.chunking?.chunkOverlap ?? deps.chunking?.chunkOverlap ?? DEFAULT_CHUNKER_OPTIONS.chunkOverlap,
  };
  const sourceName = request.sourceName ?? source.name;
  const metadata = request.metadata ?? {};
  const version = documentVersion(source.bytes, {
    chunking,
    chunker: [CHUNKER_VERSION, CHUNKER_ENCODING],
    model: deps.embeddingModel,
    dimension: deps.dimension,
    sourceName,
    metadata,
    // Engine, engine version, repair rules and, for documents OCR read, the OCR recipe: a fix to
    // any gives a new version.
    extraction: recipeKey(
      doc.ocr === undefined ? doc.extraction : { ...doc.extraction, ocr: doc.ocr.recipe },
    ),
  });
  await progress({ stage: 'chunking', pages: doc.pageCount });
  const chunks = chunkDocument(doc, chunking);
  lap('chunk');
  if (chunks.length === 0) throw new DocumentError(source.name, 'no_text', 'no text to index after chunking');
  const tokens = chunks.reduce((sum, c) => sum + c.tokenCount, 0);
  const duplicateOf = await reportDuplicates(deps, tenant, documentId, chunks, signal);
  const base = {
    tenant,
    documentId,
    version,
    sourceName,
    kind: doc.kind,
    pages: doc.pageCount,
    chunks: chunks.length,
    tokens,
    ...(duplicateOf.length > 0 ? { duplicateOf } : {}),
  };

  const stored =
    request.force === true ? 0 : await store.countChunks(tenant, documentId, version, { signal });
  if (request.force === true) {
    logger?.info({ tenant, documentId, version, extraction: doc.extraction }, 'forced: ingesting again');
  }
  if (stored === chunks.length) {
    await progress({ stage: 'cleanup', chunks: chunks.length });
    await assertOwner();
    await store.deleteOtherVersions(tenant, documentId, version, { signal });
    lap('cleanup');
    timings.total = Math.round(performance.now() - started);
    logger?.info({ tenant, documentId, version, chunks: chunks.length }, 'document unchanged; skipped');
    await progress({ stage: 'done', pages: doc.pageCount, chunks: chunks.length, chunksEmbedded: 0 });
    return { ...base, outcome: 'skipped', chunksEmbedded: 0, timingsMs: timings };
  }

  // Resume: an interrupted run of this version left some chunks stored; embed only the others.
  let missing = chunks;
  if (stored > 0) {
    const present = new Set(
      (await store.listChunks(tenant, { documentId, signal }))
        .filter((r) => r.version === version)
        .map((r) => r.chunkIndex),
    );
    missing = chunks.filter((c) => !present.has(c.index));
    logger?.info(
      { tenant, documentId, version, stored: present.size, missing: missing.length },
      'resuming an interrupted ingestion',
    );
  }

  const ingestedAt = new Date().toISOString();
  const batches: Chunk[][] = [];
  for (let i = 0; i < missing.length; i += embedBatchSize) batches.push(missing.slice(i, i + embedBatchSize));
  let batchesDone = 0;
  let chunksEmbedded = 0;
  const embedding = (): IngestDocumentProgress => ({
    stage: 'embedding',
    pages: doc.pageCount,
    chunks: chunks.length,
    chunksEmbedded,
    batches: batches.length,
    batchesDone,
  });
  await progress(embedding());

  const toPoint = (chunk: Chunk, vector: number[]): ChunkPoint => ({
    id: pointId(tenant, documentId, version, chunk.index),
    tenant,
    documentId,
    version,
    chunkIndex: chunk.index,
    chunkCount: chunks.length,
    text: chunk.text,
    pageStart: chunk.pageStart,
    pageEnd: chunk.pageEnd,
    headingPath: chunk.headingPath,
    sourceName,
    metadata:
      doc.ocr === undefined
        ? metadata
        : { ...metadata, ...ocrChunkMetadata(doc.ocr, chunk.pageStart, chunk.pageEnd) },
    ingestedAt,
    vector,
  });

  // Batches run `embedConcurrency` at a time; the first failure stops the others.
  const stop = new AbortController();
  const batchSignal = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
  let next = 0;
  const runner = async () => {
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
      await assertOwner();
      await store.upsert(
        tenant,
        batch.map((c, i) => toPoint(c, result.vectors[i]!)),
        { signal: batchSignal },
      );
      batchesDone += 1;
      chunksEmbedded += batch.length;
      await progress(embedding());
    }
  };
  const runners = Array.from({ length: Math.min(embedConcurrency, batches.length) }, () =>
    runner().catch((error: unknown) => {
      stop.abort(error);
      throw error;
    }),
  );
  // Wait for every runner to settle so nothing keeps writing after the ingestion has failed.
  const settled = await Promise.allSettled(runners);
  const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) {
    const cause = firstCause(failure.reason, stop.signal);
    await removeUnfinishedVersion(deps, request, version, cause);
    throw cause;
  }
  lap('embed_store');

  await progress({ stage: 'cleanup', chunks: chunks.length, chunksEmbedded });
  await assertOwner();
  await store.deleteOtherVersions(tenant, documentId, version, { signal });
  lap('cleanup');
  timings.total = Math.round(performance.now() - started);
  await progress({ stage: 'done', pages: doc.pageCount, chunks: chunks.length, chunksEmbedded });
  return { ...base, outcome: 'ingested', chunksEmbedded, timingsMs: timings };
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) {
    throw new QuireError('invalid_input', `${name} must be a positive integer, got ${value}`);
  }
  return value;
}

/** The error that stopped the batches, rather than the abort it caused in the others. */
function firstCause(reason: unknown, stopped: AbortSignal): unknown {
  return stopped.aborted && stopped.reason !== undefined ? stopped.reason : reason;
}

/**
 * When no retry will follow, removes the chunks stored of a version that could not be finished.
 * Only while the caller still owns the document: otherwise another run is writing it now.
 */
async function removeUnfinishedVersion(
  deps: IngestDocumentDeps,
  request: IngestDocumentRequest,
  version: string,
  cause: unknown,
): Promise<void> {
  const { tenant, documentId } = request;
  // Stopped from outside (shutdown, cancellation): whoever stopped the run decides what follows.
  if (request.signal?.aborted) return;
  const final = request.isFinalFailure
    ? await request.isFinalFailure(cause)
    : (cause as { retryable?: unknown } | null)?.retryable === false;
  if (!final) return;
  const owned = request.assertOwner
    ? await request.assertOwner().then(
        () => true,
        () => false,
      )
    : true;
  if (!owned) return;
  try {
    await deps.store.deleteVersion(tenant, documentId, version);
    deps.logger?.warn(
      { tenant, documentId, version },
      'ingestion failed for good; removed the chunks of its unfinished version',
    );
  } catch (error) {
    deps.logger?.error(
      { tenant, documentId, version, err: error },
      'could not remove the chunks of an unfinished version',
    );
  }
}

/** Other documents of the tenant with this content, logged; a failed look is no reason to fail. */
async function reportDuplicates(
  deps: IngestDocumentDeps,
  tenant: string,
  documentId: string,
  chunks: readonly Chunk[],
  signal: AbortSignal | undefined,
): Promise<string[]> {
  try {
    const duplicateOf = await findDuplicateDocuments({
      store: deps.store,
      tenant,
      documentId,
      chunks,
      ...(signal ? { signal } : {}),
    });
    if (duplicateOf.length > 0) {
      deps.logger?.warn(
        { tenant, documentId, duplicateOf },
        'the same content is stored under other document ids; retrieval collapses their passages',
      );
    }
    return duplicateOf;
  } catch (error) {
    if (signal?.aborted) throw error;
    deps.logger?.warn({ tenant, documentId, err: error }, 'could not look for duplicate documents');
    return [];
  }
}
