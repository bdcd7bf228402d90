/**
 * The embedded vector store: one SQLite file (WAL, so several worker processes share it), dense
 * vectors in a sqlite-vec `vec0` table partitioned by tenant, lexical search in FTS5.
 *
 * Tables of a collection `c` (one per embedding model and dimension):
 * - `c__chunks`: the payload, one row per point; its integer rowid keys every other table.
 * - `c__meta`: one row per metadata entry (tenant, key, kind, value), indexed, so that metadata filters
 *   find their chunks without parsing JSON.
 * - `c__vec`: `vec0(tenant partition key, embedding float[D])` holding unit vectors, so that the L2
 *   distance d gives the cosine similarity as 1 − d²/2 (sqlite-vec's L2 loop is faster than its cosine).
 * - `c__lexical` and one `c__fts_<hash>` per tenant: contentless FTS5 over `lexicalTokens(text)` joined by
 *   spaces, so that SQLite and Qdrant tokenise alike (CJK bigrams included, which FTS5's own tokenizer
 *   would not split). One table per tenant, so that BM25's statistics (N, average length, document
 *   frequencies) are the tenant's own: ingesting into one tenant changes no other tenant's scores
 *   (`sqlite-lexical.ts`). A file written before this layout (one `c__fts` shared by all tenants, confined
 *   by a hashed tenant token) is converted by `init()`: each tenant's index is rebuilt from the stored
 *   chunk texts in one transaction, then the shared table is dropped.
 *
 * Searches are exact. Dense search is a brute-force KNN inside the tenant's vectors: its cost grows with
 * the tenant's chunk count, not the file's. Each connection keeps searched tenants' vectors in memory
 * within a budget (`dense-vectors.ts`: a WebAssembly SIMD scan, the vectors following writes through the
 * lexical change log); a tenant beyond the budget is scanned by sqlite-vec in its partition. Tenants
 * of `denseThreadMinChunks` chunks or more are searched on the store's read thread
 * (`sqlite-read-thread.ts`), beside whatever the calling thread does meanwhile. A filter's candidate
 * rowids come from indexes (`c__chunks`, `c__meta`), never from parsing JSON, and are applied while
 * scanning, before `k` is counted, so a selective filter still fills the limit.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import * as sqliteVec from 'sqlite-vec';
import { QuireError, StoreError } from '../errors.js';
import { LruMap } from '../lru-map.js';
import { type DenseRequest, DenseVectors, denseKernelAvailable } from './dense-vectors.js';
import { lexicalTokens } from './lexical.js';
import { bm25TermBound, exactTopK, type QueryTerm, topByImpacts } from './lexical-topk.js';
import {
  EVERY_TOKEN,
  ftsQuery,
  type TenantCache,
  TenantLexicalIndexes,
  termsColumn,
} from './sqlite-lexical.js';
import { SqliteReadThread } from './sqlite-read-thread.js';
import type {
  ChunkPoint,
  ChunkRecord,
  DocumentSummary,
  ListDocumentsOptions,
  Metadata,
  SearchFilter,
  SearchHit,
  SearchOptions,
  VectorStoreAdapter,
  WriteOptions,
} from './types.js';

export interface SqliteVectorStoreOptions {
  /** Database file; missing parent directories are created. `:memory:` gives a private, unshared store. */
  path: string;
  /** Dimension of the dense vectors, fixed for the collection. */
  dimension: number;
  /**
   * Name of the table set (see `sqliteCollectionName(model, dimension)`): lower-case letters and digits in
   * `_`-separated runs, starting with a letter, at most 64 characters. A collection keeps the dimension it
   * was created with; opening it with another fails.
   * @default `vectors_<dimension>`
   */
  collection?: string;
  /** How long a statement waits for another connection's lock before failing with a retryable error, in ms. @default 5000 */
  busyTimeoutMs?: number;
  /**
   * Bytes of the file SQLite reads through a memory map; dense search scans every vector of a tenant, and
   * mapped reads make that scan markedly faster than reads through the page cache. Address space, not
   * resident memory. 0 turns it off.
   * @default 1073741824 (1 GiB)
   */
  mmapSizeBytes?: number;
  /**
   * Vectors per sqlite-vec storage chunk (a multiple of 8). Each tenant occupies at least one chunk of
   * `vectorChunkSize × dimension × 4` bytes, so smaller chunks waste less space on small tenants and
   * larger ones scan big tenants faster. Fixed when the collection is created.
   * @default about 1.5 MiB of vectors: 1024 at dimension 384, 256 at 1536 (between 64 and 2048)
   */
  vectorChunkSize?: number;
  /**
   * How lexical search finds its top k in a tenant of 4,096 chunks or more; every mode returns the same
   * hits, scores and order (the tests compare them). Smaller tenants are not pruned: they run the plain
   * query, or with `impacts` add up their terms' cached impacts.
   * - `impacts`: each query term's rows and bm25() parts are read from FTS5 once (in tenants of 1,024
   *   rows or more computed from the term's occurrences and the rows' lengths, checked against bm25()
   *   on one row) and kept in memory (see `impactCacheBytes`); a query adds them up in JavaScript, in the
   *   order FTS5 adds them, so its scores are the very floats the full query gives. Filtered searches,
   *   and searches whose uncached terms hold more than 131,072 rows run as `maxscore` while the cache
   *   fills. A write does not empty it: cached terms follow the rows the write changed (counted in
   *   those rows' terms, checked against FTS5's counts) and the tenant's new statistics
   *   (`sqlite-lexical.ts`); in a tenant under 1,024 rows they are read again instead.
   * - `maxscore`: SQL queries that require the terms of the highest bounds and prune with bm25's
   *   ceiling per term (`lexical-topk.ts`).
   * - `exhaustive`: one SQL query ranking every row that holds a query term.
   * @default 'impacts'
   */
  lexicalSearch?: LexicalSearchMode;
  /**
   * Bytes of term impacts the `impacts` mode keeps in memory, all tenants together (about 6 bytes per
   * row holding a term, and some 256 per term), with the terms of rows changed since they were read
   * (about two bytes a character); the least recently searched tenants' go first, then changed rows'
   * terms, then the least recently used terms. A term larger than this is read for each query; 0
   * reads every term for each query.
   * @default 67108864 (64 MiB: about 11 million rows)
   */
  impactCacheBytes?: number;
  /**
   * Run dense search on a thread of its own, with its own read-only connection to the file, so that
   * it runs beside the main thread's work (hybrid retrieval's lexical search) on another core
   * instead of after it. Same results; a file store only (`:memory:` is private to its connection).
   * @default true
   */
  denseSearchThread?: boolean;
  /**
   * With `denseSearchThread`, tenants of fewer chunks than this search dense on the calling thread
   * all the same: their scan takes about a millisecond, less than the round trip to the thread, and
   * running it beside their lexical search gains little (about even at 1,000–2,000 chunks, a
   * third faster at 4,000). 0 sends every dense search to the thread.
   * @default 2048
   */
  denseThreadMinChunks?: number;
  /**
   * Bytes of dense vectors each connection (the calling thread's, the read thread's) keeps in memory
   * for its dense searches: about 1.8 KiB a chunk at dimension 384, 7 KiB at 1536 (room to grow
   * included). A tenant's vectors are read once, then follow its writes; they are scanned with
   * WebAssembly SIMD, about five times faster than sqlite-vec, exact either way. The least recently
   * searched tenants go first; a tenant whose vectors do not fit alone is searched by sqlite-vec. Rows
   * tied with the last place are taken in chunk id order in memory; sqlite-vec picks among them
   * itself. 0: every dense search is sqlite-vec's.
   * @default 268435456 (256 MiB: about 150,000 chunks at dimension 384)
   */
  denseCacheBytes?: number;
  /**
   * Open for reading only, as the gateway and the CLI do: the file, its directory and its tables
   * are never created (the workers' `init()` does that), a store or collection that does not
   * exist yet reads as empty until it does, and every write is refused. Default false.
   */
  readOnly?: boolean;
}

export type LexicalSearchMode = 'impacts' | 'maxscore' | 'exhaustive';

/**
 * The collection of an embedding model and dimension: the model name in lower-case letters and digits,
 * `_`-separated, then the dimension, then (when the name had to be cleaned) 8 hex digits of its SHA-256,
 * so that two models never share tables. `("text-embedding-3-small", 1536)` →
 * `text_embedding_3_small_1536_<hash>`; `("minilm", 384)` → `minilm_384`.
 */
export function sqliteCollectionName(model: string, dimension: number): string {
  if (!Number.isSafeInteger(dimension) || dimension < 1) {
    throw new QuireError('invalid_input', `dimension must be a positive integer, got ${dimension}`);
  }
  const slug = model
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 40)
    .replace(/_+$/, '');
  if (slug === '') {
    throw new QuireError('invalid_input', `model name ${JSON.stringify(model)} has no letters or digits`);
  }
  const hash = slug === model ? '' : `_${createHash('sha256').update(model).digest('hex').slice(0, 8)}`;
  // A table name may not start with a digit.
  return `${/^[0-9]/.test(slug) ? 'm_' : ''}${slug}_${dimension}${hash}`;
}

/** sqlite-vec's cap on `k` in a KNN query; applied to lexical search too, for one limit per store. */
const MAX_LIMIT = 4096;

const COLLECTION_NAME = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;

/** Payload columns of `c__chunks`, in the order of `ChunkRecord`. */
interface ChunkRow {
  rowid: number;
  id: string;
  tenant: string;
  document_id: string;
  version: string;
  chunk_index: number;
  chunk_count: number;
  text: string;
  page_start: number | null;
  page_end: number | null;
  heading_path: string;
  source_name: string;
  metadata: string;
  ingested_at: string;
}

const CHUNK_COLUMNS =
  'c.rowid AS rowid, c.id, c.tenant, c.document_id, c.version, c.chunk_index, c.chunk_count, c.text, ' +
  'c.page_start, c.page_end, c.heading_path, c.source_name, c.metadata, c.ingested_at';

type MetaKind = 's' | 'n' | 'b';

function metaEntry(value: Metadata[string]): { kind: MetaKind; value: string | number } {
  if (typeof value === 'string') return { kind: 's', value };
  if (typeof value === 'number') return { kind: 'n', value };
  return { kind: 'b', value: value ? 1 : 0 };
}

function toRecord(row: ChunkRow): ChunkRecord {
  return {
    id: row.id,
    tenant: row.tenant,
    documentId: row.document_id,
    version: row.version,
    chunkIndex: row.chunk_index,
    chunkCount: row.chunk_count,
    text: row.text,
    pageStart: row.page_start,
    pageEnd: row.page_end,
    headingPath: JSON.parse(row.heading_path) as string[],
    sourceName: row.source_name,
    metadata: JSON.parse(row.metadata) as Metadata,
    ingestedAt: row.ingested_at,
  };
}

/** The vector scaled to length 1, as float32 bytes (callers have rejected zero vectors). */
function unitVector(vector: readonly number[]): Float32Array {
  let norm = 0;
  for (const value of vector) norm += value * value;
  norm = Math.sqrt(norm);
  // A plain loop: Float32Array.from with a mapping function is several times slower.
  const floats = new Float32Array(vector.length);
  for (let i = 0; i < vector.length; i++) floats[i] = vector[i]! / norm;
  return floats;
}

function blobOf(floats: Float32Array): Buffer {
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength);
}

function unitVectorBlob(vector: readonly number[]): Buffer {
  return blobOf(unitVector(vector));
}

/**
 * About 1.5 MiB of vectors per sqlite-vec chunk: 1024 vectors at dimension 384, 256 at 1536. Fewer,
 * larger chunks scan faster; each tenant holds at least one, so they should not grow without bound.
 */
function defaultVectorChunkSize(dimension: number): number {
  const size = Math.floor((1.5 * 1024 * 1024) / (4 * dimension) / 8) * 8;
  return Math.min(2048, Math.max(64, size));
}

/**
 * Tenants with fewer chunks get no pruning: it pays off when a common term's rows are many (at 10k
 * chunks in one tenant it halves the time; at 1k it costs more than it saves).
 */
const PRUNE_MIN_ROWS = 4096;

/**
 * Distinct terms of a query up to which a small tenant's search adds up cached term impacts (a
 * question's); a longer one runs the full query (see `searchLexical`).
 */
const SMALL_TENANT_CACHED_TERMS = 32;

/**
 * Rows of uncached term impacts one search reads at most before it runs as `maxscore` instead (about
 * 60–90 ms of reading on a 2-core machine from the terms' occurrences, once per term; a term read
 * with bm25() instead, see `readOccurrences`, costs a few times more).
 */
const COLD_READ_ROWS = 131_072;

/**
 * Turns on WAL mode. Several processes opening a new file at once (workers starting together) can
 * meet SQLITE_BUSY here at once, whatever the busy timeout, while another one converts the file:
 * asked again, with short waits, until the timeout has passed. Exported for its tests.
 */
export function enableWal(db: Pick<Database.Database, 'pragma'>, timeoutMs: number): void {
  const deadline = performance.now() + timeoutMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let waitMs = 1; ; waitMs = Math.min(waitMs * 2, 50)) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      const code = String((error as { code?: unknown }).code);
      if (!code.startsWith('SQLITE_BUSY') || performance.now() >= deadline) throw error;
      // Once, at start-up: the thread may wait here.
      Atomics.wait(pause, 0, 0, waitMs);
    }
  }
}

/**
 * Chunks from which a tenant's dense search goes to the read thread (see `denseThreadMinChunks`):
 * below, the scan costs less than the round trip.
 */
const DEFAULT_DENSE_THREAD_MIN_CHUNKS = 2048;

/** Bytes of dense vectors a connection keeps in memory by default. */
const DEFAULT_DENSE_CACHE_BYTES = 256 * 1024 * 1024;

/** Bytes of term impacts a connection keeps in memory by default. */
const DEFAULT_IMPACT_CACHE_BYTES = 64 * 1024 * 1024;

/** Search statements kept per connection (by tenant table and filter shape). */
const CACHED_SEARCH_STATEMENTS = 256;

/**
 * The row count FTS5's bm25() takes as N: the first varint (SQLite's format) of the index's averages
 * record, row 1 of its `_data` table. Rows deleted from a contentless index stay counted there, so
 * N can be well above the rows left; bounds on bm25() must use this count. `undefined` when the
 * record is missing or unreadable.
 */
export function fts5RowCount(averages: Uint8Array | undefined): number | undefined {
  if (averages === undefined || averages.length === 0) return undefined;
  let value = 0;
  for (let i = 0; i < 9 && i < averages.length; i++) {
    const byte = averages[i]!;
    if (i === 8) return value * 256 + byte;
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) return value;
  }
  return undefined;
}

/** Busy, locked, out of disk or I/O trouble may pass; anything else is the request's fault. */
const TRANSIENT_CODES = /^SQLITE_(BUSY|LOCKED|FULL|IOERR)/;

function storeError(error: unknown, action: string): unknown {
  if (error instanceof QuireError) return error;
  if (error instanceof Database.SqliteError) {
    const transient = TRANSIENT_CODES.test(error.code);
    return new StoreError(
      transient ? 'store_unavailable' : 'store_rejected',
      `SQLite store could not ${action}: ${error.message}`,
      { retryable: transient, cause: error, details: { sqliteCode: error.code } },
    );
  }
  return error;
}

interface Statements {
  rowidById: Database.Statement<[string], { rowid: number }>;
  insertChunk: Database.Statement<[ChunkParams]>;
  updateChunk: Database.Statement<[ChunkParams & { rowid: number }]>;
  deleteChunk: Database.Statement<[number]>;
  insertVector: Database.Statement<[bigint, string, Buffer]>;
  deleteVector: Database.Statement<[bigint]>;
  insertMeta: Database.Statement<[string, string, MetaKind, string | number, number]>;
  deleteMeta: Database.Statement<[number]>;
  countChunks: Database.Statement<[string, string, string], { n: number }>;
  rowidsOfDocument: Database.Statement<[string, string], number>;
  rowidsOfOtherVersions: Database.Statement<[string, string, string], number>;
  rowidsOfVersion: Database.Statement<[string, string, string], number>;
  listChunks: Database.Statement<[string], ChunkRow>;
  listDocumentChunks: Database.Statement<[string, string], ChunkRow>;
  listVersions: Database.Statement<[{ tenant: string; after: string; limit: number }], VersionRow>;
  listDocumentVersions: Database.Statement<
    [{ tenant: string; documentId: string; after: string }],
    VersionRow
  >;
}

interface ChunkParams {
  id: string;
  tenant: string;
  document_id: string;
  version: string;
  chunk_index: number;
  chunk_count: number;
  text: string;
  page_start: number | null;
  page_end: number | null;
  heading_path: string;
  source_name: string;
  metadata: string;
  ingested_at: string;
}

interface VersionRow {
  document_id: string;
  version: string;
  chunks: number;
  chunk_count: number;
  ingested_at: string;
  source_name: string;
  pages: number | null;
}

/** A point ready to write: everything computed before the write lock is taken. */
interface PreparedPoint {
  params: ChunkParams;
  vector: Buffer;
  terms: string;
  meta: { key: string; kind: MetaKind; value: string | number }[];
}

export class SqliteVectorStore implements VectorStoreAdapter {
  readonly dimension: number;
  /** Largest search `limit` answered; the tenant guard refuses more. */
  readonly maxSearchLimit = MAX_LIMIT;
  readonly collection: string;
  private readonly path: string;
  private readonly busyTimeoutMs: number;
  private readonly mmapSizeBytes: number;
  private readonly vectorChunkSize: number;
  private db: Database.Database | undefined;
  private statements: Statements | undefined;
  private lexical: TenantLexicalIndexes | undefined;
  private closed = false;
  /** Search statements by the shape of their filter; a handful of shapes exist in practice. */
  private readonly searchStatements = new LruMap<
    string,
    Database.Statement<unknown[], ChunkRow & { score: number }>
  >(CACHED_SEARCH_STATEMENTS);
  private readonly lexicalSearch: LexicalSearchMode;
  private readonly impactCacheBytes: number;
  /** Where dense searches run, when not on the calling thread. */
  private readonly denseThread: SqliteReadThread | undefined;
  /** Tenants with fewer chunks than this search dense on the calling thread. */
  private readonly denseThreadMinChunks: number;
  /** Budget of each connection's in-memory dense vectors; 0 without them. */
  private readonly denseCacheBytes: number;
  /** The calling thread's in-memory dense vectors, made with the connection. */
  private denseVectors: DenseVectors | undefined;
  readonly readOnly: boolean;

  constructor(options: SqliteVectorStoreOptions) {
    const invalid = (message: string) => new QuireError('invalid_input', `SqliteVectorStore: ${message}`);
    if (typeof options.path !== 'string' || options.path === '')
      throw invalid('path must be a non-empty string');
    if (!Number.isSafeInteger(options.dimension) || options.dimension < 1) {
      throw invalid(`dimension must be a positive integer, got ${options.dimension}`);
    }
    const collection = options.collection ?? `vectors_${options.dimension}`;
    if (!COLLECTION_NAME.test(collection) || collection.length > 64) {
      throw invalid(
        `collection ${JSON.stringify(collection)} must be lower-case letters and digits in _-separated runs, starting with a letter, at most 64 characters`,
      );
    }
    const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
      throw invalid(`busyTimeoutMs must be a non-negative integer, got ${busyTimeoutMs}`);
    }
    const mmapSizeBytes = options.mmapSizeBytes ?? 1024 ** 3;
    if (!Number.isSafeInteger(mmapSizeBytes) || mmapSizeBytes < 0) {
      throw invalid(`mmapSizeBytes must be a non-negative integer, got ${mmapSizeBytes}`);
    }
    const vectorChunkSize = options.vectorChunkSize ?? defaultVectorChunkSize(options.dimension);
    if (!Number.isSafeInteger(vectorChunkSize) || vectorChunkSize < 8 || vectorChunkSize % 8 !== 0) {
      throw invalid(`vectorChunkSize must be a positive multiple of 8, got ${vectorChunkSize}`);
    }
    this.path = options.path;
    this.readOnly = options.readOnly === true;
    this.dimension = options.dimension;
    this.collection = collection;
    this.busyTimeoutMs = busyTimeoutMs;
    this.mmapSizeBytes = mmapSizeBytes;
    this.vectorChunkSize = vectorChunkSize;
    const lexicalSearch = options.lexicalSearch ?? 'impacts';
    if (!['impacts', 'maxscore', 'exhaustive'].includes(lexicalSearch)) {
      throw invalid(`lexicalSearch must be impacts, maxscore or exhaustive, got ${String(lexicalSearch)}`);
    }
    const impactCacheBytes = options.impactCacheBytes ?? DEFAULT_IMPACT_CACHE_BYTES;
    if (!Number.isSafeInteger(impactCacheBytes) || impactCacheBytes < 0) {
      throw invalid(`impactCacheBytes must be a non-negative integer, got ${impactCacheBytes}`);
    }
    this.lexicalSearch = lexicalSearch;
    this.impactCacheBytes = impactCacheBytes;
    const denseThreadMinChunks = options.denseThreadMinChunks ?? DEFAULT_DENSE_THREAD_MIN_CHUNKS;
    if (!Number.isSafeInteger(denseThreadMinChunks) || denseThreadMinChunks < 0) {
      throw invalid(`denseThreadMinChunks must be a non-negative integer, got ${denseThreadMinChunks}`);
    }
    this.denseThreadMinChunks = denseThreadMinChunks;
    const denseCacheBytes = options.denseCacheBytes ?? DEFAULT_DENSE_CACHE_BYTES;
    if (!Number.isSafeInteger(denseCacheBytes) || denseCacheBytes < 0) {
      throw invalid(`denseCacheBytes must be a non-negative integer, got ${denseCacheBytes}`);
    }
    // Without WebAssembly SIMD every dense search is sqlite-vec's.
    this.denseCacheBytes = denseCacheBytes > 0 && denseKernelAvailable() ? denseCacheBytes : 0;
    const dense =
      this.denseCacheBytes > 0
        ? { collection, dimension: this.dimension, budgetBytes: this.denseCacheBytes }
        : undefined;
    this.denseThread =
      options.denseSearchThread !== false && this.path !== ':memory:'
        ? new SqliteReadThread({ path: this.path, busyTimeoutMs, mmapSizeBytes, ...(dense ? { dense } : {}) })
        : undefined;
  }

  private table(name: 'chunks' | 'meta' | 'vec'): string {
    return `"${this.collection}__${name}"`;
  }

  async init(options: WriteOptions = {}): Promise<void> {
    options.signal?.throwIfAborted();
    if (this.closed) throw new StoreError('store_rejected', 'SQLite store is closed');
    if (this.readOnly) {
      this.openReadOnly();
      return;
    }
    try {
      const db = this.db ?? this.open();
      this.createTables(db);
      this.statements ??= this.prepare(db);
      this.lexical ??= this.lexicalIndexes(db);
    } catch (error) {
      throw storeError(error, 'initialise');
    }
  }

  /**
   * The connection's lexical indexes, with each row's terms as written (`termsColumn` of its text)
   * for cached terms to follow writes.
   */
  private lexicalIndexes(db: Database.Database): TenantLexicalIndexes {
    const textOf = db
      .prepare<[number, string], string>(
        `SELECT text FROM ${this.table('chunks')} WHERE rowid = ? AND tenant = ?`,
      )
      .pluck();
    return new TenantLexicalIndexes(db, this.collection, this.impactCacheBytes, (tenant, rowid) => {
      const text = textOf.get(rowid, tenant);
      return text === undefined ? undefined : termsColumn(text);
    });
  }

  /**
   * Opens the file read-only once it holds this collection; false while it does not (yet). Never
   * creates anything: the workers' `init()` makes the file and its tables.
   */
  private openReadOnly(): boolean {
    if (this.statements !== undefined) return true;
    if (this.path === ':memory:' || !existsSync(this.path)) return false;
    let db: Database.Database | undefined;
    try {
      db = new Database(this.path, { readonly: true, fileMustExist: true, timeout: this.busyTimeoutMs });
      sqliteVec.load(db);
      db.pragma(`mmap_size = ${this.mmapSizeBytes}`);
      const catalog = db
        .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'quire_collections'")
        .get();
      const row =
        catalog === undefined
          ? undefined
          : (db.prepare('SELECT dimension FROM quire_collections WHERE name = ?').get(this.collection) as
              | { dimension: number }
              | undefined);
      if (row === undefined) {
        db.close();
        return false;
      }
      if (row.dimension !== this.dimension) {
        throw new StoreError(
          'store_rejected',
          `collection ${this.collection} holds vectors of dimension ${row.dimension}, not ${this.dimension}`,
        );
      }
      this.statements = this.prepare(db);
      this.lexical = this.lexicalIndexes(db);
      this.db = db;
      return true;
    } catch (error) {
      if (db !== undefined && this.db !== db) db.close();
      this.statements = undefined;
      throw storeError(error, 'open read-only');
    }
  }

  /** Refuses a write on a store opened read-only. */
  private assertWritable(): void {
    if (this.readOnly) {
      throw new StoreError(
        'store_rejected',
        'this SQLite store was opened read-only: writes go through the workers',
      );
    }
  }

  /** For a read on a read-only store: false while there is nothing to read yet. */
  private hasData(): boolean {
    if (!this.readOnly) return true;
    if (this.closed) throw new StoreError('store_rejected', 'SQLite store is closed');
    return this.openReadOnly();
  }

  private open(): Database.Database {
    if (this.path !== ':memory:') {
      try {
        mkdirSync(dirname(this.path), { recursive: true });
      } catch (error) {
        throw new StoreError('store_rejected', `cannot create the directory of ${this.path}`, {
          cause: error,
        });
      }
    }
    const db = new Database(this.path, { timeout: this.busyTimeoutMs });
    try {
      sqliteVec.load(db);
      // WAL lets readers run beside one writer and other processes; NORMAL sync is safe under WAL
      // (a power cut may lose the last commits, never corrupt the file).
      enableWal(db, this.busyTimeoutMs);
      db.pragma('synchronous = NORMAL');
      db.pragma(`mmap_size = ${this.mmapSizeBytes}`);
    } catch (error) {
      db.close();
      throw error;
    }
    this.db = db;
    return db;
  }

  private createTables(db: Database.Database): void {
    const c = this.collection;
    // IMMEDIATE: concurrent first starts of several workers serialise instead of failing mid-way.
    db.transaction(() => {
      db.exec(`CREATE TABLE IF NOT EXISTS quire_collections (
        name TEXT PRIMARY KEY,
        dimension INTEGER NOT NULL,
        created_at TEXT NOT NULL
      )`);
      db.prepare(
        'INSERT OR IGNORE INTO quire_collections (name, dimension, created_at) VALUES (?, ?, ?)',
      ).run(c, this.dimension, new Date().toISOString());
      const { dimension } = db.prepare('SELECT dimension FROM quire_collections WHERE name = ?').get(c) as {
        dimension: number;
      };
      if (dimension !== this.dimension) {
        throw new StoreError(
          'store_rejected',
          `collection ${c} holds vectors of dimension ${dimension}, not ${this.dimension}`,
        );
      }
      db.exec(`
        CREATE TABLE IF NOT EXISTS ${this.table('chunks')} (
          rowid INTEGER PRIMARY KEY,
          id TEXT NOT NULL UNIQUE,
          tenant TEXT NOT NULL,
          document_id TEXT NOT NULL,
          version TEXT NOT NULL,
          chunk_index INTEGER NOT NULL,
          chunk_count INTEGER NOT NULL,
          text TEXT NOT NULL,
          page_start INTEGER,
          page_end INTEGER,
          heading_path TEXT NOT NULL,
          source_name TEXT NOT NULL,
          metadata TEXT NOT NULL,
          ingested_at TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS "${c}__chunks_document"
          ON ${this.table('chunks')} (tenant, document_id, version, chunk_index);
        CREATE INDEX IF NOT EXISTS "${c}__chunks_source" ON ${this.table('chunks')} (tenant, source_name);
        CREATE TABLE IF NOT EXISTS ${this.table('meta')} (
          tenant TEXT NOT NULL,
          key TEXT NOT NULL,
          kind TEXT NOT NULL,
          -- no declared type, so no affinity: '2024' stays text and 2024 a number
          value NOT NULL,
          chunk INTEGER NOT NULL,
          PRIMARY KEY (tenant, key, kind, value, chunk)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS "${c}__meta_chunk" ON ${this.table('meta')} (chunk);
        CREATE VIRTUAL TABLE IF NOT EXISTS ${this.table('vec')} USING vec0(
          tenant TEXT PARTITION KEY,
          embedding FLOAT[${this.dimension}],
          chunk_size=${this.vectorChunkSize}
        );
        ${TenantLexicalIndexes.createRegistrySql(c)};
        ${TenantLexicalIndexes.createLogSql(c)};
      `);
      this.migrateSharedLexicalIndex(db);
    }).immediate();
  }

  /**
   * Files written before per-tenant lexical indexes hold one FTS5 table, `c__fts`, for every tenant:
   * each tenant's index is rebuilt from the chunk texts, then the shared table is dropped. Runs inside
   * `createTables`' transaction: concurrent openers wait, and a failure leaves the file as it was.
   */
  private migrateSharedLexicalIndex(db: Database.Database): void {
    const shared = `${this.collection}__fts`;
    const exists = db
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?")
      .pluck()
      .get(shared);
    if (exists === undefined) return;
    const indexes = new TenantLexicalIndexes(db, this.collection);
    const rows = db
      .prepare<[], { rowid: number; tenant: string; text: string }>(
        `SELECT rowid, tenant, text FROM ${this.table('chunks')} ORDER BY tenant, rowid`,
      )
      .all();
    for (const row of rows) {
      indexes.ensure(row.tenant).insert.run(row.rowid, termsColumn(row.text), EVERY_TOKEN);
    }
    indexes.clear();
    db.exec(`DROP TABLE "${shared}"`);
  }

  private prepare(db: Database.Database): Statements {
    const chunks = this.table('chunks');
    const meta = this.table('meta');
    const vec = this.table('vec');
    const chunkValues =
      '@id, @tenant, @document_id, @version, @chunk_index, @chunk_count, @text, @page_start, @page_end, ' +
      '@heading_path, @source_name, @metadata, @ingested_at';
    // Versions of a tenant's documents; the source name of a version is that of its latest chunk, looked
    // up through the document index.
    const versionsSql = (where: string) =>
      `SELECT document_id, version, COUNT(*) AS chunks, MAX(chunk_count) AS chunk_count, ` +
      'MAX(ingested_at) AS ingested_at, MAX(COALESCE(page_end, page_start)) AS pages, ' +
      `(SELECT s.source_name FROM ${chunks} s WHERE s.tenant = v.tenant AND s.document_id = v.document_id ` +
      'AND s.version = v.version ORDER BY s.ingested_at DESC, s.chunk_index LIMIT 1) AS source_name ' +
      `FROM ${chunks} v WHERE ${where} GROUP BY v.document_id, v.version ` +
      'ORDER BY v.document_id, ingested_at, v.version';
    return {
      rowidById: db.prepare(`SELECT rowid FROM ${chunks} WHERE id = ?`),
      insertChunk: db.prepare(
        `INSERT INTO ${chunks} (id, tenant, document_id, version, chunk_index, chunk_count, text, page_start, ` +
          `page_end, heading_path, source_name, metadata, ingested_at) VALUES (${chunkValues})`,
      ),
      updateChunk: db.prepare(
        `UPDATE ${chunks} SET (id, tenant, document_id, version, chunk_index, chunk_count, text, page_start, ` +
          `page_end, heading_path, source_name, metadata, ingested_at) = (${chunkValues}) WHERE rowid = @rowid`,
      ),
      deleteChunk: db.prepare(`DELETE FROM ${chunks} WHERE rowid = ?`),
      insertVector: db.prepare(`INSERT INTO ${vec} (rowid, tenant, embedding) VALUES (?, ?, ?)`),
      deleteVector: db.prepare(`DELETE FROM ${vec} WHERE rowid = ?`),
      insertMeta: db.prepare(`INSERT INTO ${meta} (tenant, key, kind, value, chunk) VALUES (?, ?, ?, ?, ?)`),
      deleteMeta: db.prepare(`DELETE FROM ${meta} WHERE chunk = ?`),
      countChunks: db.prepare(
        `SELECT COUNT(*) AS n FROM ${chunks} WHERE tenant = ? AND document_id = ? AND version = ?`,
      ),
      rowidsOfDocument: db
        .prepare<[string, string], number>(`SELECT rowid FROM ${chunks} WHERE tenant = ? AND document_id = ?`)
        .pluck(),
      rowidsOfOtherVersions: db
        .prepare<[string, string, string], number>(
          `SELECT rowid FROM ${chunks} WHERE tenant = ? AND document_id = ? AND version <> ?`,
        )
        .pluck(),
      rowidsOfVersion: db
        .prepare<[string, string, string], number>(
          `SELECT rowid FROM ${chunks} WHERE tenant = ? AND document_id = ? AND version = ?`,
        )
        .pluck(),
      listChunks: db.prepare(
        `SELECT ${CHUNK_COLUMNS} FROM ${chunks} c WHERE c.tenant = ? ORDER BY c.document_id, c.chunk_index, c.version`,
      ),
      listDocumentChunks: db.prepare(
        `SELECT ${CHUNK_COLUMNS} FROM ${chunks} c WHERE c.tenant = ? AND c.document_id = ? ` +
          'ORDER BY c.chunk_index, c.version',
      ),
      // A page of documents: their ids first, in order, through the (tenant, document_id, …) index.
      listVersions: db.prepare(
        versionsSql(
          `v.tenant = @tenant AND v.document_id IN (SELECT DISTINCT d.document_id FROM ${chunks} d ` +
            'WHERE d.tenant = @tenant AND d.document_id > @after ORDER BY d.document_id LIMIT @limit)',
        ),
      ),
      // `after` compared in SQL too, so that every order is SQLite's (code point order).
      listDocumentVersions: db.prepare(
        versionsSql('v.tenant = @tenant AND v.document_id = @documentId AND v.document_id > @after'),
      ),
    };
  }

  /** Runs a synchronous piece of work with the checks and error mapping every call shares. */
  private run<T>(signal: AbortSignal | undefined, action: string, work: (statements: Statements) => T): T {
    signal?.throwIfAborted();
    if (this.closed) throw new StoreError('store_rejected', 'SQLite store is closed');
    if (this.statements === undefined) {
      throw new StoreError('store_rejected', 'SQLite store is not initialised: call init() first');
    }
    try {
      return work(this.statements);
    } catch (error) {
      throw storeError(error, action);
    }
  }

  async upsert(tenant: string, points: ChunkPoint[], options: WriteOptions = {}): Promise<void> {
    options.signal?.throwIfAborted();
    this.assertWritable();
    if (points.length === 0) return;
    // Tokenising and encoding happen before the write lock, which other processes wait on.
    const prepared = points.map(prepare);
    this.run(options.signal, 'upsert points', (s) => {
      this.db!.transaction(() => {
        const lexical = this.lexical!.ensure(tenant);
        const generation = this.lexical!.touch(tenant);
        for (const point of prepared) {
          const existing = s.rowidById.get(point.params.id);
          let rowid: number;
          if (existing === undefined) {
            rowid = Number(s.insertChunk.run(point.params).lastInsertRowid);
          } else {
            rowid = existing.rowid;
            s.deleteVector.run(BigInt(rowid));
            lexical.delete.run(rowid);
            s.deleteMeta.run(rowid);
            s.updateChunk.run({ ...point.params, rowid });
          }
          // vec0 accepts only integer rowids, which better-sqlite3 binds from bigint.
          s.insertVector.run(BigInt(rowid), tenant, point.vector);
          lexical.insert.run(rowid, point.terms, EVERY_TOKEN);
          this.lexical!.logChange(tenant, generation, rowid);
          for (const entry of point.meta) s.insertMeta.run(tenant, entry.key, entry.kind, entry.value, rowid);
        }
      }).immediate();
    });
  }

  async searchDense(tenant: string, vector: number[], options: SearchOptions): Promise<SearchHit[]> {
    options.signal?.throwIfAborted();
    if (options.limit > MAX_LIMIT) {
      // sqlite-vec's own cap, kept when the in-memory vectors answer instead.
      throw new StoreError(
        'store_rejected',
        `dense search limit ${options.limit} is above the store's cap of ${MAX_LIMIT}`,
      );
    }
    if (!this.hasData()) return [];
    const candidates = this.candidatesSql(options.filter);
    if (candidates === undefined) return [];
    const filter = candidates.sql === '' ? '' : `AND rowid IN (${candidates.sql})`;
    // The KNN runs in a CTE so that `k` and the filter reach sqlite-vec, not the outer join.
    const sql =
      `WITH knn AS (SELECT rowid, distance FROM ${this.table('vec')} ` +
      `WHERE embedding MATCH @vector AND k = @limit AND tenant = @tenant ${filter}) ` +
      `SELECT ${CHUNK_COLUMNS}, 1.0 - knn.distance * knn.distance / 2.0 AS score FROM knn ` +
      `JOIN ${this.table('chunks')} c ON c.rowid = knn.rowid ORDER BY knn.distance, c.id`;
    const unit = unitVector(vector);
    const params = { ...candidates.params, tenant, vector: blobOf(unit), limit: options.limit };
    const request: DenseRequest = {
      tenant,
      vector: unit,
      limit: options.limit,
      ...(candidates.sql === ''
        ? {}
        : { candidates: { sql: candidates.sql, params: { ...candidates.params, tenant } } }),
    };
    const toHits = (rows: Array<ChunkRow & { score: number }>) =>
      rows.map((row) => ({ record: toRecord(row), score: row.score }));
    const thread = this.denseThread;
    // Checked first, so that a closed or uninitialised store fails as it does on this thread.
    if (thread !== undefined && !this.run(options.signal, 'search', () => this.denseHere(tenant))) {
      let rows: Array<ChunkRow & { score: number }>;
      try {
        rows = await thread.dense<ChunkRow & { score: number }>(request, this.denseRowsSql(), {
          sql,
          params,
        });
      } catch (error) {
        throw storeError(error, 'search');
      }
      options.signal?.throwIfAborted();
      return toHits(rows);
    }
    return this.run(options.signal, 'search', () =>
      toHits(
        this.denseVectorsHere()?.rows<ChunkRow>(request, this.denseRowsSql()) ??
          this.searchStatement(`dense:${candidates.sql}`, () => sql).all(params),
      ),
    );
  }

  /** The calling thread's in-memory dense vectors; undefined without a budget. */
  private denseVectorsHere(): DenseVectors | undefined {
    if (this.denseCacheBytes === 0) return undefined;
    this.denseVectors ??= new DenseVectors(this.db!, {
      collection: this.collection,
      dimension: this.dimension,
      budgetBytes: this.denseCacheBytes,
    });
    return this.denseVectors;
  }

  /**
   * The rows of in-memory dense hits, by a JSON array of their rowids and the tenant. The tenant is
   * compared as `+c.tenant`, so that SQLite looks the rows up by rowid instead of walking the
   * tenant's index (all its rows: 5 ms at 100k).
   */
  private denseRowsSql(): string {
    return (
      `SELECT ${CHUNK_COLUMNS} FROM ${this.table('chunks')} c ` +
      'WHERE c.rowid IN (SELECT value FROM json_each(?)) AND +c.tenant = ?'
    );
  }

  /**
   * Whether the tenant is small enough for its dense search to run on the calling thread: there a
   * scan of fewer than `denseThreadMinChunks` vectors costs less than the read thread's round trip
   * (a message each way, the rows copied, a thread woken up) and holds the event loop about as long
   * as its lexical search does. The count is the tenant's lexical index's (FTS5's N), which counts
   * deleted rows too: never fewer than the vectors it holds, so a big tenant is never taken for a
   * small one.
   */
  private denseHere(tenant: string): boolean {
    if (this.denseThreadMinChunks === 0) return false;
    const lexical = this.lexical!.find(tenant);
    // A tenant that never had chunks has nothing to scan.
    if (lexical === undefined) return true;
    const rows = fts5RowCount(lexical.averages.get());
    return rows !== undefined && rows < this.denseThreadMinChunks;
  }

  async searchLexical(tenant: string, query: string, options: SearchOptions): Promise<SearchHit[]> {
    options.signal?.throwIfAborted();
    const tokens = [...new Set(lexicalTokens(query))];
    if (tokens.length === 0 || !this.hasData()) return [];
    const candidates = this.candidatesSql(options.filter);
    if (candidates === undefined) return [];
    return this.run(options.signal, 'search', () => {
      const lexical = this.lexical!.find(tenant);
      if (lexical === undefined) return [];
      const statement = this.searchStatement(
        `lexical:${lexical.name}:${candidates.sql}`,
        () =>
          // bm25() is negative, lower is better: negated so that higher is better, as for every score.
          // Weight 0 for the `every` column: only the text's terms count.
          // FTS5's auxiliary functions take the table's name, not an alias.
          `SELECT ${CHUNK_COLUMNS}, -bm25(${lexical.table}, 1.0, 0.0) AS score FROM ${lexical.table} ` +
          `JOIN ${this.table('chunks')} c ON c.rowid = ${lexical.table}.rowid ` +
          `WHERE ${lexical.table} MATCH @match AND c.tenant = @tenant ` +
          `${candidates.sql === '' ? '' : `AND c.rowid IN (${candidates.sql}) `}` +
          'ORDER BY score DESC, c.id LIMIT @limit',
      );
      const search = (required: readonly string[], optional: readonly string[]) =>
        statement.all({
          ...candidates.params,
          tenant,
          match: ftsQuery(required, optional),
          limit: options.limit,
        });
      // One read transaction: the statistics, the cached impacts and the queries see one snapshot.
      const rows = this.db!.transaction(() => {
        const indexRows = fts5RowCount(lexical.averages.get());
        if (this.lexicalSearch === 'exhaustive' || indexRows === undefined) return search(tokens, []);
        // Every term's cached impacts (read where missing), added up.
        const fromImpacts = (cache: TenantCache) =>
          this.rowsByImpact(
            tenant,
            topByImpacts(
              tokens.map((token) => this.lexical!.impacts(lexical, cache, token)),
              options.limit,
            ),
            options.limit,
          );
        if (indexRows < PRUNE_MIN_ROWS) {
          // A small tenant's terms are read once (each at most the tenant's row count) and kept, as in
          // large tenants: reading them costs about what FTS5's own query costs, and the next searches
          // with those terms add up cached scores instead of computing bm25() row by row. The full
          // query runs instead without the cache's scores (`maxscore`, a filter, or `impactCacheBytes`
          // 0: counting the rows of common terms costs more than pruning saves), and for a long query
          // (a chunk's own text, as duplicate detection sends right after a write), whose mostly rare
          // terms would be read once and seldom used again.
          const cached =
            this.lexicalSearch === 'impacts' &&
            candidates.sql === '' &&
            this.impactCacheBytes > 0 &&
            tokens.length <= SMALL_TENANT_CACHED_TERMS;
          return cached ? fromImpacts(this.lexical!.cacheOf(lexical)) : search(tokens, []);
        }
        if (tokens.length === 1) return search(tokens, []);
        const cache = this.lexical!.cacheOf(lexical);
        if (this.lexicalSearch === 'impacts' && candidates.sql === '') {
          // Terms not in the cache are read from FTS5 at about a microsecond a row. On a cold cache (a
          // new connection, or writes the log does not cover) a query of common terms would read
          // hundreds of thousands: beyond a budget it runs as `maxscore` instead, after reading its
          // smallest missing terms within the budget (at least one), so that the cache fills over the
          // next queries. Cached terms that writes have since changed are followed, not read again.
          const missing = tokens
            .filter((token) => !cache.impacts.has(token))
            .map((token) => ({ token, documents: this.lexical!.documents(lexical, cache, token) }))
            .sort((a, b) => a.documents - b.documents);
          const missingRows = missing.reduce((sum, term) => sum + term.documents, 0);
          if (missingRows <= COLD_READ_ROWS) return fromImpacts(cache);
          // At least one term, so that terms above the budget are read too, one search at a time.
          let read = 0;
          for (const term of missing) {
            if (read > 0 && read + term.documents > COLD_READ_ROWS) break;
            this.lexical!.impacts(lexical, cache, term.token);
            read += term.documents;
          }
        }
        const terms: QueryTerm[] = tokens.map((token) => {
          const documents = this.lexical!.documents(lexical, cache, token);
          return { token, documents, maxContribution: bm25TermBound(indexRows, documents) };
        });
        return exactTopK(terms, options.limit, search);
      })();
      return rows.map((row) => ({ record: toRecord(row), score: row.score }));
    });
  }

  /**
   * The chunks of the best-scored rows, ordered as the SQL query orders them (score, then id), at most
   * `limit`: `top` holds every row tied with the last place, so that ids decide among them.
   */
  private rowsByImpact(
    tenant: string,
    top: Array<{ rowid: number; score: number }>,
    limit: number,
  ): Array<ChunkRow & { score: number }> {
    if (top.length === 0) return [];
    const scores = new Map(top.map((row) => [row.rowid, row.score]));
    const statement = this.searchStatement(
      'lexical:rows',
      () =>
        `SELECT ${CHUNK_COLUMNS}, 0.0 AS score FROM ${this.table('chunks')} c ` +
        'WHERE c.rowid IN (SELECT value FROM json_each(?)) AND +c.tenant = ?',
    );
    return statement
      .all(JSON.stringify(top.map((row) => row.rowid)), tenant)
      .map((row) => ({ ...row, score: scores.get(row.rowid)! }))
      .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .slice(0, limit);
  }

  private searchStatement(
    key: string,
    sql: () => string,
  ): Database.Statement<unknown[], ChunkRow & { score: number }> {
    let statement = this.searchStatements.get(key);
    if (statement === undefined) {
      statement = this.db!.prepare<unknown[], ChunkRow & { score: number }>(sql());
      this.searchStatements.set(key, statement);
    }
    return statement;
  }

  /**
   * The rowids a filter admits, as one SELECT whose parts are each served by an index and joined by
   * INTERSECT, with its named parameters: `''` without a filter, undefined when the filter admits
   * nothing (an empty list).
   */
  private candidatesSql(
    filter: SearchFilter | undefined,
  ): { sql: string; params: Record<string, string | number> } | undefined {
    const parts: string[] = [];
    const params: Record<string, string | number> = {};
    const conditions: string[] = [];
    if (filter?.documentIds !== undefined) {
      if (filter.documentIds.length === 0) return undefined;
      conditions.push('document_id IN (SELECT value FROM json_each(@documentIds))');
      params.documentIds = JSON.stringify(filter.documentIds);
    }
    if (filter?.sourceNames !== undefined) {
      if (filter.sourceNames.length === 0) return undefined;
      conditions.push('source_name IN (SELECT value FROM json_each(@sourceNames))');
      params.sourceNames = JSON.stringify(filter.sourceNames);
    }
    if (conditions.length > 0) {
      parts.push(
        `SELECT rowid FROM ${this.table('chunks')} WHERE tenant = @tenant AND ${conditions.join(' AND ')}`,
      );
    }
    Object.entries(filter?.metadata ?? {}).forEach(([key, value], i) => {
      const entry = metaEntry(value);
      parts.push(
        `SELECT chunk FROM ${this.table('meta')} ` +
          `WHERE tenant = @tenant AND key = @mk${i} AND kind = @mt${i} AND value = @mv${i}`,
      );
      params[`mk${i}`] = key;
      params[`mt${i}`] = entry.kind;
      params[`mv${i}`] = entry.value;
    });
    return { sql: parts.join(' INTERSECT '), params };
  }

  async countChunks(tenant: string, documentId: string, version: string, options: WriteOptions = {}) {
    options.signal?.throwIfAborted();
    if (!this.hasData()) return 0;
    return this.run(options.signal, 'count chunks', (s) => s.countChunks.get(tenant, documentId, version)!.n);
  }

  async deleteDocument(tenant: string, documentId: string, options: WriteOptions = {}): Promise<void> {
    options.signal?.throwIfAborted();
    this.assertWritable();
    this.run(options.signal, 'delete a document', (s) => {
      this.db!.transaction(() => {
        this.deleteRows(s, tenant, s.rowidsOfDocument.all(tenant, documentId));
      }).immediate();
    });
  }

  async deleteVersion(
    tenant: string,
    documentId: string,
    version: string,
    options: WriteOptions = {},
  ): Promise<void> {
    options.signal?.throwIfAborted();
    this.assertWritable();
    this.run(options.signal, 'delete a version', (s) => {
      this.db!.transaction(() => {
        this.deleteRows(s, tenant, s.rowidsOfVersion.all(tenant, documentId, version));
      }).immediate();
    });
  }

  async deleteOtherVersions(
    tenant: string,
    documentId: string,
    keepVersion: string,
    options: WriteOptions = {},
  ): Promise<void> {
    options.signal?.throwIfAborted();
    this.assertWritable();
    this.run(options.signal, 'delete old versions', (s) => {
      this.db!.transaction(() => {
        this.deleteRows(s, tenant, s.rowidsOfOtherVersions.all(tenant, documentId, keepVersion));
      }).immediate();
    });
  }

  /** Deletes by rowid, one row at a time, so that every delete in vec0 and FTS5 is a point lookup. */
  private deleteRows(s: Statements, tenant: string, rowids: number[]): void {
    if (rowids.length === 0) return;
    const lexical = this.lexical!.find(tenant);
    const generation = lexical === undefined ? undefined : this.lexical!.touch(tenant);
    for (const rowid of rowids) {
      s.deleteVector.run(BigInt(rowid));
      lexical?.delete.run(rowid);
      if (generation !== undefined) this.lexical!.logChange(tenant, generation, rowid);
      s.deleteMeta.run(rowid);
      s.deleteChunk.run(rowid);
    }
  }

  async listDocuments(tenant: string, options: ListDocumentsOptions = {}): Promise<DocumentSummary[]> {
    options.signal?.throwIfAborted();
    if (!this.hasData()) return [];
    const { documentId, after = '', limit } = options;
    return this.run(options.signal, 'list documents', (s) => {
      const documents: DocumentSummary[] = [];
      let current: DocumentSummary | undefined;
      const rows =
        documentId === undefined
          ? // LIMIT -1 is no limit.
            s.listVersions.all({ tenant, after, limit: limit ?? -1 })
          : s.listDocumentVersions.all({ tenant, documentId, after });
      for (const row of rows) {
        if (current?.documentId !== row.document_id) {
          current = {
            documentId: row.document_id,
            sourceName: row.source_name,
            versions: [],
            chunks: 0,
            pages: null,
          };
          documents.push(current);
        }
        current.versions.push({
          version: row.version,
          chunks: row.chunks,
          chunkCount: row.chunk_count,
          ingestedAt: row.ingested_at,
          pages: row.pages,
        });
        current.chunks += row.chunks;
        // Rows come oldest first, so the last one seen names the document and gives its pages.
        current.sourceName = row.source_name;
        current.pages = row.pages;
      }
      return documents;
    });
  }

  async listChunks(tenant: string, options: { documentId?: string; signal?: AbortSignal } = {}) {
    options.signal?.throwIfAborted();
    if (!this.hasData()) return [];
    return this.run(options.signal, 'list chunks', (s) => {
      const rows =
        options.documentId === undefined
          ? s.listChunks.all(tenant)
          : s.listDocumentChunks.all(tenant, options.documentId);
      return rows.map(toRecord);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.statements = undefined;
    this.searchStatements.clear();
    this.lexical?.clear();
    this.lexical = undefined;
    this.denseVectors = undefined;
    await this.denseThread?.close();
    this.db?.close();
    this.db = undefined;
  }
}

function prepare(point: ChunkPoint): PreparedPoint {
  return {
    params: {
      id: point.id,
      tenant: point.tenant,
      document_id: point.documentId,
      version: point.version,
      chunk_index: point.chunkIndex,
      chunk_count: point.chunkCount,
      text: point.text,
      page_start: point.pageStart,
      page_end: point.pageEnd,
      heading_path: JSON.stringify(point.headingPath),
      source_name: point.sourceName,
      metadata: JSON.stringify(point.metadata),
      ingested_at: point.ingestedAt,
    },
    vector: unitVectorBlob(point.vector),
    terms: termsColumn(point.text),
    meta: Object.entries(point.metadata).map(([key, value]) => ({ key, ...metaEntry(value) })),
  };
}
