import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, seededRandom, type TempDir } from '@quire/testkit';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { compileDenseKernel, kernelSource } from '../scripts/dense-kernel.mjs';
import { DENSE_KERNEL_WASM } from '../src/vector-store/dense-kernel.js';
import { DenseVectors, TenantVectors } from '../src/vector-store/dense-vectors.js';
import { SqliteVectorStore, type SqliteVectorStoreOptions } from '../src/vector-store/sqlite.js';
import type { ChunkPoint, SearchHit } from '../src/vector-store/types.js';
import { chunkPoints } from './chunk-points.js';

type Random = () => number;

function unit(random: Random, dimension: number): Float32Array {
  const vector = Array.from({ length: dimension }, () => random() * 2 - 1);
  const norm = Math.hypot(...vector);
  return Float32Array.from(vector, (value) => value / norm);
}

function bytes(vector: Float32Array): Uint8Array {
  return new Uint8Array(vector.buffer, vector.byteOffset, vector.byteLength);
}

/** The exact ranking in doubles: best first, ties by rowid. */
function expected(
  rows: Map<number, Float32Array>,
  query: Float32Array,
  limit: number,
  allowed?: Set<number>,
) {
  const scored = [...rows]
    .filter(([rowid]) => allowed === undefined || allowed.has(rowid))
    .map(([rowid, vector]) => ({
      rowid,
      score: vector.reduce((sum, value, i) => sum + value * query[i]!, 0),
    }));
  return scored.sort((a, b) => b.score - a.score || a.rowid - b.rowid).slice(0, limit);
}

function expectSameRanking(actual: Array<{ rowid: number; score: number }>, wanted: typeof actual): void {
  expect(actual).toHaveLength(wanted.length);
  actual.forEach((hit, i) => {
    // Scores rank by rank, not rowids: float32 sums may order two scores closer than their rounding
    // either way.
    expect(Math.abs(hit.score - wanted[i]!.score)).toBeLessThan(1e-5);
  });
  const cut = wanted.at(-1)?.score ?? 0;
  const ids = new Set(wanted.map((hit) => hit.rowid));
  for (const hit of actual) if (!ids.has(hit.rowid)) expect(Math.abs(hit.score - cut)).toBeLessThan(1e-5);
}

/** `top`'s first `limit` hits, after checking that any beyond them tie with the last place. */
function cut(vectors: TenantVectors, query: Float32Array, limit: number, allowed?: Set<number>) {
  const hits = vectors.top(query, limit, allowed);
  for (const hit of hits.slice(limit)) expect(hit.score).toBe(hits[limit - 1]!.score);
  return hits.slice(0, limit);
}

describe('the dense kernel', () => {
  it('is dense-kernel.wat compiled (pnpm --filter @quire/core dense-kernel writes it)', async () => {
    const compiled = await compileDenseKernel();
    expect(DENSE_KERNEL_WASM).toBe(compiled);
    const committed = readFileSync(new URL('../src/vector-store/dense-kernel.ts', import.meta.url), 'utf8');
    expect(committed).toBe(kernelSource(compiled));
  });
});

describe('TenantVectors', () => {
  it('ranks as the exact dot products do, at dimensions on and off the 16 lanes', () => {
    const random = seededRandom(11);
    for (const dimension of [1, 3, 16, 17, 100, 384]) {
      const vectors = new TenantVectors(dimension, 4, 0);
      const rows = new Map<number, Float32Array>();
      for (let rowid = 1; rowid <= 300; rowid++) {
        const vector = unit(random, dimension);
        rows.set(rowid * 7, vector);
        vectors.set(rowid * 7, bytes(vector));
      }
      expect(vectors.count).toBe(300);
      for (let q = 0; q < 5; q++) {
        const query = unit(random, dimension);
        for (const limit of [1, 10, 300, 400]) {
          expectSameRanking(cut(vectors, query, limit), expected(rows, query, limit));
        }
      }
    }
  });

  it('keeps the rows right through deletes, re-writes and growth', () => {
    const random = seededRandom(5);
    const dimension = 24;
    const vectors = new TenantVectors(dimension, 0, 0);
    const rows = new Map<number, Float32Array>();
    for (let step = 0; step < 3000; step++) {
      const rowid = Math.floor(random() * 400);
      if (random() < 0.35) {
        vectors.delete(rowid);
        rows.delete(rowid);
      } else {
        const vector = unit(random, dimension);
        vectors.set(rowid, bytes(vector));
        rows.set(rowid, vector);
      }
      if (step % 250 === 0) {
        const query = unit(random, dimension);
        expectSameRanking(cut(vectors, query, 50), expected(rows, query, 50));
      }
    }
    expect(vectors.count).toBe(rows.size);
    const query = unit(random, dimension);
    expectSameRanking(cut(vectors, query, rows.size), expected(rows, query, rows.size));
  });

  it('ranks only the allowed rows, and breaks ties by rowid', () => {
    const vectors = new TenantVectors(4, 0, 0);
    const same = Float32Array.of(1, 0, 0, 0);
    for (const rowid of [9, 3, 5, 1]) vectors.set(rowid, bytes(same));
    vectors.set(2, bytes(Float32Array.of(0, 1, 0, 0)));
    expect(vectors.top(same, 3)).toEqual([
      { rowid: 1, score: 1 },
      { rowid: 3, score: 1 },
      { rowid: 5, score: 1 },
      { rowid: 9, score: 1 },
    ]);
    expect(vectors.top(same, 5, new Set([2, 9, 42]))).toEqual([
      { rowid: 9, score: 1 },
      { rowid: 2, score: 0 },
    ]);
    expect(vectors.top(same, 0)).toEqual([]);
  });

  it('returns every row tied with the last place, for the caller to order and cut', () => {
    const vectors = new TenantVectors(4, 0, 0);
    const same = Float32Array.of(1, 0, 0, 0);
    for (let rowid = 1; rowid <= 12; rowid++) vectors.set(rowid, bytes(same));
    vectors.set(20, bytes(Float32Array.of(0.6, 0.8, 0, 0)));
    const hits = vectors.top(same, 3);
    expect(hits.slice(0, 3)).toEqual([1, 2, 3].map((rowid) => ({ rowid, score: 1 })));
    expect(hits.map((hit) => hit.rowid).sort((a, b) => a - b)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
    ]);
    expect(vectors.top(same, 3, new Set([20, 4, 7]))).toEqual([
      { rowid: 4, score: 1 },
      { rowid: 7, score: 1 },
      { rowid: 20, score: Math.fround(0.6) },
    ]);
  });

  it('refuses a vector or a query of another size', () => {
    const vectors = new TenantVectors(4, 0, 0);
    expect(() => vectors.set(1, new Uint8Array(12))).toThrow(/12 bytes, not 16/);
    vectors.set(1, bytes(Float32Array.of(1, 0, 0, 0)));
    expect(() => vectors.top(Float32Array.of(1, 0, 0, 0, 0), 1)).toThrow(
      /dimension 5 searched vectors of dimension 4/,
    );
    expect(vectors.top(Float32Array.of(1, 0, 0, 0), 1)).toEqual([{ rowid: 1, score: 1 }]);
  });
});

const DIMENSION = 20;

function points(random: Random, tenant: string, documentId: string, count: number): ChunkPoint[] {
  return chunkPoints(
    tenant,
    documentId,
    count,
    () => [...unit(random, DIMENSION)],
    (i) => ({ part: i % 3 }),
  );
}

function expectSameHits(actual: SearchHit[], wanted: SearchHit[]): void {
  expectSameRanking(
    actual.map((hit) => ({ rowid: Number.NaN, score: hit.score })),
    wanted.map((hit) => ({ rowid: Number.NaN, score: hit.score })),
  );
  const cut = wanted.at(-1)?.score ?? 0;
  const ids = new Set(wanted.map((hit) => hit.record.id));
  for (const hit of actual) {
    if (!ids.has(hit.record.id)) expect(Math.abs(hit.score - cut)).toBeLessThan(1e-5);
    else expect(hit.record).toEqual(wanted.find((other) => other.record.id === hit.record.id)!.record);
  }
}

describe('SqliteVectorStore with dense vectors in memory', () => {
  let dir: TempDir;
  const stores: SqliteVectorStore[] = [];

  beforeEach(async () => {
    dir = await makeTempDir('dense-vectors');
  });

  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    await dir.cleanup();
  });

  async function open(options: Partial<SqliteVectorStoreOptions> = {}): Promise<SqliteVectorStore> {
    const store = new SqliteVectorStore({
      path: join(dir.path, 'store.db'),
      dimension: DIMENSION,
      ...options,
    });
    await store.init();
    stores.push(store);
    return store;
  }

  it('finds what sqlite-vec finds, on either thread, through writes made by another connection', async () => {
    const random = seededRandom(3);
    const writer = await open({ denseCacheBytes: 0 });
    const here = await open({ denseThreadMinChunks: 100_000 });
    const thread = await open({ denseThreadMinChunks: 0 });
    const loads = vi.spyOn(DenseVectors.prototype as unknown as { load: () => unknown }, 'load');
    const compare = async (
      limit: number,
      filter?: { documentIds?: string[]; metadata?: { part: number } },
    ) => {
      const query = [...unit(random, DIMENSION)];
      const options = { limit, ...(filter ? { filter } : {}) };
      const wanted = await writer.searchDense('t1', query, options);
      expectSameHits(await here.searchDense('t1', query, options), wanted);
      expectSameHits(await thread.searchDense('t1', query, options), wanted);
      return wanted;
    };
    try {
      expect(await compare(5)).toEqual([]);
      await writer.upsert('t1', points(random, 't1', 'doc-0', 40));
      await writer.upsert('t2', points(random, 't2', 'doc-0', 40));
      expect(await compare(10)).toHaveLength(10);
      loads.mockClear();
      // A new document, a re-written one, a deleted one: each followed through the change log.
      await writer.upsert('t1', points(random, 't1', 'doc-1', 30));
      expect(await compare(70)).toHaveLength(70);
      await writer.upsert('t1', points(random, 't1', 'doc-0', 40));
      expect(await compare(8)).toHaveLength(8);
      await writer.deleteDocument('t1', 'doc-0');
      expect(await compare(70)).toHaveLength(30);
      expect(await compare(5, { documentIds: ['doc-1'] })).toHaveLength(5);
      expect(await compare(50, { metadata: { part: 1 } })).toHaveLength(10);
      expect(await compare(5, { documentIds: ['doc-0'] })).toEqual([]);
      expect(loads).not.toHaveBeenCalled();
    } finally {
      loads.mockRestore();
    }
  });

  it('never takes a rowid another tenant reused for its own', async () => {
    const random = seededRandom(9);
    const writer = await open({ denseCacheBytes: 0 });
    for (const denseThreadMinChunks of [100_000, 0]) {
      const reader = await open({ denseThreadMinChunks });
      const query = [...unit(random, DIMENSION)];
      await writer.upsert('a', points(random, 'a', 'kept', 3));
      // The highest rowid: deleted below, then taken by the next insert, in another tenant.
      await writer.upsert('a', [{ ...points(random, 'a', 'last', 1)[0]!, vector: query }]);
      expect((await reader.searchDense('a', query, { limit: 5 }))[0]!.record.documentId).toBe('last');
      await writer.deleteDocument('a', 'last');
      await writer.upsert('b', [{ ...points(random, 'b', 'other', 1)[0]!, vector: query }]);
      // Three: the reused rowid neither answers nor takes a place.
      const hits = await reader.searchDense('a', query, { limit: 3 });
      expect(hits.map((hit) => `${hit.record.tenant}/${hit.record.documentId}`)).toEqual([
        'a/kept',
        'a/kept',
        'a/kept',
      ]);
      expectSameHits(hits, await writer.searchDense('a', query, { limit: 3 }));
      await writer.deleteDocument('a', 'kept');
      await writer.deleteDocument('b', 'other');
    }
  });

  it('orders ties by chunk id, whatever the limit, after the rows that score higher', async () => {
    const random = seededRandom(10);
    const store = await open({ denseThreadMinChunks: 100_000 });
    const same = [...unit(random, DIMENSION)];
    const copies = points(random, 't1', 'doc', 200).map((point) => ({ ...point, vector: same }));
    // Three rows closer to the query than the copies: the query is mostly their sum.
    const better = points(random, 't1', 'near', 3);
    await store.upsert('t1', [...copies, ...better]);
    const query = same.map(
      (value, i) => 0.3 * value + better[0]!.vector[i]! + better[1]!.vector[i]! + better[2]!.vector[i]!,
    );
    const all = await store.searchDense('t1', query, { limit: 203 });
    const near = all.slice(0, 3).map((hit) => hit.record.documentId);
    const tiedIds = all.slice(3).map((hit) => hit.record.id);
    expect(new Set(all.slice(3).map((hit) => hit.score)).size).toBe(1);
    expect(tiedIds).toEqual([...tiedIds].sort());
    for (const limit of [1, 3, 4, 7, 150]) {
      const hits = await store.searchDense('t1', query, { limit });
      expect(hits.map((hit) => hit.record.id)).toEqual(all.slice(0, limit).map((hit) => hit.record.id));
    }
    expect(near).toEqual(['near', 'near', 'near']);
  });

  it('follows the writes of a tenant that fills most of the budget without reading it again', async () => {
    const random = seededRandom(12);
    const writer = await open({ denseCacheBytes: 0 });
    await writer.upsert('t1', points(random, 't1', 'doc', 400));
    const budget = Math.ceil(TenantVectors.bytesFor(DIMENSION, TenantVectors.capacityFor(400)) * 1.2);
    const reader = await open({ denseCacheBytes: budget, denseThreadMinChunks: 100_000 });
    const loads = vi.spyOn(DenseVectors.prototype as unknown as { load: () => unknown }, 'load');
    try {
      for (let i = 0; i < 40; i++) {
        await writer.upsert('t1', points(random, 't1', `more-${i}`, 2));
        const query = [...unit(random, DIMENSION)];
        expectSameHits(
          await reader.searchDense('t1', query, { limit: 10 }),
          await writer.searchDense('t1', query, { limit: 10 }),
        );
        const cache = (reader as unknown as { denseVectors: DenseVectors }).denseVectors;
        expect(cache.bytes).toBeGreaterThan(0);
        expect(cache.bytes).toBeLessThanOrEqual(budget);
      }
      expect(loads).toHaveBeenCalledTimes(1);
    } finally {
      loads.mockRestore();
    }
  });

  it("reads a tenant from sqlite-vec's chunks as through vec0, holes of deleted rows included", async () => {
    const random = seededRandom(13);
    const writer = await open({ denseCacheBytes: 0, vectorChunkSize: 8 });
    for (let round = 0; round < 5; round++) {
      for (const tenant of ['t1', 't2', 't3'])
        await writer.upsert(tenant, points(random, tenant, `doc-${round}`, 7));
    }
    await writer.deleteDocument('t1', 'doc-1');
    await writer.deleteDocument('t2', 'doc-3');
    await writer.upsert('t1', points(random, 't1', 'doc-9', 3));
    const chunked = vi.spyOn(
      DenseVectors.prototype as unknown as { loadChunks: () => unknown },
      'loadChunks',
    );
    try {
      for (const fast of [true, false]) {
        if (!fast) chunked.mockReturnValue(undefined);
        chunked.mockClear();
        const reader = await open({ denseThreadMinChunks: 100_000 });
        for (const tenant of ['t1', 't2', 't3']) {
          const query = [...unit(random, DIMENSION)];
          const hits = await reader.searchDense(tenant, query, { limit: 40 });
          expectSameHits(hits, await writer.searchDense(tenant, query, { limit: 40 }));
          expect(hits).toHaveLength(tenant === 't1' ? 31 : tenant === 't2' ? 28 : 35);
        }
        expect(chunked).toHaveBeenCalledTimes(3);
        if (fast) for (const result of chunked.mock.results) expect(result.value).toBeDefined();
      }
    } finally {
      chunked.mockRestore();
    }
  });

  it('reads a tenant again when the change log no longer covers the gap', async () => {
    const random = seededRandom(4);
    const writer = await open({ denseCacheBytes: 0 });
    const reader = await open();
    const query = [...unit(random, DIMENSION)];
    await writer.upsert('t1', points(random, 't1', 'doc-0', 10));
    await reader.searchDense('t1', query, { limit: 3 });
    const loads = vi.spyOn(DenseVectors.prototype as unknown as { load: () => unknown }, 'load');
    try {
      // The log keeps the last 256 generations: 300 writes later the cache cannot follow.
      for (let i = 0; i < 300; i++) await writer.upsert('t1', points(random, 't1', `doc-${i % 20}`, 2));
      expectSameHits(
        await reader.searchDense('t1', query, { limit: 30 }),
        await writer.searchDense('t1', query, { limit: 30 }),
      );
      expect(loads).toHaveBeenCalledTimes(1);
    } finally {
      loads.mockRestore();
    }
  });

  it('leaves a tenant that does not fit the budget to sqlite-vec, and evicts the least recently searched', async () => {
    const random = seededRandom(8);
    const writer = await open({ denseCacheBytes: 0 });
    await writer.upsert('big', points(random, 'big', 'doc', 300));
    await writer.upsert('a', points(random, 'a', 'doc', 100));
    await writer.upsert('b', points(random, 'b', 'doc', 100));
    // Room for one tenant of 100 chunks, not for two, nor for the tenant of 300.
    const budget = Math.ceil(TenantVectors.bytesFor(DIMENSION, 100) * 1.5);
    const reader = await open({ denseCacheBytes: budget, denseThreadMinChunks: 100_000 });
    for (let round = 0; round < 3; round++) {
      for (const tenant of ['big', 'a', 'b']) {
        const query = [...unit(random, DIMENSION)];
        expectSameHits(
          await reader.searchDense(tenant, query, { limit: 20 }),
          await writer.searchDense(tenant, query, { limit: 20 }),
        );
      }
    }
    const cache = (reader as unknown as { denseVectors: DenseVectors }).denseVectors;
    expect(cache.bytes).toBeGreaterThan(0);
    expect(cache.bytes).toBeLessThanOrEqual(budget);
  });

  it("reads the rows of its hits by rowid, not through the tenant's index", async () => {
    const store = await open();
    const sql = (store as unknown as { denseRowsSql(): string }).denseRowsSql();
    const db = new Database(join(dir.path, 'store.db'), { readonly: true });
    try {
      const plan = db
        .prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .all('[1, 2]', 't1')
        .map((row) => (row as { detail: string }).detail);
      expect(plan[0]).toMatch(/USING INTEGER PRIMARY KEY \(rowid=\?\)/);
    } finally {
      db.close();
    }
  });

  it('refuses a denseCacheBytes that is not a non-negative integer', () => {
    for (const denseCacheBytes of [-1, 1.5, Number.NaN]) {
      expect(
        () => new SqliteVectorStore({ path: join(dir.path, 'x.db'), dimension: 8, denseCacheBytes }),
      ).toThrow(/denseCacheBytes/);
    }
  });
});
