/**
 * The Qdrant adapter of `VectorStore`: one collection per embedding model and dimension, the tenant
 * as a payload field with a tenant index, a named dense vector (`dense`, Cosine) and a named sparse
 * vector (`lexical`, IDF modifier) for lexical search. See QDRANT.md for the Qdrant behaviours it
 * relies on.
 *
 * Limit: lexical scores are not tenant-independent here. Qdrant computes the IDF of a sparse query
 * from the whole collection (every tenant's points), and the tenant filter only narrows which points
 * come back, so one tenant's documents change another's lexical scores and, at the margin, its
 * ranking. The SQLite store keeps statistics per tenant; see QDRANT.md, "Lexical statistics and tenants".
 */
import { createHash } from 'node:crypto';
import type { QdrantClient, Schemas } from '@qdrant/js-client-rest';
import type { Logger } from '@quire/api-client';
import { z } from 'zod';
import { StoreError } from '../errors.js';
import { compareCodePoints } from './ids.js';
import { sparseVector } from './lexical.js';
import type {
  ChunkPoint,
  ChunkRecord,
  DocumentSummary,
  ListDocumentsOptions,
  MetadataValue,
  SearchFilter,
  SearchHit,
  SearchOptions,
  VectorStoreAdapter,
  WriteOptions,
} from './types.js';

type QdrantModule = typeof import('@qdrant/js-client-rest');
type QdrantApi = ReturnType<QdrantClient['api']>;

/**
 * The client library, loaded when the first Qdrant store is made: a process on the embedded store
 * (every default one) never pays for loading it (~0.14 s of CPU with its own HTTP stack).
 */
let qdrantModule: Promise<QdrantModule> | undefined;
/** The library once loaded, for telling its error classes apart. */
let qdrantLoaded: QdrantModule | undefined;

function loadQdrant(): Promise<QdrantModule> {
  qdrantModule ??= import('@qdrant/js-client-rest').then(
    (module) => {
      qdrantLoaded = module;
      return module;
    },
    (error: unknown) => {
      // Tried again by the next call.
      qdrantModule = undefined;
      throw error;
    },
  );
  return qdrantModule;
}

export interface QdrantVectorStoreOptions {
  /** Base URL of Qdrant's REST API, with scheme and port, e.g. `http://localhost:6333`. */
  url: string;
  /** API key, sent in the `api-key` header; never logged nor put in error messages. Default: none. */
  apiKey?: string;
  /**
   * Collection holding the chunks: one per embedding model and dimension, see
   * {@link qdrantCollectionName}. Created by `init()` when missing.
   */
  collection: string;
  /** Dimension of the dense vectors (the embedding model's output size). */
  dimension: number;
  /**
   * Deadline of each HTTP request, in milliseconds; a request past it fails with a retryable
   * `store_unavailable`. Default 30 000 (the Qdrant client's own default would be 300 s).
   */
  timeoutMs?: number;
  /**
   * Whether `init()` compares the server's version with the client's (same major, minor at most one
   * apart) and warns through `logger` when they differ. Default `true`.
   */
  checkCompatibility?: boolean;
  /** Points per upsert request; a larger upsert is split into requests of this size. Default 256. */
  upsertBatchSize?: number;
  /** Points per scroll page when listing documents or chunks. Default 256. */
  scrollPageSize?: number;
  /** Receives the version warning. Default: none (the store stays quiet). */
  logger?: Logger;
  /**
   * Open for reading only, as the gateway and the CLI do: the collection and its indexes are never
   * created (the workers' `init()` does that), a collection that does not exist yet reads as empty
   * until it does, and every write is refused. Default false.
   */
  readOnly?: boolean;
}

/** Names of the dense and the sparse vector in a Quire collection. */
const DENSE = 'dense';
const LEXICAL = 'lexical';
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_BATCH = 256;
/** Most hits one search may ask for: every hit carries its chunk text, so more would be megabytes. */
const MAX_LIMIT = 1000;

/**
 * The line of `@qdrant/js-client-rest` this adapter is built on (kept in step with package.json; a
 * unit test checks it). Qdrant promises compatibility within one minor version.
 */
export const QDRANT_CLIENT_VERSION = '1.18.0';

/** Payload indexes of a Quire collection; `tenant` is a tenant index (Qdrant co-locates its points). */
const PAYLOAD_INDEXES: readonly { field: string; schema: Schemas['PayloadFieldSchema'] }[] = [
  { field: 'tenant', schema: { type: 'keyword', is_tenant: true } },
  { field: 'document_id', schema: 'keyword' },
  { field: 'version', schema: 'keyword' },
  { field: 'source_name', schema: 'keyword' },
];

/**
 * The collection name for an embedding model and dimension: `quire_<model>_<dimension>`, the model
 * lower-cased with every character outside `[a-z0-9_-]` replaced by `_`. When that changed the name,
 * 8 hex digits of a hash of the exact model name follow, so that two models differing only in case or
 * punctuation never share a collection.
 */
export function qdrantCollectionName(model: string, dimension: number): string {
  if (model.length === 0) throw new StoreError('store_rejected', 'the embedding model name is empty');
  if (!Number.isSafeInteger(dimension) || dimension <= 0) {
    throw new StoreError('store_rejected', `the dimension must be a positive integer, got ${dimension}`);
  }
  const cleaned = model
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '_')
    .slice(0, 180);
  const suffix = cleaned === model ? '' : `_${createHash('sha256').update(model).digest('hex').slice(0, 8)}`;
  return `quire_${cleaned}_${dimension}${suffix}`;
}

const metadataValueSchema = z.union([z.string(), z.number(), z.boolean()]);

/** The stored payload of a chunk; anything else in the collection is refused rather than guessed at. */
const chunkPayloadSchema = z.object({
  tenant: z.string(),
  document_id: z.string(),
  version: z.string(),
  chunk_index: z.number().int().nonnegative(),
  chunk_count: z.number().int().nonnegative(),
  text: z.string(),
  page_start: z.number().int().nullable(),
  page_end: z.number().int().nullable(),
  heading_path: z.array(z.string()),
  source_name: z.string(),
  metadata: z.record(z.string(), metadataValueSchema),
  ingested_at: z.string(),
});
type ChunkPayload = z.infer<typeof chunkPayloadSchema>;

const summaryPayloadSchema = chunkPayloadSchema.pick({
  document_id: true,
  version: true,
  chunk_count: true,
  source_name: true,
  ingested_at: true,
  page_start: true,
  page_end: true,
});
const SUMMARY_FIELDS = Object.keys(summaryPayloadSchema.shape);

const pointIdSchema = z.union([z.string(), z.number()]);

const scoredPointSchema = z.object({
  id: pointIdSchema,
  score: z.number(),
  payload: z.record(z.string(), z.unknown()).nullable().optional(),
});
const queryResultSchema = z.object({ points: z.array(scoredPointSchema) });
const countResultSchema = z.object({ count: z.number().int().nonnegative() });
const scrollResultSchema = z.object({
  points: z.array(
    z.object({ id: pointIdSchema, payload: z.record(z.string(), z.unknown()).nullable().optional() }),
  ),
  next_page_offset: pointIdSchema.nullable().optional(),
});
const existsResultSchema = z.object({ exists: z.boolean() });
const updateResultSchema = z.object({ status: z.string() });
const vectorParamsSchema = z.object({ size: z.number().int(), distance: z.string() });
const collectionInfoSchema = z.object({
  config: z.object({
    params: z.object({
      vectors: z.unknown().optional(),
      sparse_vectors: z
        .record(z.string(), z.object({ modifier: z.string().nullable().optional() }).passthrough())
        .nullable()
        .optional(),
    }),
  }),
  payload_schema: z
    .record(
      z.string(),
      z.object({ data_type: z.string(), params: z.record(z.string(), z.unknown()).nullable().optional() }),
    )
    .optional(),
});
const versionInfoSchema = z.object({ version: z.string() });

/** An error thrown by the client's fetch layer for a non-2xx answer (its class is not exported). */
interface HttpFailure {
  status: number;
  headers: Headers;
  data: unknown;
}

function isHttpFailure(error: unknown): error is HttpFailure {
  return (
    error instanceof Error &&
    typeof (error as Partial<HttpFailure>).status === 'number' &&
    (error as Partial<HttpFailure>).headers instanceof Headers
  );
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date. */
function parseRetryAfter(value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Qdrant's error text from an error body (`{status: {error}}`), or a short plain-text body. */
function serverMessage(data: unknown): string | undefined {
  if (typeof data === 'string') return data.trim().slice(0, 300) || undefined;
  if (data !== null && typeof data === 'object') {
    const status = (data as { status?: unknown }).status;
    if (status !== null && typeof status === 'object') {
      const message = (status as { error?: unknown }).error;
      if (typeof message === 'string') return message.slice(0, 500);
    }
  }
  return undefined;
}

/** Network failures that say nothing about the request itself. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

function causeCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current !== null && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function versionParts(version: string): [number, number] | undefined {
  const match = /^v?(\d+)\.(\d+)/.exec(version);
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}

/** Qdrant's payload key syntax: a raw key is letters, digits, `_` and `-`; others are double-quoted. */
function metadataKeyPath(key: string): string {
  if (/^[\p{L}\p{N}_-]+$/u.test(key)) return `metadata.${key}`;
  if (key.includes('"') || key.includes('\\')) {
    throw new StoreError(
      'store_rejected',
      `metadata key ${JSON.stringify(key)} cannot be filtered on in Qdrant: it holds a double quote or a backslash`,
    );
  }
  return `metadata."${key}"`;
}

function metadataCondition(key: string, value: MetadataValue): Schemas['FieldCondition'] {
  const path = metadataKeyPath(key);
  // Qdrant matches strings, integers and booleans by value; a fractional number needs a range.
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    return { key: path, range: { gte: value, lte: value } };
  }
  return { key: path, match: { value } };
}

function toPayload(point: ChunkPoint): ChunkPayload {
  return {
    tenant: point.tenant,
    document_id: point.documentId,
    version: point.version,
    chunk_index: point.chunkIndex,
    chunk_count: point.chunkCount,
    text: point.text,
    page_start: point.pageStart,
    page_end: point.pageEnd,
    heading_path: point.headingPath,
    source_name: point.sourceName,
    metadata: point.metadata,
    ingested_at: point.ingestedAt,
  };
}

function compareRecords(a: ChunkRecord, b: ChunkRecord): number {
  return (
    compareCodePoints(a.documentId, b.documentId) ||
    a.chunkIndex - b.chunkIndex ||
    compareCodePoints(a.version, b.version)
  );
}

export class QdrantVectorStore implements VectorStoreAdapter {
  readonly dimension: number;
  /** Largest search `limit` answered; the tenant guard refuses more. */
  readonly maxSearchLimit = MAX_LIMIT;
  readonly collection: string;
  private readonly url: string;
  /** Made once the client library has loaded (see {@link api}). */
  private client: Promise<QdrantClient> | undefined;
  private readonly apiKey: string | undefined;
  private readonly timeoutMs: number;
  private readonly checkCompatibility: boolean;
  private readonly upsertBatchSize: number;
  private readonly scrollPageSize: number;
  private readonly logger: Logger | undefined;
  readonly readOnly: boolean;
  /** Read-only: whether the collection was found (it is looked for again until it is). */
  private present = false;
  private compatibilityChecked = false;
  private closed = false;

  constructor(options: QdrantVectorStoreOptions) {
    if (!Number.isSafeInteger(options.dimension) || options.dimension <= 0) {
      throw new StoreError(
        'store_rejected',
        `dimension must be a positive integer, got ${options.dimension}`,
      );
    }
    for (const [name, value] of [
      ['timeoutMs', options.timeoutMs],
      ['upsertBatchSize', options.upsertBatchSize],
      ['scrollPageSize', options.scrollPageSize],
    ] as const) {
      if (value !== undefined && (!Number.isSafeInteger(value) || value <= 0)) {
        throw new StoreError('store_rejected', `${name} must be a positive integer, got ${value}`);
      }
    }
    if (options.collection.length === 0) throw new StoreError('store_rejected', 'collection name is empty');
    this.dimension = options.dimension;
    this.collection = options.collection;
    this.apiKey = options.apiKey;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.checkCompatibility = options.checkCompatibility ?? true;
    this.upsertBatchSize = options.upsertBatchSize ?? DEFAULT_BATCH;
    this.scrollPageSize = options.scrollPageSize ?? DEFAULT_BATCH;
    this.logger = options.logger;
    this.readOnly = options.readOnly === true;
    // As the client checks it, but here, so that a wrong setting fails where the store is made.
    if (!/^https?:\/\//.test(options.url) || !URL.canParse(options.url)) {
      // The URL is not repeated: it may carry credentials.
      throw new StoreError('store_rejected', 'url must be an http:// or https:// URL');
    }
    this.url = options.url;
    // Loading starts now, so that the first call seldom waits for it.
    this.api().catch(() => undefined);
  }

  /**
   * The client's API, once its library has loaded. A failure to load it or to make the client is
   * the caller's `store_rejected` error (a broken installation or setting: retrying cannot help),
   * and the next call tries again.
   */
  private async api(): Promise<QdrantApi> {
    this.client ??= loadQdrant().then(
      ({ QdrantClient }) =>
        new QdrantClient({
          url: this.url,
          // The key goes in as a header rather than `apiKey`, which would make the client print a warning
          // to the console over plain HTTP; a library stays quiet.
          ...(this.apiKey === undefined ? {} : { headers: { 'api-key': this.apiKey } }),
          // The client's own timeout replaces the request's AbortSignal with its own, which would drop the
          // caller's signal; this adapter combines both per request instead (see `call`).
          timeout: Number.POSITIVE_INFINITY,
          // The client's check runs unasked at construction and prints to the console; `init()` does it.
          checkCompatibility: false,
        }),
    );
    try {
      return (await this.client).api();
    } catch (error) {
      this.client = undefined;
      throw new StoreError(
        'store_rejected',
        `could not make the Qdrant client for collection "${this.collection}": ${this.redact(error instanceof Error ? error.message : String(error))}`,
        { cause: error, details: { collection: this.collection } },
      );
    }
  }

  async init(options: WriteOptions = {}): Promise<void> {
    this.begin(options.signal);
    const api = await this.api();
    const collection_name = this.collection;
    if (this.checkCompatibility && !this.compatibilityChecked) await this.checkServerVersion(options.signal);

    const existence = await this.call('check the collection', options.signal, existsResultSchema, (init) =>
      api.collectionExists({ collection_name }, init),
    );
    if (this.readOnly) {
      if (!existence.exists) return;
      const found = await this.call('read the collection', options.signal, collectionInfoSchema, (init) =>
        api.getCollection({ collection_name }, init),
      );
      this.checkLayout(found);
      this.present = true;
      return;
    }
    if (!existence.exists) {
      try {
        await this.call('create the collection', options.signal, z.boolean(), (init) =>
          api.createCollection(
            {
              collection_name,
              vectors: { [DENSE]: { size: this.dimension, distance: 'Cosine' } },
              sparse_vectors: { [LEXICAL]: { modifier: 'idf' } },
            },
            init,
          ),
        );
      } catch (error) {
        // Another worker created it between our check and our request: carry on with theirs.
        if (!isAlreadyExists(error)) throw error;
      }
    }

    const info = await this.call('read the collection', options.signal, collectionInfoSchema, (init) =>
      api.getCollection({ collection_name }, init),
    );
    this.checkLayout(info);
    const existing = info.payload_schema ?? {};
    for (const { field, schema } of PAYLOAD_INDEXES) {
      const present = existing[field];
      const wantsTenant = typeof schema === 'object' && 'is_tenant' in schema && schema.is_tenant === true;
      if (present && (!wantsTenant || present.params?.is_tenant === true)) continue;
      await this.call(`create the ${field} index`, options.signal, updateResultSchema, (init) =>
        api.createFieldIndex({ collection_name, wait: true, field_name: field, field_schema: schema }, init),
      );
    }
  }

  async upsert(_tenant: string, points: ChunkPoint[], options: WriteOptions = {}): Promise<void> {
    this.begin(options.signal);
    this.assertWritable();
    // The whole batch is checked before the first request, so a bad point writes nothing.
    const api = await this.api();
    for (let start = 0; start < points.length; start += this.upsertBatchSize) {
      const batch = points.slice(start, start + this.upsertBatchSize).map((point) => {
        const lexical = sparseVector(point.text);
        const vector: Record<string, Schemas['Vector']> = { [DENSE]: point.vector };
        // A text without tokens gets no sparse vector at all rather than an empty one.
        if (lexical.indices.length > 0) vector[LEXICAL] = lexical;
        return { id: point.id, vector, payload: toPayload(point) };
      });
      await this.call('upsert points', options.signal, updateResultSchema, (init) =>
        api.upsertPoints({ collection_name: this.collection, wait: true, points: batch }, init),
      );
    }
  }

  async searchDense(tenant: string, vector: number[], options: SearchOptions): Promise<SearchHit[]> {
    this.begin(options.signal);
    if (!(await this.hasCollection(options.signal))) return [];
    return this.query('dense search', tenant, vector, DENSE, options);
  }

  async searchLexical(tenant: string, query: string, options: SearchOptions): Promise<SearchHit[]> {
    this.begin(options.signal);
    const lexical = sparseVector(query);
    if (lexical.indices.length === 0 || !(await this.hasCollection(options.signal))) return [];
    return this.query('lexical search', tenant, lexical, LEXICAL, options);
  }

  async countChunks(
    tenant: string,
    documentId: string,
    version: string,
    options: WriteOptions = {},
  ): Promise<number> {
    this.begin(options.signal);
    if (!(await this.hasCollection(options.signal))) return 0;
    const result = await this.call('count chunks', options.signal, countResultSchema, (init, api) =>
      api.countPoints(
        {
          collection_name: this.collection,
          exact: true,
          filter: {
            must: [
              this.tenantCondition(tenant),
              { key: 'document_id', match: { value: documentId } },
              { key: 'version', match: { value: version } },
            ],
          },
        },
        init,
      ),
    );
    return result.count;
  }

  async deleteDocument(tenant: string, documentId: string, options: WriteOptions = {}): Promise<void> {
    this.begin(options.signal);
    this.assertWritable();
    await this.deleteWhere(
      'delete a document',
      { must: [this.tenantCondition(tenant), { key: 'document_id', match: { value: documentId } }] },
      options.signal,
    );
  }

  async deleteVersion(
    tenant: string,
    documentId: string,
    version: string,
    options: WriteOptions = {},
  ): Promise<void> {
    this.begin(options.signal);
    this.assertWritable();
    await this.deleteWhere(
      'delete a version',
      {
        must: [
          this.tenantCondition(tenant),
          { key: 'document_id', match: { value: documentId } },
          { key: 'version', match: { value: version } },
        ],
      },
      options.signal,
    );
  }

  async deleteOtherVersions(
    tenant: string,
    documentId: string,
    keepVersion: string,
    options: WriteOptions = {},
  ): Promise<void> {
    this.begin(options.signal);
    this.assertWritable();
    await this.deleteWhere(
      'delete other versions',
      {
        must: [this.tenantCondition(tenant), { key: 'document_id', match: { value: documentId } }],
        must_not: [{ key: 'version', match: { value: keepVersion } }],
      },
      options.signal,
    );
  }

  /**
   * Scrolls the tenant's points (or one document's) and groups them. Qdrant has no ordering or range
   * filter on keyword payloads, so `after` and `limit` cut the grouped list: a page costs a scroll of
   * the whole tenant, only the answer is smaller.
   */
  async listDocuments(tenant: string, options: ListDocumentsOptions = {}): Promise<DocumentSummary[]> {
    this.begin(options.signal);
    if (!(await this.hasCollection(options.signal))) return [];
    const { after } = options;
    const documents = new Map<
      string,
      { sourceName: string; latest: string; versions: Map<string, DocumentSummary['versions'][number]> }
    >();
    const must: Schemas['Condition'][] = [this.tenantCondition(tenant)];
    if (options.documentId !== undefined) {
      must.push({ key: 'document_id', match: { value: options.documentId } });
    }
    await this.scroll('list documents', { must }, SUMMARY_FIELDS, options.signal, (id, raw) => {
      const payload = this.parsePayload(summaryPayloadSchema, id, raw);
      let document = documents.get(payload.document_id);
      if (!document) {
        document = { sourceName: payload.source_name, latest: payload.ingested_at, versions: new Map() };
        documents.set(payload.document_id, document);
      }
      if (payload.ingested_at > document.latest) {
        document.latest = payload.ingested_at;
        document.sourceName = payload.source_name;
      }
      const lastPage = payload.page_end ?? payload.page_start;
      const version = document.versions.get(payload.version);
      if (version) {
        version.chunks += 1;
        if (payload.ingested_at > version.ingestedAt) version.ingestedAt = payload.ingested_at;
        if (lastPage !== null && (version.pages ?? 0) < lastPage) version.pages = lastPage;
      } else {
        document.versions.set(payload.version, {
          version: payload.version,
          chunks: 1,
          chunkCount: payload.chunk_count,
          ingestedAt: payload.ingested_at,
          pages: lastPage,
        });
      }
    });
    return [...documents]
      .filter(([documentId]) => after === undefined || compareCodePoints(documentId, after) > 0)
      .sort(([a], [b]) => compareCodePoints(a, b))
      .slice(0, options.limit)
      .map(([documentId, document]) => {
        const versions = [...document.versions.values()].sort(
          (a, b) => compareCodePoints(a.ingestedAt, b.ingestedAt) || compareCodePoints(a.version, b.version),
        );
        return {
          documentId,
          sourceName: document.sourceName,
          versions,
          chunks: versions.reduce((sum, version) => sum + version.chunks, 0),
          pages: versions.at(-1)?.pages ?? null,
        };
      });
  }

  async listChunks(
    tenant: string,
    options: { documentId?: string; signal?: AbortSignal } = {},
  ): Promise<ChunkRecord[]> {
    this.begin(options.signal);
    if (!(await this.hasCollection(options.signal))) return [];
    const must: Schemas['Condition'][] = [this.tenantCondition(tenant)];
    if (options.documentId !== undefined) {
      must.push({ key: 'document_id', match: { value: options.documentId } });
    }
    const records: ChunkRecord[] = [];
    await this.scroll('list chunks', { must }, true, options.signal, (id, raw) => {
      records.push(this.toRecord(id, raw));
    });
    return records.sort(compareRecords);
  }

  async close(): Promise<void> {
    // The client keeps no resource beyond idle keep-alive sockets, which close on their own.
    this.closed = true;
  }

  private async query(
    operation: string,
    tenant: string,
    vector: number[] | { indices: number[]; values: number[] },
    using: string,
    options: SearchOptions,
  ): Promise<SearchHit[]> {
    const filter = this.searchFilter(tenant, options.filter);
    if (!filter) return [];
    const result = await this.call(operation, options.signal, queryResultSchema, (init, api) =>
      api.queryPoints(
        {
          collection_name: this.collection,
          timeout: Math.ceil(this.timeoutMs / 1000),
          query: vector,
          using,
          filter,
          limit: options.limit,
          with_payload: true,
        },
        init,
      ),
    );
    return result.points.map((point) => ({
      record: this.toRecord(point.id, point.payload),
      score: point.score,
    }));
  }

  /** The tenant condition plus the caller's filter; undefined when the filter can match nothing. */
  private searchFilter(tenant: string, filter: SearchFilter | undefined): Schemas['Filter'] | undefined {
    const must: Schemas['Condition'][] = [this.tenantCondition(tenant)];
    if (filter?.documentIds !== undefined) {
      if (filter.documentIds.length === 0) return undefined;
      must.push({ key: 'document_id', match: { any: filter.documentIds } });
    }
    if (filter?.sourceNames !== undefined) {
      if (filter.sourceNames.length === 0) return undefined;
      must.push({ key: 'source_name', match: { any: filter.sourceNames } });
    }
    for (const [key, value] of Object.entries(filter?.metadata ?? {})) {
      must.push(metadataCondition(key, value));
    }
    return { must };
  }

  private tenantCondition(tenant: string): Schemas['FieldCondition'] {
    return { key: 'tenant', match: { value: tenant } };
  }

  private async deleteWhere(operation: string, filter: Schemas['Filter'], signal: AbortSignal | undefined) {
    await this.call(operation, signal, updateResultSchema, (init, api) =>
      api.deletePoints({ collection_name: this.collection, wait: true, filter }, init),
    );
  }

  /** Pages through the points matching `filter` in id order, handing each to `visit`. */
  private async scroll(
    operation: string,
    filter: Schemas['Filter'],
    withPayload: true | string[],
    signal: AbortSignal | undefined,
    visit: (id: string | number, payload: unknown) => void,
  ): Promise<void> {
    let offset: string | number | undefined;
    do {
      const page = await this.call(operation, signal, scrollResultSchema, (init, api) =>
        api.scrollPoints(
          {
            collection_name: this.collection,
            timeout: Math.ceil(this.timeoutMs / 1000),
            filter,
            limit: this.scrollPageSize,
            with_payload: withPayload,
            with_vector: false,
            ...(offset === undefined ? {} : { offset }),
          },
          init,
        ),
      );
      for (const point of page.points) visit(point.id, point.payload);
      offset = page.next_page_offset ?? undefined;
    } while (offset !== undefined);
  }

  private toRecord(id: string | number, raw: unknown): ChunkRecord {
    const payload = this.parsePayload(chunkPayloadSchema, id, raw);
    return {
      id: String(id),
      tenant: payload.tenant,
      documentId: payload.document_id,
      version: payload.version,
      chunkIndex: payload.chunk_index,
      chunkCount: payload.chunk_count,
      text: payload.text,
      pageStart: payload.page_start,
      pageEnd: payload.page_end,
      headingPath: payload.heading_path,
      sourceName: payload.source_name,
      metadata: payload.metadata,
      ingestedAt: payload.ingested_at,
    };
  }

  private parsePayload<S extends z.ZodType>(schema: S, id: string | number, raw: unknown): z.infer<S> {
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new StoreError(
        'store_rejected',
        `point ${id} in Qdrant collection "${this.collection}" is not a Quire chunk: ${issue ? `${issue.path.join('.') || 'payload'}: ${issue.message}` : 'invalid payload'}`,
        { details: { collection: this.collection, pointId: String(id) } },
      );
    }
    return parsed.data;
  }

  private checkLayout(info: z.infer<typeof collectionInfoSchema>): void {
    const where = `Qdrant collection "${this.collection}"`;
    const vectors = info.config.params.vectors;
    const single = vectorParamsSchema.safeParse(vectors);
    const named =
      !single.success && vectors !== null && typeof vectors === 'object'
        ? vectorParamsSchema.safeParse((vectors as Record<string, unknown>)[DENSE])
        : undefined;
    if (!named?.success) {
      throw new StoreError(
        'store_rejected',
        `${where} has no dense vector named "${DENSE}": it was not created by Quire; use another collection`,
        { details: { collection: this.collection } },
      );
    }
    if (named.data.size !== this.dimension) {
      throw new StoreError(
        'store_rejected',
        `${where} holds ${named.data.size}-dimensional vectors but this store was configured for ${this.dimension}: one collection serves one embedding model and dimension`,
        {
          details: {
            collection: this.collection,
            collectionDimension: named.data.size,
            dimension: this.dimension,
          },
        },
      );
    }
    if (named.data.distance !== 'Cosine') {
      throw new StoreError(
        'store_rejected',
        `${where} compares vectors by ${named.data.distance}, Quire needs Cosine`,
        { details: { collection: this.collection } },
      );
    }
    const lexical = info.config.params.sparse_vectors?.[LEXICAL];
    if (lexical?.modifier !== 'idf') {
      throw new StoreError(
        'store_rejected',
        `${where} has no sparse vector "${LEXICAL}" with the IDF modifier; lexical search would not work`,
        { details: { collection: this.collection } },
      );
    }
  }

  private async checkServerVersion(signal: AbortSignal | undefined): Promise<void> {
    this.compatibilityChecked = true;
    let serverVersion: string;
    try {
      const info = await this.call(
        'read the server version',
        signal,
        versionInfoSchema,
        async (init, api) => {
          const response = await api.root({}, init);
          // The root answers outside the usual envelope: wrap it so `call` can treat it alike.
          return { data: { result: response.data } };
        },
      );
      serverVersion = info.version;
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      // Only advice: the calls that follow report a real failure themselves.
      this.logger?.warn(
        { collection: this.collection, err: error instanceof Error ? error.message : String(error) },
        'could not read the Qdrant server version to check compatibility',
      );
      return;
    }
    const server = versionParts(serverVersion);
    const client = versionParts(QDRANT_CLIENT_VERSION)!;
    if (!server || server[0] !== client[0] || Math.abs(server[1] - client[1]) > 1) {
      this.logger?.warn(
        { serverVersion, clientVersion: QDRANT_CLIENT_VERSION },
        'Qdrant server and client versions may be incompatible (major versions should match and minor versions differ by at most one)',
      );
    }
  }

  /** Refuses a write on a store opened read-only. */
  private assertWritable(): void {
    if (this.readOnly) {
      throw new StoreError(
        'store_rejected',
        `the Qdrant store for collection "${this.collection}" was opened read-only: writes go through the workers`,
      );
    }
  }

  /** For a read: false while a read-only store's collection does not exist yet. */
  private async hasCollection(signal: AbortSignal | undefined): Promise<boolean> {
    if (!this.readOnly || this.present) return true;
    const existence = await this.call('check the collection', signal, existsResultSchema, (init, api) =>
      api.collectionExists({ collection_name: this.collection }, init),
    );
    this.present = existence.exists;
    return this.present;
  }

  private begin(signal: AbortSignal | undefined): void {
    if (signal?.aborted) throw signal.reason;
    if (this.closed) {
      throw new StoreError(
        'store_rejected',
        `the Qdrant store for collection "${this.collection}" is closed`,
      );
    }
  }

  /**
   * Runs one client call under the request deadline and the caller's signal, validates the
   * envelope's `result` with `schema`, and turns every failure into a StoreError (or the caller's
   * abort reason).
   */
  private async call<S extends z.ZodType>(
    operation: string,
    signal: AbortSignal | undefined,
    schema: S,
    run: (init: RequestInit, api: QdrantApi) => Promise<{ data: { result?: unknown } }>,
  ): Promise<z.infer<S>> {
    if (signal?.aborted) throw signal.reason;
    // Its own error when the client cannot be made: not a failure of Qdrant's.
    const api = await this.api();
    if (signal?.aborted) throw signal.reason;
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), this.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, deadline.signal]) : deadline.signal;
    let response: { data: { result?: unknown } };
    try {
      response = await run({ signal: combined }, api);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (deadline.signal.aborted) {
        throw new StoreError(
          'store_unavailable',
          `Qdrant did not answer "${operation}" on collection "${this.collection}" within ${this.timeoutMs} ms`,
          {
            retryable: true,
            cause: error,
            details: { operation, collection: this.collection, timeoutMs: this.timeoutMs },
          },
        );
      }
      throw this.toStoreError(operation, error);
    } finally {
      clearTimeout(timer);
    }
    const parsed = schema.safeParse(response.data.result);
    if (!parsed.success) {
      throw new StoreError(
        'store_rejected',
        `Qdrant answered "${operation}" on collection "${this.collection}" with an unexpected result: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
        { details: { operation, collection: this.collection } },
      );
    }
    return parsed.data;
  }

  private toStoreError(operation: string, error: unknown): StoreError {
    const base = { operation, collection: this.collection };
    const what = `Qdrant "${operation}" on collection "${this.collection}"`;
    if (qdrantLoaded !== undefined && error instanceof qdrantLoaded.QdrantClientResourceExhaustedError) {
      // The client keeps only the first digit of Retry-After (1.18): a hint, not an exact delay.
      return new StoreError('store_unavailable', `${what} was rate limited (429)`, {
        retryable: true,
        cause: error,
        details: { ...base, status: 429, retryAfterMs: error.retry_after * 1000 },
      });
    }
    if (isHttpFailure(error)) {
      const status = error.status;
      const message = this.redact(serverMessage(error.data) ?? 'no error message');
      const retryAfterMs = parseRetryAfter(error.headers.get('retry-after'));
      const details = { ...base, status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
      // 408 is Qdrant's own operation timeout; 429 its rate limit; 5xx an overloaded or broken node.
      if (status === 408 || status === 429 || status >= 500) {
        return new StoreError('store_unavailable', `${what} failed with ${status}: ${message}`, {
          retryable: true,
          cause: error,
          details,
        });
      }
      return new StoreError('store_rejected', `${what} was refused with ${status}: ${message}`, {
        cause: error,
        details,
      });
    }
    if (qdrantLoaded !== undefined && error instanceof qdrantLoaded.QdrantClientUnexpectedResponseError) {
      return new StoreError(
        'store_rejected',
        `${what} got an unexpected answer: ${this.redact(error.message.split('\n')[0] ?? '')}`,
        {
          cause: error,
          details: base,
        },
      );
    }
    if (error instanceof Error && error.message.startsWith('Invalid retryAfter value')) {
      // A 429 whose Retry-After the client could not read as seconds.
      return new StoreError('store_unavailable', `${what} was rate limited (429)`, {
        retryable: true,
        cause: error,
        details: { ...base, status: 429 },
      });
    }
    const code = causeCode(error);
    if (
      (code !== undefined && NETWORK_CODES.has(code)) ||
      (error instanceof TypeError && error.message === 'fetch failed')
    ) {
      return new StoreError(
        'store_unavailable',
        `${what} could not reach Qdrant${code ? ` (${code})` : ''}`,
        {
          retryable: true,
          cause: error,
          details: { ...base, ...(code === undefined ? {} : { code }) },
        },
      );
    }
    // Unknown failures of a network call are more likely passing than permanent; attempts are bounded.
    return new StoreError(
      'store_unavailable',
      `${what} failed: ${this.redact(error instanceof Error ? error.message : String(error))}`,
      { retryable: true, cause: error, details: base },
    );
  }

  private redact(text: string): string {
    return this.apiKey ? text.split(this.apiKey).join('[redacted]') : text;
  }
}

function isAlreadyExists(error: unknown): boolean {
  if (!(error instanceof StoreError)) return false;
  const status = error.details?.status;
  // 409 on current Qdrant; older versions said 400 "... already exists!".
  return status === 409 || (status === 400 && /already exists/i.test(error.message));
}
