/**
 * One interface for every vector store Quire writes to. Every read and write takes a tenant:
 * there is no call that crosses tenants.
 *
 * Shared rules of every implementation (checked by the contract suite in `test/vector-store-contract.ts`):
 * - Failures are `StoreError`s: `store_unavailable` (retryable) when the store is unreachable, busy or
 *   overloaded; `store_rejected` (not retryable) for a request the store will never accept: an empty
 *   tenant, a vector of the wrong dimension, all zeros or not finite, a point of another tenant or whose id
 *   is not `pointId(tenant, documentId, version, chunkIndex)`, a limit that is not a positive integer or is
 *   above the store's cap (4096 on SQLite). The tenant guard (`tenant-guard.ts`) applies these checks
 *   for every adapter, and refuses answers holding another tenant's chunks.
 * - A batch is validated as a whole before anything is written.
 * - A `signal` that is already aborted rejects the call (with the signal's reason) before any work.
 * - Ids and strings compare by code point (binary), so orders are the same on every store.
 */

import type { DocumentSummary, Metadata } from '@quire/contracts';

/** Scalar user metadata (flat, so that every store can filter on it by equality) and document listings are wire shapes. */
export type { DocumentSummary, Metadata, MetadataValue } from '@quire/contracts';

/** What is stored with each chunk (the point's payload), without its vector. */
export interface ChunkRecord {
  /** UUIDv5 of tenant, document id, version and chunk index (see `pointId`). */
  id: string;
  tenant: string;
  documentId: string;
  /** Content version: a hash of the bytes, the chunking settings and the embedding model. */
  version: string;
  chunkIndex: number;
  /** Number of chunks in this version of the document. */
  chunkCount: number;
  text: string;
  /** 1-based page range; null for formats without pages. */
  pageStart: number | null;
  pageEnd: number | null;
  headingPath: string[];
  sourceName: string;
  metadata: Metadata;
  /** ISO-8601 time the version was ingested. */
  ingestedAt: string;
}

export interface ChunkPoint extends ChunkRecord {
  vector: number[];
}

/**
 * Conditions a hit must meet, all of them (AND), applied inside the tenant before the limit: a
 * selective filter still returns up to `limit` hits when that many chunks match.
 */
export interface SearchFilter {
  /** Only these documents. An empty list matches nothing. */
  documentIds?: string[];
  /**
   * Every key must equal its value, type included: `true` does not match `1`, `1` does not match `"1"`.
   * An empty object constrains nothing.
   */
  metadata?: Metadata;
  /** Only chunks whose source name is one of these. An empty list matches nothing. */
  sourceNames?: string[];
}

export interface SearchOptions {
  /** Most hits returned; a positive integer. */
  limit: number;
  filter?: SearchFilter;
  signal?: AbortSignal;
}

export interface SearchHit {
  record: ChunkRecord;
  /**
   * Higher is better. Dense: cosine similarity (-1…1). Lexical: the store's own relevance score,
   * positive, comparable only within one result list.
   */
  score: number;
}

export interface WriteOptions {
  signal?: AbortSignal;
}

export interface ListDocumentsOptions {
  /** Only this document. */
  documentId?: string;
  /** Only documents whose id sorts after this one (exclusive cursor). */
  after?: string;
  /** At most this many documents (a positive integer). */
  limit?: number;
  signal?: AbortSignal;
}

export interface VectorStore {
  /** Dense vector dimension of this store (one collection/table per model and dimension). */
  readonly dimension: number;
  /** Creates collections, tables and indexes when missing. Idempotent. */
  init(options?: WriteOptions): Promise<void>;
  /**
   * Inserts or replaces points by id (payload, vector and lexical index alike), all or nothing where
   * the store allows. All points must belong to `tenant`. An empty list is a no-op.
   */
  upsert(tenant: string, points: ChunkPoint[], options?: WriteOptions): Promise<void>;
  /** Nearest chunks by cosine similarity, best first. */
  searchDense(tenant: string, vector: number[], options: SearchOptions): Promise<SearchHit[]>;
  /**
   * Lexical (keyword) search over chunk text, best first: FTS5 on SQLite, sparse IDF vectors on Qdrant,
   * both over `lexicalTokens`. A chunk matches when it holds any query token; a query without tokens
   * (empty, only stopwords) returns no hits.
   */
  searchLexical(tenant: string, query: string, options: SearchOptions): Promise<SearchHit[]>;
  /** Number of stored chunks of one version of a document. */
  countChunks(tenant: string, documentId: string, version: string, options?: WriteOptions): Promise<number>;
  /** Removes every chunk of the document, all versions. A missing document is a no-op. */
  deleteDocument(tenant: string, documentId: string, options?: WriteOptions): Promise<void>;
  /** Removes the document's chunks of one version (e.g. what a failed ingestion left behind). */
  deleteVersion(tenant: string, documentId: string, version: string, options?: WriteOptions): Promise<void>;
  /** Removes the document's chunks of every version except `keepVersion`. */
  deleteOtherVersions(
    tenant: string,
    documentId: string,
    keepVersion: string,
    options?: WriteOptions,
  ): Promise<void>;
  /**
   * The tenant's documents, ordered by document id (code point order): with `documentId`, that document
   * alone (or none); with `after`, those whose id sorts after it; at most `limit` (a page: pass the last
   * id as the next `after`).
   */
  listDocuments(tenant: string, options?: ListDocumentsOptions): Promise<DocumentSummary[]>;
  /**
   * Every chunk of a tenant (ids and payloads), or of one document, ordered by document id, then chunk
   * index, then version; for checks and exports.
   */
  listChunks(tenant: string, options?: { documentId?: string; signal?: AbortSignal }): Promise<ChunkRecord[]>;
  /** Releases connections and handles. Idempotent; the store is unusable afterwards. */
  close(): Promise<void>;
}

/**
 * What a process that only reads may call (the gateway, the CLI): `createStore(config, { readOnly: true })`
 * answers this type, so a write does not type-check, and the store refuses one at run time too.
 */
export type VectorStoreReader = Pick<
  VectorStore,
  | 'dimension'
  | 'init'
  | 'searchDense'
  | 'searchLexical'
  | 'countChunks'
  | 'listDocuments'
  | 'listChunks'
  | 'close'
>;

/**
 * A backend adapter (SQLite, Qdrant). Adapters hold no tenant or input checks: `createStore` wraps each
 * in the tenant guard (`tenant-guard.ts`), which checks requests and answers for all of them alike.
 */
export interface VectorStoreAdapter extends VectorStore {
  /** Largest search `limit` the backend answers; the guard refuses more. */
  readonly maxSearchLimit: number;
}
