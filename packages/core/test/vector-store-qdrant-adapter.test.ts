/**
 * What the Qdrant adapter sends and how it reads failures, checked against the test double's
 * recorded requests and injected faults.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Logger } from '@quire/api-client';
import { type QdrantDouble, type QdrantDoubleRequest, startQdrantDouble } from '@quire/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StoreError } from '../src/errors.js';
import { pointId } from '../src/vector-store/ids.js';
import { sparseVector } from '../src/vector-store/lexical.js';
import {
  QDRANT_CLIENT_VERSION,
  QdrantVectorStore,
  type QdrantVectorStoreOptions,
  qdrantCollectionName,
} from '../src/vector-store/qdrant.js';
import { guardStore } from '../src/vector-store/tenant-guard.js';
import type { ChunkPoint } from '../src/vector-store/types.js';

const DIMENSION = 4;

let double: QdrantDouble;
const stores: QdrantVectorStore[] = [];

beforeAll(async () => {
  double = await startQdrantDouble();
});

afterEach(async () => {
  double.clearFaults();
  double.stats.reset();
  await Promise.all(stores.splice(0).map((store) => store.close()));
});

afterAll(async () => {
  await double.close();
});

function makeStore(options: Partial<QdrantVectorStoreOptions> = {}): QdrantVectorStore {
  const store = new QdrantVectorStore({
    url: double.url,
    collection: `quire_adapter_${randomUUID().slice(0, 8)}`,
    dimension: DIMENSION,
    timeoutMs: 5_000,
    checkCompatibility: false,
    ...options,
  });
  stores.push(store);
  return store;
}

function chunk(
  tenant: string,
  documentId: string,
  index: number,
  overrides: Partial<ChunkPoint> = {},
): ChunkPoint {
  return {
    id: pointId(tenant, documentId, 'v1', index),
    tenant,
    documentId,
    version: 'v1',
    chunkIndex: index,
    chunkCount: 1,
    text: `text of chunk ${index}`,
    pageStart: 1,
    pageEnd: 2,
    headingPath: ['Intro'],
    sourceName: `${documentId}.pdf`,
    metadata: { lang: 'en' },
    ingestedAt: '2024-05-01T10:00:00.000Z',
    vector: [1, 0.5 * index, 0, 0],
    ...overrides,
  };
}

function bodyOf<T>(request: QdrantDoubleRequest | undefined): T {
  if (request === undefined) throw new Error('the request was not made');
  return request.body as T;
}

function requestsTo(method: string, suffix: string): QdrantDoubleRequest[] {
  return double.stats.requests.filter((r) => r.method === method && r.path.endsWith(suffix));
}

async function failure(promise: Promise<unknown>): Promise<StoreError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(StoreError);
  return error as StoreError;
}

function captureLogger(): Logger & { warnings: { obj: object; msg: string | undefined }[] } {
  const warnings: { obj: object; msg: string | undefined }[] = [];
  const ignore = () => {};
  return {
    warnings,
    debug: ignore,
    info: ignore,
    error: ignore,
    warn: (obj, msg) => {
      warnings.push({ obj, msg });
    },
  };
}

describe('init', () => {
  it('creates the collection with a named dense vector, an IDF sparse vector and the payload indexes', async () => {
    const store = makeStore();
    await store.init();
    const [create] = requestsTo('PUT', `/collections/${store.collection}`);
    expect(create?.body).toEqual({
      vectors: { dense: { size: DIMENSION, distance: 'Cosine' } },
      sparse_vectors: { lexical: { modifier: 'idf' } },
    });
    const indexes = requestsTo('PUT', '/index');
    expect(indexes.map((r) => r.body)).toEqual([
      { field_name: 'tenant', field_schema: { type: 'keyword', is_tenant: true } },
      { field_name: 'document_id', field_schema: 'keyword' },
      { field_name: 'version', field_schema: 'keyword' },
      { field_name: 'source_name', field_schema: 'keyword' },
    ]);
    expect(indexes.every((r) => r.query.wait === 'true')).toBe(true);

    const info = (await (await fetch(`${double.url}/collections/${store.collection}`)).json()) as {
      result: { payload_schema: Record<string, { data_type: string; params?: { is_tenant?: boolean } }> };
    };
    expect(info.result.payload_schema.tenant).toMatchObject({
      data_type: 'keyword',
      params: { type: 'keyword', is_tenant: true },
    });
  });

  it('is idempotent: a second init creates nothing', async () => {
    const store = makeStore();
    await store.init();
    double.stats.reset();
    await store.init();
    expect(double.stats.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET /collections/${store.collection}/exists`,
      `GET /collections/${store.collection}`,
    ]);
  });

  it('adds a tenant index to a collection whose tenant index lacks is_tenant', async () => {
    const store = makeStore();
    await store.init();
    await fetch(`${double.url}/collections/${store.collection}/index`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ field_name: 'tenant', field_schema: 'keyword' }),
    });
    double.stats.reset();
    await store.init();
    expect(requestsTo('PUT', '/index').map((r) => r.body)).toEqual([
      { field_name: 'tenant', field_schema: { type: 'keyword', is_tenant: true } },
    ]);
  });

  it('refuses an existing collection of another dimension, naming both', async () => {
    const first = makeStore({ dimension: 8 });
    await first.init();
    const second = makeStore({ dimension: 4, collection: first.collection });
    const error = await failure(second.init());
    expect(error.code).toBe('store_rejected');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('8-dimensional');
    expect(error.message).toContain('configured for 4');
    expect(error.details).toMatchObject({ collectionDimension: 8, dimension: 4 });
    expect(requestsTo('PUT', '/index').length).toBe(4);
  });

  it('refuses a URL without http:// or https:// where the store is made, without repeating it', () => {
    for (const url of ['localhost:6333', 'ftp://user:secret@qdrant:6333', 'https://user:secret@']) {
      let error: unknown;
      try {
        makeStore({ url });
      } catch (caught) {
        error = caught;
      }
      expect(error, url).toBeInstanceOf(StoreError);
      expect((error as StoreError).code).toBe('store_rejected');
      expect((error as StoreError).message).not.toContain('secret');
    }
  });

  it('refuses a collection that was not made by Quire', async () => {
    const store = makeStore();
    await fetch(`${double.url}/collections/${store.collection}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ vectors: { size: DIMENSION, distance: 'Cosine' } }),
    });
    const error = await failure(store.init());
    expect(error.code).toBe('store_rejected');
    expect(error.message).toContain('no dense vector named "dense"');
  });

  it('goes on when another worker creates the collection between the check and the create', async () => {
    const winner = makeStore();
    await winner.init();
    const loser = makeStore({ collection: winner.collection });
    // The loser's existence check sees the world as it was before the winner's create.
    double.injectFault({
      method: 'GET',
      path: `/collections/${winner.collection}/exists`,
      times: 1,
      action: { kind: 'respond', status: 200, body: { result: { exists: false }, status: 'ok', time: 0 } },
    });
    double.stats.reset();
    await loser.init();
    expect(requestsTo('PUT', `/collections/${winner.collection}`).map((r) => r.status)).toEqual([409]);
    await loser.upsert('t1', [chunk('t1', 'doc', 0)]);
    expect(await loser.countChunks('t1', 'doc', 'v1')).toBe(1);
  });
});

describe('writes', () => {
  it('splits an upsert into batches of upsertBatchSize, each waiting for the write', async () => {
    const store = makeStore({ upsertBatchSize: 4 });
    await store.init();
    double.stats.reset();
    const points = Array.from({ length: 10 }, (_, i) => chunk('t1', 'doc', i, { chunkCount: 10 }));
    await store.upsert('t1', points);
    const upserts = requestsTo('PUT', '/points');
    expect(upserts.map((r) => (r.body as { points: unknown[] }).points.length)).toEqual([4, 4, 2]);
    expect(upserts.every((r) => r.query.wait === 'true')).toBe(true);
    expect(await store.countChunks('t1', 'doc', 'v1')).toBe(10);
  });

  it('sends snake_case payloads with a dense and a lexical vector', async () => {
    const store = makeStore();
    await store.init();
    double.stats.reset();
    const point = chunk('t1', 'doc', 0, {
      chunkCount: 2,
      text: 'Harbour cranes, harbour walls',
      metadata: { lang: 'en', n: 2 },
    });
    const silent = chunk('t1', 'doc', 1, { chunkCount: 2, text: '!!! ...' });
    await store.upsert('t1', [point, silent]);
    const [request] = requestsTo('PUT', '/points');
    const [sent, sentSilent] = bodyOf<{ points: Record<string, unknown>[] }>(request).points;
    expect(sent).toEqual({
      id: point.id,
      vector: { dense: point.vector, lexical: sparseVector(point.text) },
      payload: {
        tenant: 't1',
        document_id: 'doc',
        version: 'v1',
        chunk_index: 0,
        chunk_count: 2,
        text: point.text,
        page_start: 1,
        page_end: 2,
        heading_path: ['Intro'],
        source_name: 'doc.pdf',
        metadata: { lang: 'en', n: 2 },
        ingested_at: '2024-05-01T10:00:00.000Z',
      },
    });
    // A text without tokens gets no sparse vector rather than an empty one.
    expect(sentSilent?.vector).toEqual({ dense: silent.vector });
  });

  it('rejects a point whose id is not its pointId before sending anything (through the tenant guard)', async () => {
    const store = guardStore(makeStore());
    await store.init();
    double.stats.reset();
    const error = await failure(store.upsert('t1', [chunk('t1', 'doc', 0, { id: 'chunk-0' })]));
    expect(error.code).toBe('store_rejected');
    expect(double.stats.requests).toEqual([]);
  });

  it('deletes by filter with the tenant, the document and, for other versions, must_not the kept one', async () => {
    const store = makeStore();
    await store.init();
    double.stats.reset();
    await store.deleteDocument('t1', 'doc');
    await store.deleteOtherVersions('t1', 'doc', 'v2');
    const deletes = requestsTo('POST', '/points/delete');
    expect(deletes.map((r) => r.query.wait)).toEqual(['true', 'true']);
    expect(deletes.map((r) => r.body)).toEqual([
      {
        filter: {
          must: [
            { key: 'tenant', match: { value: 't1' } },
            { key: 'document_id', match: { value: 'doc' } },
          ],
        },
      },
      {
        filter: {
          must: [
            { key: 'tenant', match: { value: 't1' } },
            { key: 'document_id', match: { value: 'doc' } },
          ],
          must_not: [{ key: 'version', match: { value: 'v2' } }],
        },
      },
    ]);
  });
});

describe('reads', () => {
  it('puts a tenant condition first in every read', async () => {
    const store = makeStore();
    await store.init();
    await store.upsert('t1', [chunk('t1', 'doc', 0)]);
    double.stats.reset();
    await store.searchDense('t1', [1, 0, 0, 0], { limit: 3, filter: { metadata: { lang: 'en' } } });
    await store.searchLexical('t1', 'chunk', { limit: 3 });
    await store.countChunks('t1', 'doc', 'v1');
    await store.listChunks('t1');
    await store.listDocuments('t1');
    const reads = double.stats.requests;
    expect(reads.map((r) => r.path.split('/').at(-1))).toEqual([
      'query',
      'query',
      'count',
      'scroll',
      'scroll',
    ]);
    for (const read of reads) {
      const filter = (read.body as { filter: { must: unknown[] } }).filter;
      expect(filter.must[0]).toEqual({ key: 'tenant', match: { value: 't1' } });
    }
  });

  it('queries the named vectors through the Query API', async () => {
    const store = makeStore();
    await store.init();
    double.stats.reset();
    await store.searchDense('t1', [1, 0, 0, 0], { limit: 3 });
    await store.searchLexical('t1', 'harbour cranes', { limit: 5 });
    const [dense, lexical] = requestsTo('POST', '/points/query').map((r) => r.body);
    expect(dense).toMatchObject({ query: [1, 0, 0, 0], using: 'dense', limit: 3, with_payload: true });
    expect(lexical).toMatchObject({ query: sparseVector('harbour cranes'), using: 'lexical', limit: 5 });
  });

  it('filters metadata by exact value, fractional numbers by a closed range, and quotes odd keys', async () => {
    const store = makeStore();
    await store.init();
    await store.upsert('t1', [
      chunk('t1', 'a', 0, { metadata: { 'dotted.key': 'x', ratio: 0.25, 'with space': true } }),
      chunk('t1', 'b', 0, { metadata: { 'dotted.key': 'y', ratio: 0.5 } }),
    ]);
    double.stats.reset();
    const hits = await store.searchDense('t1', [1, 0, 0, 0], {
      limit: 5,
      filter: { metadata: { 'dotted.key': 'x', ratio: 0.25, 'with space': true } },
    });
    expect(hits.map((h) => h.record.documentId)).toEqual(['a']);
    const [request] = requestsTo('POST', '/points/query');
    expect(bodyOf<{ filter: { must: unknown[] } }>(request).filter.must.slice(1)).toEqual([
      { key: 'metadata."dotted.key"', match: { value: 'x' } },
      { key: 'metadata.ratio', range: { gte: 0.25, lte: 0.25 } },
      { key: 'metadata."with space"', match: { value: true } },
    ]);
    const error = await failure(
      store.searchDense('t1', [1, 0, 0, 0], { limit: 5, filter: { metadata: { 'say "hi"': 'x' } } }),
    );
    expect(error.code).toBe('store_rejected');
  });

  it('pages through scroll results with next_page_offset', async () => {
    const store = makeStore({ scrollPageSize: 3 });
    await store.init();
    await store.upsert(
      't1',
      Array.from({ length: 10 }, (_, i) => chunk('t1', 'doc', i, { chunkCount: 10 })),
    );
    double.stats.reset();
    const chunks = await store.listChunks('t1');
    expect(chunks.map((c) => c.chunkIndex)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const scrolls = requestsTo('POST', '/points/scroll');
    expect(scrolls).toHaveLength(4);
    expect(bodyOf<{ offset?: unknown }>(scrolls[0]).offset).toBeUndefined();
    expect(scrolls.slice(1).every((r) => typeof (r.body as { offset?: unknown }).offset === 'string')).toBe(
      true,
    );
  });

  it('orders document ids by code point, not by UTF-16 unit', async () => {
    const store = makeStore();
    await store.init();
    // U+FFFF is below U+1F600 by code point, above its leading surrogate (U+D83D) by UTF-16 unit.
    await store.upsert('t1', [
      chunk('t1', 'a\u{1F600}', 0),
      chunk('t1', 'a\u{FFFF}', 0),
      chunk('t1', 'a', 0),
    ]);
    const expected = ['a', 'a\u{FFFF}', 'a\u{1F600}'];
    expect((await store.listChunks('t1')).map((c) => c.documentId)).toEqual(expected);
    expect((await store.listDocuments('t1')).map((d) => d.documentId)).toEqual(expected);
  });

  it('refuses a stored point that is not a Quire chunk', async () => {
    const store = makeStore();
    await store.init();
    await fetch(`${double.url}/collections/${store.collection}/points?wait=true`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        points: [
          { id: randomUUID(), vector: { dense: [1, 0, 0, 0] }, payload: { tenant: 't1', text: 'stray' } },
        ],
      }),
    });
    const error = await failure(store.listChunks('t1'));
    expect(error.code).toBe('store_rejected');
    expect(error.message).toContain('is not a Quire chunk');
  });
});

describe('failures', () => {
  it('maps 503 to a retryable store_unavailable keeping Retry-After', async () => {
    const store = makeStore();
    await store.init();
    double.injectFault({
      path: /\/points\/query$/,
      action: {
        kind: 'status',
        status: 503,
        message: 'Service unavailable: shard busy',
        headers: { 'retry-after': '7' },
      },
    });
    const error = await failure(store.searchDense('t1', [1, 0, 0, 0], { limit: 1 }));
    expect(error.code).toBe('store_unavailable');
    expect(error.retryable).toBe(true);
    expect(error.details).toMatchObject({ status: 503, retryAfterMs: 7000, operation: 'dense search' });
    expect(error.message).toContain('shard busy');
  });

  it('maps 429 to a retryable store_unavailable with the retry delay', async () => {
    const store = makeStore();
    await store.init();
    double.injectFault({
      path: /\/points$/,
      action: {
        kind: 'status',
        status: 429,
        message: 'Rate limiting exceeded',
        headers: { 'retry-after': '3' },
      },
    });
    const error = await failure(store.upsert('t1', [chunk('t1', 'doc', 0)]));
    expect(error.code).toBe('store_unavailable');
    expect(error.retryable).toBe(true);
    expect(error.details).toMatchObject({ status: 429, retryAfterMs: 3000 });
  });

  it('maps 408 (Qdrant gave up on the operation) to retryable', async () => {
    const store = makeStore();
    await store.init();
    double.injectFault({
      path: /\/points\/count$/,
      action: { kind: 'status', status: 408, message: 'Timeout' },
    });
    const error = await failure(store.countChunks('t1', 'doc', 'v1'));
    expect(error.code).toBe('store_unavailable');
    expect(error.retryable).toBe(true);
  });

  it('maps 400 to a permanent store_rejected with Qdrant’s message', async () => {
    const store = makeStore();
    await store.init();
    double.injectFault({
      path: /\/points\/scroll$/,
      action: { kind: 'status', status: 400, message: 'Bad request: something is off' },
    });
    const error = await failure(store.listChunks('t1'));
    expect(error.code).toBe('store_rejected');
    expect(error.retryable).toBe(false);
    expect(error.details).toMatchObject({ status: 400 });
    expect(error.message).toContain('something is off');
  });

  it('times out a hung request as a retryable store_unavailable', async () => {
    const store = makeStore({ timeoutMs: 150 });
    await store.init();
    double.injectFault({ path: /\/points\/query$/, action: { kind: 'hang' } });
    const error = await failure(store.searchLexical('t1', 'anything', { limit: 1 }));
    expect(error.code).toBe('store_unavailable');
    expect(error.retryable).toBe(true);
    expect(error.details).toMatchObject({ timeoutMs: 150 });
  });

  it('rejects with the caller’s reason when the caller aborts a request in flight', async () => {
    const store = makeStore();
    await store.init();
    double.injectFault({ path: /\/points\/query$/, action: { kind: 'hang' } });
    const controller = new AbortController();
    const reason = new Error('job cancelled');
    const pending = store.searchDense('t1', [1, 0, 0, 0], { limit: 1, signal: controller.signal });
    await expect.poll(() => requestsTo('POST', '/points/query').length).toBe(1);
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });

  it('maps a dropped connection and a refused one to retryable store_unavailable', async () => {
    const store = makeStore();
    await store.init();
    double.injectFault({ path: /\/points\/count$/, action: { kind: 'reset' } });
    const dropped = await failure(store.countChunks('t1', 'doc', 'v1'));
    expect(dropped.code).toBe('store_unavailable');
    expect(dropped.retryable).toBe(true);

    const gone = await startQdrantDouble();
    const url = gone.url;
    await gone.close();
    const orphan = makeStore({ url });
    const refused = await failure(orphan.init());
    expect(refused.code).toBe('store_unavailable');
    expect(refused.retryable).toBe(true);
    expect(refused.details).toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('sends the api key, and never puts it in an error', async () => {
    const guarded = await startQdrantDouble({ apiKey: 'right-key-8f3a' });
    try {
      const wrong = makeStore({ url: guarded.url, apiKey: 'wrong-key-5c1d' });
      const error = await failure(wrong.init());
      expect(error.code).toBe('store_rejected');
      expect(error.details).toMatchObject({ status: 401 });
      expect(JSON.stringify({ message: error.message, details: error.details })).not.toContain(
        'wrong-key-5c1d',
      );
      const right = makeStore({ url: guarded.url, apiKey: 'right-key-8f3a' });
      await right.init();
      await right.upsert('t1', [chunk('t1', 'doc', 0)]);
      expect(await right.countChunks('t1', 'doc', 'v1')).toBe(1);
    } finally {
      await guarded.close();
    }
  });

  it('is unusable after close', async () => {
    const store = makeStore();
    await store.init();
    await store.close();
    await store.close();
    const error = await failure(store.countChunks('t1', 'doc', 'v1'));
    expect(error.code).toBe('store_rejected');
  });
});

describe('server version check', () => {
  it('warns through the logger when the server is too far from the client', async () => {
    const old = await startQdrantDouble({ version: '1.9.2' });
    try {
      const logger = captureLogger();
      const store = makeStore({ url: old.url, checkCompatibility: true, logger });
      await store.init();
      await store.init();
      expect(logger.warnings).toHaveLength(1);
      expect(logger.warnings[0]?.obj).toEqual({
        serverVersion: '1.9.2',
        clientVersion: QDRANT_CLIENT_VERSION,
      });
      expect(old.stats.requests.filter((r) => r.path === '/')).toHaveLength(1);
    } finally {
      await old.close();
    }
  });

  it('stays quiet for a compatible server, and asks nothing when the check is off', async () => {
    const logger = captureLogger();
    await makeStore({ checkCompatibility: true, logger }).init();
    expect(logger.warnings).toEqual([]);
    expect(double.stats.requests.filter((r) => r.path === '/')).toHaveLength(1);
    double.stats.reset();
    await makeStore({ checkCompatibility: false, logger }).init();
    expect(double.stats.requests.filter((r) => r.path === '/')).toHaveLength(0);
  });

  it('names the client version actually installed', async () => {
    const manifest = JSON.parse(
      await readFile(new URL('../node_modules/@qdrant/js-client-rest/package.json', import.meta.url), 'utf8'),
    ) as { version: string };
    expect(QDRANT_CLIENT_VERSION).toBe(manifest.version);
  });
});

describe('qdrantCollectionName', () => {
  it('keeps clean model names readable', () => {
    expect(qdrantCollectionName('text-embedding-3-small', 1536)).toBe('quire_text-embedding-3-small_1536');
  });

  it('sanitises other names and adds a hash so that different models never collide', () => {
    const a = qdrantCollectionName('BAAI/bge-small-en-v1.5', 384);
    const b = qdrantCollectionName('baai/bge-small-en-v1.5', 384);
    expect(a).toMatch(/^quire_baai_bge-small-en-v1_5_384_[0-9a-f]{8}$/);
    expect(b).toMatch(/^quire_baai_bge-small-en-v1_5_384_[0-9a-f]{8}$/);
    expect(a).not.toBe(b);
  });

  it('refuses an empty model or a bad dimension', () => {
    expect(() => qdrantCollectionName('', 8)).toThrow(StoreError);
    expect(() => qdrantCollectionName('m', 0)).toThrow(StoreError);
  });
});
