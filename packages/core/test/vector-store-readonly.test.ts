/**
 * Stores opened read-only, as the gateway and the CLI open them: nothing is created, a store or
 * collection that does not exist yet reads as empty and becomes readable once a worker creates it,
 * reads match the writer's, and every write is refused. On SQLite and on the Qdrant test double.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, type QdrantDouble, startQdrantDouble, type TempDir } from '@quire/testkit';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../src/errors.js';
import { pointId } from '../src/vector-store/ids.js';
import { QdrantVectorStore } from '../src/vector-store/qdrant.js';
import { SqliteVectorStore } from '../src/vector-store/sqlite.js';
import type { ChunkPoint, VectorStore } from '../src/vector-store/types.js';

const DIMENSION = 8;

function point(documentId: string, chunkIndex: number, text: string, angle: number): ChunkPoint {
  const vector = new Array<number>(DIMENSION).fill(0);
  vector[0] = Math.cos(angle);
  vector[1] = Math.sin(angle);
  return {
    id: pointId('t1', documentId, 'v1', chunkIndex),
    tenant: 't1',
    documentId,
    version: 'v1',
    chunkIndex,
    chunkCount: 2,
    text,
    pageStart: 1,
    pageEnd: 1,
    headingPath: [],
    sourceName: `${documentId}.txt`,
    metadata: {},
    ingestedAt: '2026-01-01T00:00:00.000Z',
    vector,
  };
}

const POINTS = [
  point('harbour', 0, 'The harbour lamp flashes green every four seconds.', 0),
  point('harbour', 1, 'The ferry leaves at seven in the morning.', 0.4),
];

async function rejectsAsReadOnly(promise: Promise<unknown>): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StoreError);
  expect((error as StoreError).code).toBe('store_rejected');
  expect((error as StoreError).message).toMatch(/read-only/);
}

interface Pair {
  writer: () => VectorStore;
  reader: () => VectorStore;
  /** Whether the writer's store exists (file or collection). */
  exists: () => Promise<boolean>;
}

function describeReadOnly(name: string, setup: () => Promise<Pair>, teardown: () => Promise<void>): void {
  describe(`a read-only ${name} store`, () => {
    let pair: Pair;
    const opened: VectorStore[] = [];
    const open = (make: () => VectorStore) => {
      const store = make();
      opened.push(store);
      return store;
    };
    beforeEach(async () => {
      pair = await setup();
    });
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((store) => store.close()));
      await teardown();
    });

    it('creates nothing, reads as empty before a worker creates the store, then reads what it wrote', async () => {
      const reader = open(pair.reader);
      await reader.init();
      expect(await pair.exists()).toBe(false);
      expect(await reader.listDocuments('t1')).toEqual([]);
      expect(await reader.searchLexical('t1', 'harbour lamp', { limit: 5 })).toEqual([]);
      expect(await reader.searchDense('t1', POINTS[0]!.vector, { limit: 5 })).toEqual([]);
      expect(await reader.countChunks('t1', 'harbour', 'v1')).toBe(0);
      expect(await pair.exists()).toBe(false);

      const writer = open(pair.writer);
      await writer.init();
      await writer.upsert('t1', POINTS);
      // The same reader, opened before the store existed, now sees the worker's documents.
      expect(await reader.listDocuments('t1')).toEqual(await writer.listDocuments('t1'));
      expect(await reader.countChunks('t1', 'harbour', 'v1')).toBe(2);
      const lexical = await reader.searchLexical('t1', 'ferry morning', { limit: 5 });
      expect(lexical.map((hit) => hit.record.chunkIndex)).toEqual(
        (await writer.searchLexical('t1', 'ferry morning', { limit: 5 })).map((hit) => hit.record.chunkIndex),
      );
      expect(lexical[0]?.record.chunkIndex).toBe(1);
      const dense = await reader.searchDense('t1', POINTS[0]!.vector, { limit: 1 });
      expect(dense[0]?.record.chunkIndex).toBe(0);
    });

    it('refuses every write', async () => {
      const writer = open(pair.writer);
      await writer.init();
      await writer.upsert('t1', POINTS);
      const reader = open(pair.reader);
      await reader.init();
      await rejectsAsReadOnly(reader.upsert('t1', POINTS));
      await rejectsAsReadOnly(reader.deleteDocument('t1', 'harbour'));
      await rejectsAsReadOnly(reader.deleteVersion('t1', 'harbour', 'v1'));
      await rejectsAsReadOnly(reader.deleteOtherVersions('t1', 'harbour', 'v2'));
      expect(await writer.countChunks('t1', 'harbour', 'v1')).toBe(2);
    });
  });
}

let tmp: TempDir;
describeReadOnly(
  'SQLite',
  async () => {
    tmp = await makeTempDir('store-readonly');
    const path = join(tmp.path, 'data', 'vectors.db');
    return {
      writer: () => new SqliteVectorStore({ path, dimension: DIMENSION, collection: 'ro_test' }),
      reader: () =>
        new SqliteVectorStore({ path, dimension: DIMENSION, collection: 'ro_test', readOnly: true }),
      exists: async () => existsSync(path) || existsSync(join(tmp.path, 'data')),
    };
  },
  async () => {
    await tmp.cleanup();
  },
);

let double: QdrantDouble;
let collection = '';
let counter = 0;
beforeAll(async () => {
  double = await startQdrantDouble();
});
afterAll(async () => {
  await double?.close();
});
describeReadOnly(
  'Qdrant (test double)',
  async () => {
    collection = `ro_test_${++counter}`;
    const options = { url: double.url, collection, dimension: DIMENSION, checkCompatibility: false };
    return {
      writer: () => new QdrantVectorStore(options),
      reader: () => new QdrantVectorStore({ ...options, readOnly: true }),
      exists: async () => {
        const response = await fetch(`${double.url}/collections/${collection}/exists`);
        return ((await response.json()) as { result: { exists: boolean } }).result.exists;
      },
    };
  },
  async () => {
    await fetch(`${double.url}/collections/${collection}`, { method: 'DELETE' });
  },
);
