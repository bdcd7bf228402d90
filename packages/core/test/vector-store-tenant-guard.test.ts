/**
 * The tenant guard in front of every adapter: requests the shared rules refuse never reach the
 * adapter, and answers that break the tenant or the filter are never handed on. A scripted adapter
 * stands in for a faulty or tampered backend; the real adapters run through the guard in the
 * contract suite.
 */
import { describe, expect, it } from 'vitest';
import { parseQuireEnv } from '../src/config.js';
import { StoreError } from '../src/errors.js';
import { createStore } from '../src/services.js';
import { pointId } from '../src/vector-store/ids.js';
import { guardStore, TenantGuard } from '../src/vector-store/tenant-guard.js';
import type {
  ChunkPoint,
  ChunkRecord,
  DocumentSummary,
  SearchHit,
  VectorStoreAdapter,
} from '../src/vector-store/types.js';

function record(tenant: string, documentId: string, chunkIndex = 0, sourceName = 'a.txt'): ChunkRecord {
  return {
    id: pointId(tenant, documentId, 'v1', chunkIndex),
    tenant,
    documentId,
    version: 'v1',
    chunkIndex,
    chunkCount: chunkIndex + 1,
    text: `secret text of ${tenant}`,
    pageStart: null,
    pageEnd: null,
    headingPath: [],
    sourceName,
    metadata: {},
    ingestedAt: '2024-05-01T10:00:00.000Z',
  };
}

/** An adapter that answers whatever the test scripts and counts the calls that reach it. */
class ScriptedAdapter implements VectorStoreAdapter {
  readonly dimension = 4;
  readonly maxSearchLimit = 10;
  calls: string[] = [];
  hits: SearchHit[] = [];
  records: ChunkRecord[] = [];
  documents: DocumentSummary[] = [];

  async init() {
    this.calls.push('init');
  }
  async upsert() {
    this.calls.push('upsert');
  }
  async searchDense() {
    this.calls.push('searchDense');
    return this.hits;
  }
  async searchLexical() {
    this.calls.push('searchLexical');
    return this.hits;
  }
  async countChunks() {
    this.calls.push('countChunks');
    return 0;
  }
  async deleteDocument() {
    this.calls.push('deleteDocument');
  }
  async deleteVersion() {
    this.calls.push('deleteVersion');
  }
  async deleteOtherVersions() {
    this.calls.push('deleteOtherVersions');
  }
  async listDocuments() {
    this.calls.push('listDocuments');
    return this.documents;
  }
  async listChunks() {
    this.calls.push('listChunks');
    return this.records;
  }
  async close() {}
}

async function storeError(promise: Promise<unknown>): Promise<StoreError> {
  const error = await promise.then(
    () => {
      throw new Error('expected the call to reject, it resolved');
    },
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(StoreError);
  expect((error as StoreError).code).toBe('store_rejected');
  expect((error as StoreError).retryable).toBe(false);
  return error as StoreError;
}

function summary(documentId: string): DocumentSummary {
  return { documentId, sourceName: `${documentId}.txt`, chunks: 1, versions: [] };
}

describe('tenant guard: requests', () => {
  it('refuses what the shared rules reject before the adapter sees it', async () => {
    const adapter = new ScriptedAdapter();
    const store = guardStore(adapter);
    const point: ChunkPoint = { ...record('t1', 'doc'), vector: [1, 0, 0, 0] };
    await storeError(store.searchDense('', [1, 0, 0, 0], { limit: 3 }));
    await storeError(store.searchDense('t1', [1, 0, 0], { limit: 3 }));
    await storeError(store.searchDense('t1', [0, 0, 0, 0], { limit: 3 }));
    await storeError(store.searchLexical('t1', 'word', { limit: 11 }));
    await storeError(store.searchLexical('t1', 'word', { limit: 0 }));
    await storeError(store.searchLexical('t1', 'word', { limit: 3, filter: { documentIds: [1 as never] } }));
    await storeError(store.upsert('t2', [point]));
    await storeError(store.upsert('t1', [{ ...point, id: 'chunk-0' }]));
    await storeError(store.countChunks('', 'doc', 'v1'));
    await storeError(store.deleteDocument('', 'doc'));
    await storeError(store.deleteVersion('', 'doc', 'v1'));
    await storeError(store.deleteOtherVersions('', 'doc', 'v1'));
    await storeError(store.listDocuments('t1', { limit: -1 }));
    await storeError(store.listChunks(''));
    const aborted = AbortSignal.abort(new Error('stopped'));
    await expect(store.searchLexical('t1', 'word', { limit: 3, signal: aborted })).rejects.toThrow('stopped');
    expect(adapter.calls).toEqual([]);
  });

  it('passes a valid request on and its valid answer back', async () => {
    const adapter = new ScriptedAdapter();
    const store = guardStore(adapter);
    adapter.hits = [{ record: record('t1', 'doc'), score: 0.5 }];
    await expect(store.searchDense('t1', [1, 0, 0, 0], { limit: 3 })).resolves.toEqual(adapter.hits);
    await store.upsert('t1', [{ ...record('t1', 'doc'), vector: [1, 0, 0, 0] }]);
    expect(adapter.calls).toEqual(['searchDense', 'upsert']);
  });
});

describe('tenant guard: answers', () => {
  it("never hands on another tenant's chunk, and says which rule broke without its text", async () => {
    const adapter = new ScriptedAdapter();
    const store = guardStore(adapter);
    adapter.hits = [
      { record: record('t1', 'doc'), score: 0.9 },
      { record: record('t2', 'doc'), score: 0.8 },
    ];
    for (const search of [
      store.searchDense('t1', [1, 0, 0, 0], { limit: 3 }),
      store.searchLexical('t1', 'word', { limit: 3 }),
    ]) {
      const error = await storeError(search);
      expect(error.message).toContain('another tenant');
      expect(JSON.stringify({ message: error.message, details: error.details })).not.toContain('secret text');
    }
    adapter.records = [record('t1', 'doc'), record('t2', 'doc')];
    expect((await storeError(store.listChunks('t1'))).message).toContain('another tenant');
  });

  it('refuses hits outside the filter or beyond the limit', async () => {
    const adapter = new ScriptedAdapter();
    const store = guardStore(adapter);
    adapter.hits = [{ record: record('t1', 'other'), score: 0.9 }];
    await storeError(store.searchLexical('t1', 'word', { limit: 3, filter: { documentIds: ['doc'] } }));
    adapter.hits = [{ record: record('t1', 'doc', 0, 'b.txt'), score: 0.9 }];
    await storeError(store.searchLexical('t1', 'word', { limit: 3, filter: { sourceNames: ['a.txt'] } }));
    adapter.hits = [0, 1, 2].map((i) => ({ record: record('t1', 'doc', i), score: 1 - i / 10 }));
    await storeError(store.searchDense('t1', [1, 0, 0, 0], { limit: 2 }));
    await expect(store.searchDense('t1', [1, 0, 0, 0], { limit: 3 })).resolves.toHaveLength(3);
  });

  it('refuses listings of other documents than those asked for', async () => {
    const adapter = new ScriptedAdapter();
    const store = guardStore(adapter);
    adapter.records = [record('t1', 'doc'), record('t1', 'other')];
    await storeError(store.listChunks('t1', { documentId: 'doc' }));
    adapter.documents = [summary('a'), summary('b')];
    await storeError(store.listDocuments('t1', { documentId: 'a' }));
    await storeError(store.listDocuments('t1', { after: 'a' }));
    await storeError(store.listDocuments('t1', { limit: 1 }));
    // Code point order: U+1F600 (a surrogate pair) sorts after U+FF21, unlike UTF-16 unit order.
    adapter.documents = [summary('\u{1F600}')];
    await expect(store.listDocuments('t1', { after: '\uFF21' })).resolves.toHaveLength(1);
  });
});

describe('createStore', () => {
  it('wraps every adapter it makes in the tenant guard, the reader too', () => {
    const qdrant = parseQuireEnv({
      QDRANT_URL: 'http://127.0.0.1:6333',
      QUIRE_DATA_DIR: '/tmp/quire-guard-test',
    });
    const sqlite = parseQuireEnv({ QUIRE_DATA_DIR: '/tmp/quire-guard-test' });
    for (const config of [qdrant, sqlite]) {
      expect(createStore(config)).toBeInstanceOf(TenantGuard);
      expect(createStore(config, { readOnly: true })).toBeInstanceOf(TenantGuard);
    }
  });
});
