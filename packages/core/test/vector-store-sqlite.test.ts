import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTempDir, seededRandom, spawnProcess, type TempDir } from '@quire/testkit';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { QuireError, StoreError } from '../src/errors.js';
import { lexicalTokens } from '../src/vector-store/lexical.js';
import { bm25TermBound } from '../src/vector-store/lexical-topk.js';
import {
  enableWal,
  fts5RowCount,
  SqliteVectorStore,
  type SqliteVectorStoreOptions,
  sqliteCollectionName,
} from '../src/vector-store/sqlite.js';
import { tenantTableName } from '../src/vector-store/sqlite-lexical.js';
import { SqliteReadThread } from '../src/vector-store/sqlite-read-thread.js';
import type { ChunkPoint, SearchOptions } from '../src/vector-store/types.js';
import { chunkPoints } from './chunk-points.js';
import { describeVectorStoreContract } from './vector-store-contract.js';

function contractFactory(options: Omit<SqliteVectorStoreOptions, 'path'>) {
  return async () => {
    const dir = await makeTempDir('sqlite-store');
    const store = new SqliteVectorStore({ ...options, path: join(dir.path, 'nested', 'store.db') });
    return {
      store,
      async cleanup() {
        await store.close();
        await dir.cleanup();
      },
    };
  };
}

describeVectorStoreContract('SqliteVectorStore', contractFactory({ dimension: 8 }));

// Every dense search on the read thread here: the tenants of the contract are small enough for
// the calling thread under the default `denseThreadMinChunks`, as in the run above.
// sqlite-vec's own scan, which a tenant too big for the in-memory vectors' budget gets.
describeVectorStoreContract(
  'SqliteVectorStore (dense search by sqlite-vec)',
  contractFactory({ dimension: 8, denseCacheBytes: 0 }),
);

describeVectorStoreContract(
  'SqliteVectorStore (dimension 24, named collection, small vector chunks, dense on the read thread)',
  contractFactory({ dimension: 24, collection: 'bge_small_24', vectorChunkSize: 8, denseThreadMinChunks: 0 }),
  { dimension: 24 },
);

function points(tenant: string, documentId: string, count: number, dimension = 8): ChunkPoint[] {
  return chunkPoints(tenant, documentId, count, (i) => {
    const vector = new Array<number>(dimension).fill(0);
    vector[0] = 1;
    vector[1] = i;
    return vector;
  });
}

async function storeError(promise: Promise<unknown>): Promise<StoreError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StoreError);
  return error as StoreError;
}

describe('SqliteVectorStore on a shared file', () => {
  let dir: TempDir;
  let path: string;
  const opened: SqliteVectorStore[] = [];

  async function open(options: Partial<SqliteVectorStoreOptions> = {}): Promise<SqliteVectorStore> {
    const store = new SqliteVectorStore({ path, dimension: 8, ...options });
    opened.push(store);
    await store.init();
    return store;
  }

  beforeEach(async () => {
    dir = await makeTempDir('sqlite-store');
    path = join(dir.path, 'shared.db');
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
    await dir.cleanup();
  });

  it('uses WAL journaling so that readers and writers of several connections coexist', async () => {
    await open();
    const raw = new Database(path, { readonly: true });
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      raw.close();
    }
  });

  it('two instances on one file see each other’s writes and deletes', async () => {
    const a = await open();
    const b = await open();
    await a.upsert('t1', points('t1', 'from-a', 3));
    await b.upsert('t1', points('t1', 'from-b', 2));
    expect(await b.countChunks('t1', 'from-a', 'v1')).toBe(3);
    expect(await a.countChunks('t1', 'from-b', 'v1')).toBe(2);
    const hits = await b.searchLexical('t1', 'from', { limit: 10 });
    expect(hits).toHaveLength(5);
    await b.deleteDocument('t1', 'from-a');
    expect((await a.listDocuments('t1')).map((d) => d.documentId)).toEqual(['from-b']);
    expect(await a.searchDense('t1', points('t1', 'x', 1)[0]!.vector, { limit: 10 })).toHaveLength(2);
  });

  it('runs dense search on its read thread with the same hits as on the calling thread, seeing every write before it', async () => {
    const threaded = await open({ denseThreadMinChunks: 0 });
    const inline = await open({ denseSearchThread: false });
    const query = points('t1', 'q', 3)[2]!.vector;
    const hits = async (store: SqliteVectorStore, options: SearchOptions = { limit: 10 }) =>
      (await store.searchDense('t1', query, options)).map((hit) => [hit.record.id, hit.score]);
    for (let d = 0; d < 5; d++) {
      await threaded.upsert('t1', points('t1', `doc-${d}`, 4));
      // Written by this connection just before: the thread's connection reads it.
      expect(await hits(threaded)).toEqual(await hits(inline));
      expect(await hits(threaded)).toHaveLength(Math.min(10, 4 * (d + 1)));
    }
    const filter = { documentIds: ['doc-1', 'doc-3'] };
    expect(await hits(threaded, { limit: 5, filter })).toEqual(await hits(inline, { limit: 5, filter }));
    await inline.deleteDocument('t1', 'doc-0');
    expect(await hits(threaded, { limit: 30 })).toHaveLength(16);
    await threaded.close();
    expect((await storeError(threaded.searchDense('t1', query, { limit: 1 }))).code).toBe('store_rejected');
  });

  it('searches a tenant under denseThreadMinChunks on the calling thread, with the same hits as on the thread', async () => {
    const threadQueries = vi.spyOn(SqliteReadThread.prototype, 'dense');
    try {
      const store = await open({ denseThreadMinChunks: 12 });
      const threaded = await open({ denseThreadMinChunks: 0 });
      const query = points('t1', 'q', 3)[2]!.vector;
      const hits = async (on: SqliteVectorStore, tenant: string, options: SearchOptions = { limit: 10 }) =>
        (await on.searchDense(tenant, query, options)).map((hit) => [hit.record.id, hit.score]);
      // A tenant that never had chunks: nothing to scan, on either thread.
      expect(await hits(store, 't1')).toEqual([]);
      expect(threadQueries).not.toHaveBeenCalled();
      await store.upsert('t1', points('t1', 'doc-0', 4));
      await store.upsert('t1', points('t1', 'doc-1', 4));
      await store.upsert('t2', points('t2', 'doc-0', 16));
      threadQueries.mockClear();
      // 8 chunks: the calling thread, whose hits are the thread's.
      const small = await hits(store, 't1');
      expect(threadQueries).not.toHaveBeenCalled();
      expect(small).toHaveLength(8);
      expect(small).toEqual(await hits(threaded, 't1'));
      expect(threadQueries).toHaveBeenCalledTimes(1);
      const filter = { documentIds: ['doc-1'] };
      threadQueries.mockClear();
      expect(await hits(store, 't1', { limit: 3, filter })).toEqual(
        await hits(threaded, 't1', { limit: 3, filter }),
      );
      expect(threadQueries).toHaveBeenCalledTimes(1);
      // 16 chunks in the other tenant: the thread.
      threadQueries.mockClear();
      expect(await hits(store, 't2')).toHaveLength(10);
      expect(threadQueries).toHaveBeenCalledTimes(1);
      // Deleted rows still count, so a tenant that shrank keeps the thread: 12 rows written, 8 left.
      await store.upsert('t1', points('t1', 'doc-2', 4));
      await store.deleteDocument('t1', 'doc-2');
      threadQueries.mockClear();
      expect(await hits(store, 't1')).toEqual(small);
      expect(threadQueries).toHaveBeenCalledTimes(1);
      await store.close();
      expect((await storeError(store.searchDense('t1', query, { limit: 1 }))).code).toBe('store_rejected');
      await threaded.close();
    } finally {
      threadQueries.mockRestore();
    }
  });

  it('refuses a denseThreadMinChunks that is not a non-negative integer', () => {
    for (const denseThreadMinChunks of [-1, 1.5, Number.NaN]) {
      expect(
        () => new SqliteVectorStore({ path: join(dir.path, 'x.db'), dimension: 8, denseThreadMinChunks }),
      ).toThrow(/denseThreadMinChunks/);
    }
  });

  it('keeps its data across close and reopen', async () => {
    const first = await open();
    const written = points('t1', 'doc', 4);
    await first.upsert('t1', written);
    await first.close();
    const second = await open();
    expect(await second.countChunks('t1', 'doc', 'v1')).toBe(4);
    const [best] = await second.searchDense('t1', written[2]!.vector, { limit: 1 });
    expect(best?.record.id).toBe(written[2]!.id);
    expect(await second.searchLexical('t1', 'number', { limit: 10 })).toHaveLength(4);
  });

  it('keeps collections of different dimensions apart in one file', async () => {
    const small = await open({ dimension: 8 });
    const large = await open({ dimension: 16 });
    const named = await open({ dimension: 16, collection: 'other_model_16' });
    expect(small.collection).toBe('vectors_8');
    expect(large.collection).toBe('vectors_16');
    await small.upsert('t1', points('t1', 'doc', 2, 8));
    await large.upsert('t1', points('t1', 'doc', 5, 16));
    await named.upsert('t1', points('t1', 'doc', 1, 16));
    expect(await small.countChunks('t1', 'doc', 'v1')).toBe(2);
    expect(await large.countChunks('t1', 'doc', 'v1')).toBe(5);
    expect(await named.countChunks('t1', 'doc', 'v1')).toBe(1);
    expect(await small.searchLexical('t1', 'number', { limit: 10 })).toHaveLength(2);
  });

  it('refuses to open a collection with another dimension than it was created with', async () => {
    await open({ dimension: 8, collection: 'model_a' });
    const wrong = new SqliteVectorStore({ path, dimension: 16, collection: 'model_a' });
    opened.push(wrong);
    const error = await storeError(wrong.init());
    expect(error.code).toBe('store_rejected');
    expect(error.message).toContain('dimension 8');
  });

  it('fails a write with a retryable store_unavailable while another connection holds the write lock', async () => {
    const store = await open({ busyTimeoutMs: 20 });
    await store.upsert('t1', points('t1', 'before', 1));
    const locker = new Database(path);
    try {
      locker.exec('BEGIN IMMEDIATE');
      const error = await storeError(store.upsert('t1', points('t1', 'blocked', 1)));
      expect(error.code).toBe('store_unavailable');
      expect(error.retryable).toBe(true);
      // WAL: reads go on while the lock is held.
      expect(await store.countChunks('t1', 'before', 'v1')).toBe(1);
      locker.exec('ROLLBACK');
    } finally {
      locker.close();
    }
    await store.upsert('t1', points('t1', 'blocked', 1));
    expect(await store.countChunks('t1', 'blocked', 'v1')).toBe(1);
  });

  it('processes opening and writing the same file at once lose nothing and duplicate nothing', async () => {
    const require = createRequire(import.meta.url);
    const tsx = require.resolve('tsx/cli');
    const writer = fileURLToPath(new URL('./vector-store-sqlite-writer.ts', import.meta.url));
    // Four processes start while this one creates the file: two write their own documents, two write
    // the same ids ("same-*"); this process writes documents of its own meanwhile.
    const children = ['one', 'two', 'same', 'same'].map(async (prefix) => {
      const child = await spawnProcess(process.execPath, [tsx, writer, path, 't1', prefix, '20', '10']);
      return { child, exit: await child.exited };
    });
    const store = await open({ busyTimeoutMs: 20_000 });
    for (let d = 0; d < 20; d++) await store.upsert('t1', points('t1', `parent-${d}`, 10));
    for (const { child, exit } of await Promise.all(children)) {
      expect(exit, child.output()).toEqual({ code: 0, signal: null });
      expect(child.output()).toContain('done 200');
    }
    const documents = await store.listDocuments('t1');
    expect(documents).toHaveLength(80);
    expect(documents.every((d) => d.chunks === 10)).toBe(true);
    expect(await store.listChunks('t1')).toHaveLength(800);
    expect(await store.searchDense('t1', points('t1', 'x', 1)[0]!.vector, { limit: 4096 })).toHaveLength(800);
    expect(await store.searchLexical('t1', 'same', { limit: 4096 })).toHaveLength(200);
  });
});

describe('SqliteVectorStore on a file of its own', () => {
  let dir: TempDir;

  beforeEach(async () => {
    dir = await makeTempDir('sqlite-store');
  });

  afterEach(async () => {
    await dir.cleanup();
  });

  it('rejects calls before init and after close; close is idempotent', async () => {
    const store = new SqliteVectorStore({ path: join(dir.path, 'a.db'), dimension: 8 });
    expect((await storeError(store.listChunks('t1'))).code).toBe('store_rejected');
    await store.init();
    await store.upsert('t1', points('t1', 'doc', 1));
    await store.close();
    await store.close();
    expect((await storeError(store.countChunks('t1', 'doc', 'v1'))).code).toBe('store_rejected');
    expect((await storeError(store.init())).code).toBe('store_rejected');
  });

  it('fails init with store_rejected when the file cannot be created', async () => {
    const blocker = join(dir.path, 'a-file');
    await writeFile(blocker, 'not a directory');
    const store = new SqliteVectorStore({ path: join(blocker, 'sub', 'store.db'), dimension: 8 });
    const error = await storeError(store.init());
    expect(error.code).toBe('store_rejected');
    expect(error.retryable).toBe(false);
  });

  it('rejects a limit above sqlite-vec’s cap of 4096', async () => {
    const store = new SqliteVectorStore({ path: ':memory:', dimension: 8 });
    await store.init();
    try {
      const vector = points('t1', 'doc', 1)[0]!.vector;
      expect((await storeError(store.searchDense('t1', vector, { limit: 4097 }))).code).toBe(
        'store_rejected',
      );
      expect(await store.searchDense('t1', vector, { limit: 4096 })).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it.each([
    [{ dimension: 0 }, 'dimension'],
    [{ dimension: 8.5 }, 'dimension'],
    [{ collection: 'Upper' }, 'collection'],
    [{ collection: 'a__b' }, 'collection'],
    [{ collection: 'trailing_' }, 'collection'],
    [{ collection: '1abc' }, 'collection'],
    [{ collection: `a${'b'.repeat(64)}` }, 'collection'],
    [{ busyTimeoutMs: -1 }, 'busyTimeoutMs'],
    [{ mmapSizeBytes: 1.5 }, 'mmapSizeBytes'],
    [{ vectorChunkSize: 12 }, 'vectorChunkSize'],
    [{ path: '' }, 'path'],
  ] as const)('rejects invalid options %o', (overrides, named) => {
    const create = () => new SqliteVectorStore({ path: join(dir.path, 'a.db'), dimension: 8, ...overrides });
    expect(create).toThrow(QuireError);
    expect(create).toThrow(named);
  });

  describe('lexical search and bm25', () => {
    it('returns exactly what one unpruned bm25 query over all the terms returns', async () => {
      const path = join(dir.path, 'ranking.db');
      const store = new SqliteVectorStore({ path, dimension: 8 });
      await store.init();
      const random = seededRandom(11);
      // Skewed words (w0 in most chunks, w10 in about a quarter, w399 in a few percent), so that queries mix
      // terms whose bounds allow pruning with terms whose bounds do not.
      const word = () => `w${Math.floor(400 * random() ** 2.5)}`;
      // t1 is large enough for pruning (8,000 chunks, 5,160 after the deletes below), t2 is not (800 and
      // the writes below): its cached terms are read again after a write instead of following it.
      const tenants = ['t1', 't2'];
      for (const [tenant, documents] of [
        ['t1', 200],
        ['t2', 20],
      ] as const) {
        for (let d = 0; d < documents; d++) {
          const batch = points(tenant, `doc-${d}`, 40).map((point) => ({
            ...point,
            text: Array.from({ length: 10 + Math.floor(random() * 50) }, word).join(' '),
          }));
          await store.upsert(tenant, batch);
        }
      }
      const reference = new Database(path, { readonly: true });
      const unprunedSql = (tenant: string, filter: string) => {
        const fts = tenantTableName('vectors_8', tenant);
        return (
          `SELECT c.id, -bm25(${fts}, 1.0, 0.0) AS score FROM ${fts} ` +
          `JOIN vectors_8__chunks c ON c.rowid = ${fts}.rowid WHERE ${fts} MATCH ? AND c.tenant = ? ` +
          `${filter} ORDER BY score DESC, c.id LIMIT ?`
        );
      };
      // Every fifth query is confined to ten documents, as a filter by document ids confines it.
      const tenDocuments = Array.from({ length: 10 }, (_, i) => `doc-${i * 2}`);
      const inTen = `AND c.document_id IN (${tenDocuments.map((id) => `'${id}'`).join(', ')})`;
      const statement = (tenant: string, filtered: boolean) =>
        reference.prepare<[string, string, number], { id: string; score: number }>(
          unprunedSql(tenant, filtered ? inTen : ''),
        );
      // The same file through the store's other modes, which must agree with the default one.
      // A small impact cache keeps evicting and reading terms again.
      const others = [
        new SqliteVectorStore({ path, dimension: 8, impactCacheBytes: 20_000 }),
        new SqliteVectorStore({ path, dimension: 8, lexicalSearch: 'maxscore' }),
        new SqliteVectorStore({ path, dimension: 8, lexicalSearch: 'exhaustive' }),
      ];
      for (const other of others) await other.init();
      try {
        let compared = 0;
        for (let q = 0; q < 240; q++) {
          if (q % 20 === 10) {
            // Writes between searches: a new document and a re-written one in t1, which the cached
            // term rows of every connection follow (the first search after a write).
            const fresh = points('t1', `new-${q}`, 5).map((point) => ({
              ...point,
              text: Array.from({ length: 10 + Math.floor(random() * 50) }, word).join(' '),
            }));
            const rewritten = points('t1', `doc-${(q * 7) % 200}`, 40).map((point) => ({
              ...point,
              text: Array.from({ length: 10 + Math.floor(random() * 50) }, word).join(' '),
            }));
            await store.upsert('t1', fresh);
            await others[1]!.upsert('t1', rewritten);
            await others[2]!.upsert(
              't2',
              points('t2', `doc-${q % 20}`, 40).map((point) => ({
                ...point,
                text: Array.from({ length: 10 + Math.floor(random() * 50) }, word).join(' '),
              })),
            );
          }
          if (q === 120) {
            // FTS5 keeps counting rows deleted from a contentless index in the row count bm25() uses:
            // the bounds must follow it, not the rows left.
            for (let d = 1; d < 200; d += 4) await store.deleteDocument('t1', `doc-${d}`);
            for (let d = 0; d < 200; d += 7) await store.deleteOtherVersions('t1', `doc-${d}`, 'v2');
          }
          const tenant = tenants[q % 2]!;
          const limit = [1, 10, 30, 100][q % 4]!;
          // Every third query is many common terms OR-ed, where pruning has the least room.
          const tokens =
            q % 3 === 2
              ? [
                  ...new Set(
                    Array.from(
                      { length: 6 + Math.floor(random() * 14) },
                      () => `w${Math.floor(random() * 24)}`,
                    ),
                  ),
                ]
              : [...new Set(Array.from({ length: 1 + Math.floor(random() * 10) }, word))];
          const match = `terms : (${tokens.map((t) => `"${t}"`).join(' OR ')})`;
          const filtered = q % 5 === 4;
          const expected = statement(tenant, filtered).all(match, tenant, limit);
          const options = { limit, ...(filtered ? { filter: { documentIds: tenDocuments } } : {}) };
          for (const [s, searcher] of [store, ...others].entries()) {
            const actual = await searcher.searchLexical(tenant, tokens.join(' '), options);
            expect(actual.map((hit) => hit.record.id)).toEqual(expected.map((row) => row.id));
            actual.forEach((hit, i) => {
              // Summed impacts are the full query's own floats, also after writes (the cached terms follow
              // them); pruned SQL adds the terms in another order. The store with a small cache runs a query as `maxscore` when its unread terms hold too many rows.
              if (s === 0 && !filtered) expect(hit.score).toBe(expected[i]!.score);
              else expect(hit.score).toBeCloseTo(expected[i]!.score, 9);
            });
          }
          compared += expected.length;
        }
        expect(compared).toBeGreaterThan(6_000);
      } finally {
        reference.close();
        for (const other of others) await other.close();
        await store.close();
      }
    }, 120_000);
    it('reads the N bm25() uses, which keeps rows deleted from the contentless index', async () => {
      const path = join(dir.path, 'count.db');
      const store = new SqliteVectorStore({ path, dimension: 8 });
      await store.init();
      for (let d = 0; d < 10; d++) {
        const batch = points('t1', `doc-${d}`, 10).map((point, i) => ({
          ...point,
          text: i % 2 === 0 ? 'alpha beta' : 'alpha gamma',
        }));
        await store.upsert('t1', batch);
      }
      for (let d = 0; d < 6; d++) await store.deleteDocument('t1', `doc-${d}`);
      await store.close();
      const db = new Database(path, { readonly: true });
      try {
        const fts = tenantTableName('vectors_8', 't1');
        const averages = db.prepare(`SELECT block FROM ${fts}_data WHERE id = 1`).pluck().get() as Buffer;
        const n = fts5RowCount(averages);
        expect(n).toBe(100);
        expect(db.prepare('SELECT COUNT(*) FROM vectors_8__chunks').pluck().get()).toBe(40);
        // bm25 of "beta" (in 20 of the rows left, once, in rows of equal length) with N = 100, not 40.
        const score = db
          .prepare(`SELECT -bm25(${fts}, 1.0, 0.0) FROM ${fts} WHERE ${fts} MATCH 'terms : beta'`)
          .pluck()
          .get() as number;
        const idf = (rows: number) => Math.log((rows - 20 + 0.5) / (20 + 0.5));
        // Every row has the same length, so its term-frequency factor is exactly 1: the score is the IDF.
        expect(score).toBeCloseTo(idf(100), 9);
        expect(idf(40)).toBeCloseTo(0, 9);
        expect(score).toBeLessThanOrEqual(bm25TermBound(n!, 20));
      } finally {
        db.close();
      }
      expect(fts5RowCount(undefined)).toBeUndefined();
      expect(fts5RowCount(Uint8Array.of(0x81, 0x00))).toBe(128);
      expect(fts5RowCount(Uint8Array.of(0x7f))).toBe(127);
    });
  });
});

describe('SqliteVectorStore lexical statistics per tenant', () => {
  let dir: TempDir;

  beforeEach(async () => {
    dir = await makeTempDir('sqlite-lexical');
  });

  afterEach(async () => {
    await dir.cleanup();
  });

  /** Chunks of `documents` × 40 whose texts draw words from `word`. */
  async function ingest(store: SqliteVectorStore, tenant: string, documents: number, word: () => string) {
    for (let d = 0; d < documents; d++) {
      const batch = points(tenant, `doc-${d}`, 40).map((point) => ({
        ...point,
        text: Array.from({ length: 10 + (d % 7) * 8 }, word).join(' '),
      }));
      await store.upsert(tenant, batch);
    }
  }

  function queries(random: () => number): string[] {
    return Array.from({ length: 60 }, (_, q) => {
      const length = q % 3 === 0 ? 8 + Math.floor(random() * 10) : 1 + Math.floor(random() * 5);
      return Array.from({ length }, () => `w${Math.floor(300 * random() ** 2)}`).join(' ');
    });
  }

  async function results(store: SqliteVectorStore, tenant: string, questions: string[]) {
    const out = [];
    for (const [i, question] of questions.entries()) {
      const hits = await store.searchLexical(tenant, question, { limit: [1, 10, 30][i % 3]! });
      out.push(hits.map((hit) => ({ id: hit.record.id, score: hit.score })));
    }
    return out;
  }

  it('keeps a tenant’s results and scores when another tenant ingests and deletes', async () => {
    const path = join(dir.path, 'tenants.db');
    const store = new SqliteVectorStore({ path, dimension: 8 });
    await store.init();
    const random = seededRandom(5);
    // Tenant a: 4,800 chunks (large enough for pruning); its words skewed towards w0.
    await ingest(store, 'a', 120, () => `w${Math.floor(300 * random() ** 3)}`);
    const questions = queries(random);
    const before = await results(store, 'a', questions);
    expect(before.flat().length).toBeGreaterThan(600);

    // Tenant b: more chunks than a, the same words in another proportion (w299 commonest), longer texts.
    await ingest(store, 'b', 160, () => `w${299 - Math.floor(300 * random() ** 4)}`);
    await store.upsert(
      'b',
      points('b', 'long', 20).map((point) => ({ ...point, text: 'w1 w2 w3 '.repeat(200) })),
    );
    for (let d = 0; d < 160; d += 3) await store.deleteDocument('b', `doc-${d}`);
    expect(await results(store, 'a', questions)).toEqual(before);
    // A connection without cached statistics computes the same.
    const fresh = new SqliteVectorStore({ path, dimension: 8 });
    await fresh.init();
    try {
      expect(await results(fresh, 'a', questions)).toEqual(before);
      // b's scores are b's own: the same query scores differently there.
      const inB = await fresh.searchLexical('b', 'w0', { limit: 1 });
      const inA = await fresh.searchLexical('a', 'w0', { limit: 1 });
      expect(inB[0]!.score).not.toBeCloseTo(inA[0]!.score, 3);
    } finally {
      await fresh.close();
      await store.close();
    }
  });

  it('converts a file with the shared lexical index into one index per tenant on open', async () => {
    const path = join(dir.path, 'legacy.db');
    const random = seededRandom(9);
    const store = new SqliteVectorStore({ path, dimension: 8 });
    await store.init();
    await ingest(store, 'a', 110, () => `w${Math.floor(300 * random() ** 3)}`);
    await ingest(store, 'b', 5, () => `w${Math.floor(300 * random())}`);
    const questions = queries(random);
    const expected = { a: await results(store, 'a', questions), b: await results(store, 'b', questions) };
    await store.close();

    // The layout before per-tenant indexes: one FTS5 table, each row with its tenant's hashed token.
    const db = new Database(path);
    const tenantToken = (tenant: string) =>
      `t${createHash('sha256').update(tenant).digest('hex').slice(0, 32)}`;
    db.transaction(() => {
      for (const tenant of ['a', 'b']) db.exec(`DROP TABLE "${tenantTableName('vectors_8', tenant)}"`);
      db.exec('DROP TABLE vectors_8__lexical');
      db.exec(
        "CREATE VIRTUAL TABLE vectors_8__fts USING fts5(tenant, terms, content = '', contentless_delete = 1, " +
          "tokenize = 'unicode61 remove_diacritics 0')",
      );
      const insert = db.prepare('INSERT INTO vectors_8__fts (rowid, tenant, terms) VALUES (?, ?, ?)');
      const rows = db.prepare('SELECT rowid, tenant, text FROM vectors_8__chunks').all() as {
        rowid: number;
        tenant: string;
        text: string;
      }[];
      for (const row of rows)
        insert.run(row.rowid, tenantToken(row.tenant), lexicalTokens(row.text).join(' '));
    })();
    db.close();

    const reopened = new SqliteVectorStore({ path, dimension: 8 });
    await reopened.init();
    try {
      expect(await results(reopened, 'a', questions)).toEqual(expected.a);
      expect(await results(reopened, 'b', questions)).toEqual(expected.b);
      const check = new Database(path, { readonly: true });
      try {
        const tables = check
          .prepare("SELECT name FROM sqlite_master WHERE name LIKE 'vectors_8__fts%' AND type = 'table'")
          .pluck()
          .all();
        expect(tables).not.toContain('vectors_8__fts');
        expect(tables).toContain(tenantTableName('vectors_8', 'a'));
      } finally {
        check.close();
      }
      // Writes and deletes after the conversion reach the tenant's new index.
      await reopened.deleteDocument('b', 'doc-0');
      await reopened.upsert(
        'b',
        points('b', 'new', 1).map((point) => ({ ...point, text: 'zanzibar' })),
      );
      expect(
        (await reopened.searchLexical('b', 'zanzibar', { limit: 5 })).map((hit) => hit.record.documentId),
      ).toEqual(['new']);
      expect((await reopened.listChunks('b')).length).toBe(161);
    } finally {
      await reopened.close();
    }
  });
});

describe('sqliteCollectionName', () => {
  it('makes a valid collection name per model and dimension', () => {
    expect(sqliteCollectionName('minilm', 384)).toBe('minilm_384');
    expect(sqliteCollectionName('BAAI/bge-small-en-v1.5', 384)).toMatch(
      /^baai_bge_small_en_v1_5_384_[0-9a-f]{8}$/,
    );
    expect(sqliteCollectionName('3-large', 3072)).toMatch(/^m_3_large_3072_[0-9a-f]{8}$/);
    const long = sqliteCollectionName(`model-${'x'.repeat(200)}`, 1_000_000);
    expect(long.length).toBeLessThanOrEqual(64);
    expect(() => new SqliteVectorStore({ path: ':memory:', dimension: 8, collection: long })).not.toThrow();
  });

  it('keeps models apart that differ only in punctuation or case', () => {
    expect(sqliteCollectionName('BAAI/bge-small', 384)).not.toBe(sqliteCollectionName('baai_bge_small', 384));
    expect(sqliteCollectionName('m', 384)).not.toBe(sqliteCollectionName('m', 768));
  });

  it('rejects a model name without letters or digits, or a bad dimension', () => {
    expect(() => sqliteCollectionName('--', 8)).toThrow(QuireError);
    expect(() => sqliteCollectionName('m', 0)).toThrow(QuireError);
  });
});

describe('enableWal', () => {
  /** A connection whose `journal_mode = WAL` fails with `codes` first, then succeeds. */
  function failing(...codes: string[]) {
    const calls: string[] = [];
    return {
      calls,
      pragma(source: string) {
        calls.push(source);
        const code = codes.shift();
        if (code !== undefined) throw Object.assign(new Error('database is locked'), { code });
        return 'wal';
      },
    };
  }

  it('asks again while another process converts a new file (SQLITE_BUSY at once, busy timeout or not)', () => {
    const db = failing('SQLITE_BUSY', 'SQLITE_BUSY', 'SQLITE_BUSY_RECOVERY');
    enableWal(db as never, 5_000);
    expect(db.calls).toEqual(Array(4).fill('journal_mode = WAL'));
  });

  it('gives up once the busy timeout has passed, and at once on any other error', () => {
    const busy = failing(...Array(1_000).fill('SQLITE_BUSY'));
    const started = performance.now();
    expect(() => enableWal(busy as never, 100)).toThrow(/database is locked/);
    expect(performance.now() - started).toBeGreaterThanOrEqual(100);
    const other = failing('SQLITE_CORRUPT');
    expect(() => enableWal(other as never, 5_000)).toThrow(/database is locked/);
    expect(other.calls).toHaveLength(1);
  });
});
