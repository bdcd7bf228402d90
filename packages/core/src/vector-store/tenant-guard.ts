/**
 * The one place where a store's callers meet its tenant rules. Every adapter is wrapped in a
 * `TenantGuard` by `createStore`, which:
 * - refuses, before the adapter sees it, any request the shared rules reject (`validation.ts`): an empty
 *   tenant, a vector of the wrong dimension, a limit above the adapter's cap, a malformed filter, a
 *   point of another tenant or with an id `pointId` does not derive, an already aborted signal;
 * - checks what comes back: a hit or record of another tenant, of a document outside the filter, or of
 *   another document than the one asked for is never handed on. The call fails with a non-retryable
 *   `store_rejected` naming the broken rule (never the foreign record's text), so an adapter bug or a
 *   tampered store cannot leak one tenant's chunks to another.
 *
 * Adapters hold no tenant checks of their own; their contract suite runs through the guard.
 */
import { StoreError } from '../errors.js';
import { compareCodePoints } from './ids.js';
import type {
  ChunkPoint,
  ChunkRecord,
  DocumentSummary,
  ListDocumentsOptions,
  SearchFilter,
  SearchHit,
  SearchOptions,
  VectorStore,
  VectorStoreAdapter,
  WriteOptions,
} from './types.js';
import {
  assertFilter,
  assertLimit,
  assertListDocuments,
  assertPoints,
  assertTenant,
  assertVector,
} from './validation.js';

function leak(rule: string, details: Record<string, unknown>): StoreError {
  return new StoreError('store_rejected', `the store answered with ${rule}; the answer was discarded`, {
    retryable: false,
    details,
  });
}

function checkRecord(tenant: string, record: ChunkRecord, where: string): void {
  if (record.tenant !== tenant) {
    throw leak('a chunk of another tenant', { where, chunkId: record.id });
  }
}

function checkHits(tenant: string, hits: SearchHit[], options: SearchOptions, where: string): SearchHit[] {
  if (hits.length > options.limit) {
    throw leak(`${hits.length} hits for a limit of ${options.limit}`, { where });
  }
  const filter: SearchFilter | undefined = options.filter;
  const documents = filter?.documentIds === undefined ? undefined : new Set(filter.documentIds);
  const sources = filter?.sourceNames === undefined ? undefined : new Set(filter.sourceNames);
  for (const { record } of hits) {
    checkRecord(tenant, record, where);
    if (documents !== undefined && !documents.has(record.documentId)) {
      throw leak('a chunk of a document outside the filter', { where, chunkId: record.id });
    }
    if (sources !== undefined && !sources.has(record.sourceName)) {
      throw leak('a chunk of a source outside the filter', { where, chunkId: record.id });
    }
  }
  return hits;
}

export class TenantGuard implements VectorStore {
  readonly #store: VectorStoreAdapter;

  constructor(store: VectorStoreAdapter) {
    this.#store = store;
  }

  get dimension(): number {
    return this.#store.dimension;
  }

  init(options: WriteOptions = {}): Promise<void> {
    options.signal?.throwIfAborted();
    return this.#store.init(options);
  }

  async upsert(tenant: string, points: ChunkPoint[], options: WriteOptions = {}): Promise<void> {
    options.signal?.throwIfAborted();
    assertPoints(tenant, points, this.#store.dimension);
    await this.#store.upsert(tenant, points, options);
  }

  async searchDense(tenant: string, vector: number[], options: SearchOptions): Promise<SearchHit[]> {
    options.signal?.throwIfAborted();
    assertTenant(tenant);
    assertVector(vector, this.#store.dimension, 'query vector');
    assertLimit(options.limit, this.#store.maxSearchLimit);
    assertFilter(options.filter);
    return checkHits(tenant, await this.#store.searchDense(tenant, vector, options), options, 'searchDense');
  }

  async searchLexical(tenant: string, query: string, options: SearchOptions): Promise<SearchHit[]> {
    options.signal?.throwIfAborted();
    assertTenant(tenant);
    assertLimit(options.limit, this.#store.maxSearchLimit);
    assertFilter(options.filter);
    return checkHits(
      tenant,
      await this.#store.searchLexical(tenant, query, options),
      options,
      'searchLexical',
    );
  }

  async countChunks(tenant: string, documentId: string, version: string, options: WriteOptions = {}) {
    options.signal?.throwIfAborted();
    assertTenant(tenant);
    return this.#store.countChunks(tenant, documentId, version, options);
  }

  async deleteDocument(tenant: string, documentId: string, options: WriteOptions = {}): Promise<void> {
    options.signal?.throwIfAborted();
    assertTenant(tenant);
    await this.#store.deleteDocument(tenant, documentId, options);
  }

  async deleteVersion(tenant: string, documentId: string, version: string, options: WriteOptions = {}) {
    options.signal?.throwIfAborted();
    assertTenant(tenant);
    await this.#store.deleteVersion(tenant, documentId, version, options);
  }

  async deleteOtherVersions(
    tenant: string,
    documentId: string,
    keepVersion: string,
    options: WriteOptions = {},
  ) {
    options.signal?.throwIfAborted();
    assertTenant(tenant);
    await this.#store.deleteOtherVersions(tenant, documentId, keepVersion, options);
  }

  async listDocuments(tenant: string, options: ListDocumentsOptions = {}): Promise<DocumentSummary[]> {
    options.signal?.throwIfAborted();
    assertTenant(tenant);
    assertListDocuments(options);
    const documents = await this.#store.listDocuments(tenant, options);
    const { documentId, after, limit } = options;
    if (limit !== undefined && documents.length > limit) {
      throw leak(`${documents.length} documents for a limit of ${limit}`, { where: 'listDocuments' });
    }
    for (const document of documents) {
      if (documentId !== undefined && document.documentId !== documentId) {
        throw leak('another document than the one asked for', { where: 'listDocuments' });
      }
      if (after !== undefined && compareCodePoints(document.documentId, after) <= 0) {
        throw leak('a document before the cursor', { where: 'listDocuments' });
      }
    }
    return documents;
  }

  async listChunks(tenant: string, options: { documentId?: string; signal?: AbortSignal } = {}) {
    options.signal?.throwIfAborted();
    assertTenant(tenant);
    if (options.documentId !== undefined && typeof options.documentId !== 'string') {
      throw new StoreError('store_rejected', 'documentId must be a string', { retryable: false });
    }
    const records = await this.#store.listChunks(tenant, options);
    for (const record of records) {
      checkRecord(tenant, record, 'listChunks');
      if (options.documentId !== undefined && record.documentId !== options.documentId) {
        throw leak('a chunk of another document than the one asked for', {
          where: 'listChunks',
          chunkId: record.id,
        });
      }
    }
    return records;
  }

  close(): Promise<void> {
    return this.#store.close();
  }
}

/** The adapter behind `createStore`'s answer, wrapped in its tenant guard. */
export function guardStore(store: VectorStoreAdapter): VectorStore {
  return new TenantGuard(store);
}
