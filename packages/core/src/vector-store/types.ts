/**
 * One interface for every vector store Quire writes to. Every read and write takes a tenant:
 * there is no call that crosses tenants.
 */

/** Scalar user metadata; kept flat so that every store can filter on it by equality. */
export type MetadataValue = string | number | boolean;
export type Metadata = Record<string, MetadataValue>;

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

export interface SearchFilter {
  /** Only these documents. */
  documentIds?: string[];
  /** Every key must equal its value. */
  metadata?: Metadata;
  /** Only chunks whose source name is one of these. */
  sourceNames?: string[];
}

export interface SearchOptions {
  limit: number;
  filter?: SearchFilter;
  signal?: AbortSignal;
}

export interface SearchHit {
  record: ChunkRecord;
  /** Higher is better; dense: cosine similarity, lexical: the store's own relevance score. */
  score: number;
}

export interface DocumentSummary {
  documentId: string;
  sourceName: string;
  /** Versions present with their chunk counts (more than one only while a re-ingest is in flight). */
  versions: { version: string; chunks: number; chunkCount: number; ingestedAt: string }[];
  chunks: number;
}

export interface WriteOptions {
  signal?: AbortSignal;
}

export interface VectorStore {
  /** Dense vector dimension of this store (one collection/table per model and dimension). */
  readonly dimension: number;
  /** Creates collections, tables and indexes when missing. Idempotent. */
  init(options?: WriteOptions): Promise<void>;
  /** Inserts or replaces points by id. All points must belong to `tenant`. */
  upsert(tenant: string, points: ChunkPoint[], options?: WriteOptions): Promise<void>;
  searchDense(tenant: string, vector: number[], options: SearchOptions): Promise<SearchHit[]>;
  /** Lexical (keyword) search over chunk text: FTS5 on SQLite, sparse IDF vectors on Qdrant. */
  searchLexical(tenant: string, query: string, options: SearchOptions): Promise<SearchHit[]>;
  /** Number of stored chunks of one version of a document. */
  countChunks(tenant: string, documentId: string, version: string, options?: WriteOptions): Promise<number>;
  /** Removes every chunk of the document; returns how many were removed when the store can tell. */
  deleteDocument(tenant: string, documentId: string, options?: WriteOptions): Promise<void>;
  /** Removes the document's chunks of every version except `keepVersion`. */
  deleteOtherVersions(
    tenant: string,
    documentId: string,
    keepVersion: string,
    options?: WriteOptions,
  ): Promise<void>;
  listDocuments(tenant: string, options?: WriteOptions): Promise<DocumentSummary[]>;
  /** Every chunk of a tenant (ids and payloads), ordered by document id then chunk index; for checks and exports. */
  listChunks(tenant: string, options?: { documentId?: string; signal?: AbortSignal }): Promise<ChunkRecord[]>;
  close(): Promise<void>;
}
