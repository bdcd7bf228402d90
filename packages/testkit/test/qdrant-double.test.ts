/**
 * The Qdrant double's HTTP behaviour, request by request, against what Qdrant documents (see
 * packages/core/src/vector-store/QDRANT.md for the list of behaviours and their sources).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type QdrantDouble, qdrantIdf, startQdrantDouble } from '../src/qdrant-double/index.js';

let double: QdrantDouble;
let counter = 0;

beforeAll(async () => {
  double = await startQdrantDouble();
});

afterEach(() => {
  double.clearFaults();
  double.stats.reset();
});

afterAll(async () => {
  await double.close();
});

interface Answer {
  status: number;
  body: unknown;
  headers: Headers;
}

async function call(method: string, path: string, body?: unknown, base = double.url): Promise<Answer> {
  const response = await fetch(`${base}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : {
          body: typeof body === 'string' ? body : JSON.stringify(body),
          headers: { 'content-type': 'application/json' },
        }),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    // plain-text answers stay text
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

function result<T>(answer: Answer): T {
  expect(answer.status).toBe(200);
  expect(answer.body).toMatchObject({ status: 'ok' });
  expect(typeof (answer.body as { time: unknown }).time).toBe('number');
  return (answer.body as { result: T }).result;
}

function errorOf(answer: Answer): string {
  const body = answer.body as { status: { error: string } };
  expect(typeof body.status.error).toBe('string');
  return body.status.error;
}

async function newCollection(
  config: unknown = {
    vectors: { dense: { size: 3, distance: 'Cosine' } },
    sparse_vectors: { lexical: { modifier: 'idf' } },
  },
): Promise<string> {
  counter += 1;
  const name = `c${counter}`;
  expect(result(await call('PUT', `/collections/${name}`, config))).toBe(true);
  return name;
}

const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

describe('service', () => {
  it('answers GET / with the bare version info', async () => {
    const answer = await call('GET', '/');
    expect(answer.body).toEqual({ title: 'qdrant - vector search engine', version: '1.18.0' });
  });

  it('answers an unknown route with a bare 404 and bad JSON with a 400', async () => {
    const unknown = await call('GET', '/nowhere');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toBeUndefined();
    const name = await newCollection();
    const bad = await call('POST', `/collections/${name}/points/count`, '{"filter": ');
    expect(bad.status).toBe(400);
    expect(errorOf(bad)).toContain('Format error in JSON body');
  });

  it('refuses fields it does not implement, naming them', async () => {
    const name = await newCollection();
    const answer = await call('POST', `/collections/${name}/points/scroll`, { order_by: 'timestamp' });
    expect(answer.status).toBe(400);
    expect(errorOf(answer)).toContain('order_by');
  });

  it('refuses a body over its size limit', async () => {
    const small = await startQdrantDouble({ maxBodyBytes: 64 });
    try {
      const answer = await call(
        'PUT',
        '/collections/big',
        { vectors: { dense: { size: 3, distance: 'Cosine' } }, padding: 'x'.repeat(100) },
        small.url,
      );
      expect(answer.status).toBe(413);
    } finally {
      await small.close();
    }
  });

  it('requires the api key when configured, with a plain-text 401', async () => {
    const guarded = await startQdrantDouble({ apiKey: 'k-123' });
    try {
      const denied = await call('GET', '/collections/x/exists', undefined, guarded.url);
      expect(denied.status).toBe(401);
      expect(typeof denied.body).toBe('string');
      const allowed = await fetch(`${guarded.url}/collections/x/exists`, { headers: { 'api-key': 'k-123' } });
      expect(allowed.status).toBe(200);
    } finally {
      await guarded.close();
    }
  });
});

describe('collections', () => {
  it('creates, reports, refuses a duplicate and answers 404 for a missing one', async () => {
    expect(result(await call('GET', '/collections/fresh/exists'))).toEqual({ exists: false });
    const name = await newCollection();
    expect(result(await call('GET', `/collections/${name}/exists`))).toEqual({ exists: true });
    const duplicate = await call('PUT', `/collections/${name}`, { vectors: { size: 3, distance: 'Cosine' } });
    expect(duplicate.status).toBe(409);
    expect(errorOf(duplicate)).toContain('already exists');
    const missing = await call('GET', '/collections/never-made');
    expect(missing.status).toBe(404);
    expect(errorOf(missing)).toBe("Not found: Collection `never-made` doesn't exist!");
    expect((await call('POST', '/collections/never-made/points/count', {})).status).toBe(404);
  });

  it('describes vectors, sparse vectors and payload indexes', async () => {
    const name = await newCollection();
    const index = await call('PUT', `/collections/${name}/index?wait=true`, {
      field_name: 'tenant',
      field_schema: { type: 'keyword', is_tenant: true },
    });
    expect(result(index)).toMatchObject({ status: 'completed' });
    await call('PUT', `/collections/${name}/index`, { field_name: 'version', field_schema: 'keyword' });
    await call('PUT', `/collections/${name}/points?wait=true`, {
      points: [{ id: 1, vector: { dense: [1, 0, 0] }, payload: { tenant: 'a' } }],
    });
    const info = result<{
      points_count: number;
      config: { params: { vectors: unknown; sparse_vectors: unknown } };
      payload_schema: unknown;
    }>(await call('GET', `/collections/${name}`));
    expect(info.points_count).toBe(1);
    expect(info.config.params.vectors).toEqual({ dense: { size: 3, distance: 'Cosine' } });
    expect(info.config.params.sparse_vectors).toEqual({ lexical: { modifier: 'idf' } });
    expect(info.payload_schema).toEqual({
      tenant: { data_type: 'keyword', params: { type: 'keyword', is_tenant: true }, points: 1 },
      version: { data_type: 'keyword', points: 0 },
    });
  });

  it('reports the unnamed vector form as Qdrant does', async () => {
    const name = await newCollection({ vectors: { size: 2, distance: 'Dot' } });
    const info = result<{ config: { params: { vectors: unknown } } }>(
      await call('GET', `/collections/${name}`),
    );
    expect(info.config.params.vectors).toEqual({ size: 2, distance: 'Dot' });
  });

  it('refuses a name Qdrant refuses', async () => {
    const answer = await call('PUT', `/collections/${encodeURIComponent('a:b')}`, {
      vectors: { size: 2, distance: 'Dot' },
    });
    expect(answer.status).toBe(400);
  });
});

describe('points', () => {
  it('normalises point ids to lower-case hyphenated UUIDs and refuses other strings', async () => {
    const name = await newCollection();
    await call('PUT', `/collections/${name}/points?wait=true`, {
      points: [
        { id: '936DA01F9ABD4d9d80C702AF85C822A8', vector: { dense: [1, 0, 0] } },
        { id: 'urn:uuid:F9168C5E-CEB2-4faa-B6BF-329BF39FA1E4', vector: { dense: [1, 0, 0] } },
      ],
    });
    const page = result<{ points: { id: unknown }[] }>(
      await call('POST', `/collections/${name}/points/scroll`, {}),
    );
    expect(page.points.map((p) => p.id)).toEqual([
      '936da01f-9abd-4d9d-80c7-02af85c822a8',
      'f9168c5e-ceb2-4faa-b6bf-329bf39fa1e4',
    ]);
    const bad = await call('PUT', `/collections/${name}/points`, {
      points: [{ id: 'chunk-1', vector: { dense: [1, 0, 0] } }],
    });
    expect(bad.status).toBe(400);
  });

  it('refuses a wrong dimension or vector name and then writes nothing of the batch', async () => {
    const name = await newCollection();
    const wrong = await call('PUT', `/collections/${name}/points?wait=true`, {
      points: [
        { id: 1, vector: { dense: [1, 0, 0] } },
        { id: 2, vector: { dense: [1, 0] } },
      ],
    });
    expect(wrong.status).toBe(400);
    expect(errorOf(wrong)).toBe('Wrong input: Vector dimension error: expected dim: 3, got 2');
    const unknown = await call('PUT', `/collections/${name}/points`, {
      points: [{ id: 3, vector: { image: [1] } }],
    });
    expect(errorOf(unknown)).toContain('Not existing vector name');
    const duplicateIndex = await call('PUT', `/collections/${name}/points`, {
      points: [{ id: 4, vector: { lexical: { indices: [5, 5], values: [1, 1] } } }],
    });
    expect(duplicateIndex.status).toBe(400);
    expect(result(await call('POST', `/collections/${name}/points/count`, {}))).toEqual({ count: 0 });
  });

  it('reports `completed` with wait=true and `acknowledged` without, applying both at once', async () => {
    const name = await newCollection();
    const waited = await call('PUT', `/collections/${name}/points?wait=true`, {
      points: [{ id: 1, vector: { dense: [1, 0, 0] } }],
    });
    expect(result(waited)).toMatchObject({ status: 'completed' });
    const unwaited = await call('PUT', `/collections/${name}/points`, {
      points: [{ id: 2, vector: { dense: [1, 0, 0] } }],
    });
    expect(result(unwaited)).toMatchObject({ status: 'acknowledged' });
    expect(result(await call('POST', `/collections/${name}/points/count`, { exact: true }))).toEqual({
      count: 2,
    });
  });

  it('replaces a point on upsert: the old payload does not survive', async () => {
    const name = await newCollection();
    await call('PUT', `/collections/${name}/points?wait=true`, {
      points: [{ id: 7, vector: { dense: [1, 0, 0] }, payload: { a: 1, b: 2 } }],
    });
    await call('PUT', `/collections/${name}/points?wait=true`, {
      points: [{ id: 7, vector: { dense: [0, 1, 0] }, payload: { c: 3 } }],
    });
    const page = result<{ points: unknown[] }>(
      await call('POST', `/collections/${name}/points/scroll`, { with_vector: true }),
    );
    expect(page.points).toEqual([{ id: 7, payload: { c: 3 }, vector: { dense: [0, 1, 0] } }]);
  });

  it('deletes by ids and by filter', async () => {
    const name = await newCollection();
    await call('PUT', `/collections/${name}/points?wait=true`, {
      points: [1, 2, 3, 4].map((id) => ({
        id,
        vector: { dense: [1, 0, 0] },
        payload: { even: id % 2 === 0 },
      })),
    });
    result(await call('POST', `/collections/${name}/points/delete?wait=true`, { points: [1] }));
    result(
      await call('POST', `/collections/${name}/points/delete?wait=true`, {
        filter: { must: [{ key: 'even', match: { value: true } }] },
      }),
    );
    const page = result<{ points: { id: number }[] }>(
      await call('POST', `/collections/${name}/points/scroll`, {}),
    );
    expect(page.points.map((p) => p.id)).toEqual([3]);
  });
});

describe('dense query', () => {
  it('normalises Cosine vectors at insert and scores by cosine similarity', async () => {
    const name = await newCollection();
    await call('PUT', `/collections/${name}/points?wait=true`, {
      points: [
        { id: 1, vector: { dense: [3, 4, 0] } },
        { id: 2, vector: { dense: [0, 0, 10] } },
        { id: 3, vector: { dense: [-1, 0, 0] } },
      ],
    });
    const stored = result<{ points: { vector: { dense: number[] } }[] }>(
      await call('POST', `/collections/${name}/points/scroll`, { with_vector: true, limit: 1 }),
    );
    expect(stored.points[0]?.vector.dense).toEqual([0.6, 0.8, 0]);
    const hits = result<{ points: { id: number; score: number }[] }>(
      await call('POST', `/collections/${name}/points/query`, { query: [2, 0, 0], using: 'dense' }),
    );
    expect(hits.points.map((p) => p.id)).toEqual([1, 2, 3]);
    expect(hits.points[0]?.score).toBeCloseTo(0.6, 10);
    expect(hits.points[1]?.score).toBeCloseTo(0, 10);
    expect(hits.points[2]?.score).toBeCloseTo(-1, 10);
  });

  it('breaks score ties by id, honours limit, offset and with_payload, and accepts `nearest`', async () => {
    const name = await newCollection();
    await call('PUT', `/collections/${name}/points?wait=true`, {
      points: [5, 3, 9, 1].map((id) => ({ id, vector: { dense: [1, 0, 0] }, payload: { id } })),
    });
    const page = result<{ points: { id: number; payload?: unknown; version: number }[] }>(
      await call('POST', `/collections/${name}/points/query`, {
        query: { nearest: [1, 0, 0] },
        using: 'dense',
        limit: 2,
        offset: 1,
      }),
    );
    expect(page.points.map((p) => p.id)).toEqual([3, 5]);
    expect(page.points[0]?.payload).toBeUndefined();
    expect(typeof page.points[0]?.version).toBe('number');
    const withPayload = result<{ points: { payload: unknown }[] }>(
      await call('POST', `/collections/${name}/points/query`, {
        query: [1, 0, 0],
        using: 'dense',
        limit: 1,
        with_payload: true,
      }),
    );
    expect(withPayload.points[0]?.payload).toEqual({ id: 1 });
  });

  it('refuses a query of the wrong dimension, a missing vector name and a sparse query on a dense vector', async () => {
    const name = await newCollection();
    const wrong = await call('POST', `/collections/${name}/points/query`, { query: [1, 0], using: 'dense' });
    expect(errorOf(wrong)).toBe('Wrong input: Vector dimension error: expected dim: 3, got 2');
    const unnamed = await call('POST', `/collections/${name}/points/query`, { query: [1, 0, 0] });
    expect(unnamed.status).toBe(400);
    expect(errorOf(unnamed)).toContain('Not existing vector name');
    const mixed = await call('POST', `/collections/${name}/points/query`, {
      query: { indices: [1], values: [1] },
      using: 'dense',
    });
    expect(mixed.status).toBe(400);
  });
});

describe('sparse query with the IDF modifier', () => {
  it('scores the dot product of IDF-weighted query and stored values over the whole collection', async () => {
    const name = await newCollection();
    await call('PUT', `/collections/${name}/points?wait=true`, {
      points: [
        { id: 1, vector: { lexical: { indices: [10, 20], values: [1, 2] } }, payload: { tenant: 'a' } },
        { id: 2, vector: { lexical: { indices: [20], values: [1] } }, payload: { tenant: 'b' } },
        { id: 3, vector: { lexical: { indices: [30], values: [5] } }, payload: { tenant: 'a' } },
        // No sparse vector: not counted in N.
        { id: 4, vector: { dense: [1, 0, 0] }, payload: { tenant: 'a' } },
      ],
    });
    const hits = result<{ points: { id: number; score: number }[] }>(
      await call('POST', `/collections/${name}/points/query`, {
        query: { indices: [10, 20], values: [1, 1] },
        using: 'lexical',
        filter: { must: [{ key: 'tenant', match: { value: 'a' } }] },
      }),
    );
    // N = 3 points with the vector; index 10 is in 1 of them, index 20 in 2 (one of another tenant).
    const idf10 = Math.log(1 + (3 - 1 + 0.5) / (1 + 0.5));
    const idf20 = Math.log(1 + (3 - 2 + 0.5) / (2 + 0.5));
    expect(qdrantIdf(3, 1)).toBeCloseTo(idf10, 12);
    // Point 3 shares no index with the query and is not returned.
    expect(hits.points.map((p) => p.id)).toEqual([1]);
    expect(hits.points[0]?.score).toBeCloseTo(1 * idf10 + 2 * idf20, 10);
  });

  it('leaves query weights alone without the modifier', async () => {
    const name = await newCollection({ sparse_vectors: { plain: {} } });
    await call('PUT', `/collections/${name}/points?wait=true`, {
      points: [{ id: 1, vector: { plain: { indices: [1, 2], values: [2, 3] } } }],
    });
    const hits = result<{ points: { score: number }[] }>(
      await call('POST', `/collections/${name}/points/query`, {
        query: { indices: [2], values: [4] },
        using: 'plain',
      }),
    );
    expect(hits.points[0]?.score).toBe(12);
  });
});

describe('filters', () => {
  let name: string;
  beforeAll(async () => {
    name = await newCollection();
    const payloads = [
      {
        tenant: 'a',
        lang: 'en',
        n: 1,
        ratio: 0.5,
        tags: ['x', 'y'],
        meta: { 'a.b': 'dot', k: 'v' },
        flag: true,
      },
      { tenant: 'a', lang: 'de', n: 2, ratio: 1.5, tags: ['z'], meta: { k: 'w' }, flag: false },
      { tenant: 'b', lang: 'en', n: 2, ratio: 0.5, tags: [], meta: {}, flag: 1 },
      { tenant: 'b', lang: 'fr' },
    ];
    await call('PUT', `/collections/${name}/points?wait=true`, {
      points: payloads.map((payload, i) => ({ id: i + 1, vector: { dense: [1, 0, 0] }, payload })),
    });
  });

  async function ids(filter: unknown): Promise<number[]> {
    const page = result<{ points: { id: number }[] }>(
      await call('POST', `/collections/${name}/points/scroll`, { filter, with_payload: false }),
    );
    return page.points.map((p) => p.id);
  }

  it('combines must, should and must_not, also nested', async () => {
    expect(await ids({ must: [{ key: 'tenant', match: { value: 'a' } }] })).toEqual([1, 2]);
    expect(
      await ids({
        should: [
          { key: 'lang', match: { value: 'de' } },
          { key: 'lang', match: { value: 'fr' } },
        ],
      }),
    ).toEqual([2, 4]);
    expect(await ids({ must_not: [{ key: 'lang', match: { value: 'en' } }] })).toEqual([2, 4]);
    expect(
      await ids({
        must: [{ key: 'tenant', match: { value: 'b' } }],
        must_not: [
          {
            must: [
              { key: 'lang', match: { value: 'en' } },
              { key: 'n', match: { value: 2 } },
            ],
          },
        ],
      }),
    ).toEqual([4]);
  });

  it('matches any, except, arrays element-wise and typed values exactly', async () => {
    expect(await ids({ must: [{ key: 'lang', match: { any: ['de', 'fr'] } }] })).toEqual([2, 4]);
    expect(await ids({ must: [{ key: 'lang', match: { except: ['en'] } }] })).toEqual([2, 4]);
    expect(await ids({ must: [{ key: 'tags', match: { value: 'y' } }] })).toEqual([1]);
    expect(await ids({ must: [{ key: 'flag', match: { value: true } }] })).toEqual([1]);
    expect(await ids({ must: [{ key: 'flag', match: { value: 1 } }] })).toEqual([3]);
    expect(await ids({ must: [{ key: 'n', match: { value: '2' } }] })).toEqual([]);
  });

  it('filters numbers by range, and refuses a fractional number in match as Qdrant does', async () => {
    expect(await ids({ must: [{ key: 'ratio', range: { gte: 0.5, lte: 0.5 } }] })).toEqual([1, 3]);
    expect(await ids({ must: [{ key: 'ratio', range: { gt: 0.5 } }] })).toEqual([2]);
    const answer = await call('POST', `/collections/${name}/points/scroll`, {
      filter: { must: [{ key: 'ratio', match: { value: 0.5 } }] },
    });
    expect(answer.status).toBe(400);
  });

  it('follows nested and quoted keys, and refuses a malformed key', async () => {
    expect(await ids({ must: [{ key: 'meta.k', match: { value: 'w' } }] })).toEqual([2]);
    expect(await ids({ must: [{ key: 'meta."a.b"', match: { value: 'dot' } }] })).toEqual([1]);
    expect(await ids({ must: [{ key: 'meta.a', match: { value: 'dot' } }] })).toEqual([]);
    const bad = await call('POST', `/collections/${name}/points/scroll`, {
      filter: { must: [{ key: 'meta."open', match: { value: 'x' } }] },
    });
    expect(bad.status).toBe(400);
  });

  it('matches ids with has_id', async () => {
    expect(await ids({ must: [{ has_id: [4, 2] }] })).toEqual([2, 4]);
  });

  it('counts what the filter matches', async () => {
    expect(
      result(
        await call('POST', `/collections/${name}/points/count`, {
          filter: { must: [{ key: 'lang', match: { value: 'en' } }] },
        }),
      ),
    ).toEqual({ count: 2 });
  });
});

describe('scroll', () => {
  it('pages in id order (integers before UUIDs) with an inclusive offset and next_page_offset', async () => {
    const name = await newCollection();
    const all = [uuid(2), 7, uuid(1), 3, uuid(3)];
    await call('PUT', `/collections/${name}/points?wait=true`, {
      points: all.map((id) => ({ id, vector: { dense: [1, 0, 0] }, payload: { keep: 'yes', drop: 'no' } })),
    });
    const first = result<{ points: { id: unknown; payload?: unknown }[]; next_page_offset: unknown }>(
      await call('POST', `/collections/${name}/points/scroll`, { limit: 2, with_payload: ['keep'] }),
    );
    expect(first.points).toEqual([
      { id: 3, payload: { keep: 'yes' } },
      { id: 7, payload: { keep: 'yes' } },
    ]);
    expect(first.next_page_offset).toBe(uuid(1));
    const second = result<{ points: { id: unknown }[]; next_page_offset: unknown }>(
      await call('POST', `/collections/${name}/points/scroll`, { limit: 2, offset: first.next_page_offset }),
    );
    expect(second.points.map((p) => p.id)).toEqual([uuid(1), uuid(2)]);
    const last = result<{ points: { id: unknown }[]; next_page_offset: unknown }>(
      await call('POST', `/collections/${name}/points/scroll`, { limit: 2, offset: second.next_page_offset }),
    );
    expect(last.points.map((p) => p.id)).toEqual([uuid(3)]);
    expect(last.next_page_offset).toBeNull();
    const zero = await call('POST', `/collections/${name}/points/scroll`, { limit: 0 });
    expect(zero.status).toBe(400);
  });
});

describe('faults and stats', () => {
  it('records every request with its query, body and status', async () => {
    const name = await newCollection();
    double.stats.reset();
    await call('POST', `/collections/${name}/points/count?timeout=3`, { exact: true });
    expect(double.stats.requests).toEqual([
      {
        method: 'POST',
        path: `/collections/${name}/points/count`,
        query: { timeout: '3' },
        body: { exact: true },
        status: 200,
      },
    ]);
  });

  it('answers a status fault for the matching requests, the given number of times', async () => {
    const name = await newCollection();
    double.injectFault({
      method: 'POST',
      path: `/collections/${name}/points/count`,
      times: 1,
      action: { kind: 'status', status: 503, message: 'overloaded', headers: { 'retry-after': '2' } },
    });
    expect((await call('GET', `/collections/${name}/exists`)).status).toBe(200);
    const faulted = await call('POST', `/collections/${name}/points/count`, {});
    expect(faulted.status).toBe(503);
    expect(errorOf(faulted)).toBe('overloaded');
    expect(faulted.headers.get('retry-after')).toBe('2');
    expect((await call('POST', `/collections/${name}/points/count`, {})).status).toBe(200);
  });

  it('can hang, drop the connection, or answer a given body', async () => {
    double.injectFault({ path: '/hang', times: 1, action: { kind: 'hang' } });
    const hung = await fetch(`${double.url}/hang`, { signal: AbortSignal.timeout(100) }).then(
      () => 'answered',
      (error: Error) => error.name,
    );
    expect(hung).toBe('TimeoutError');
    double.injectFault({ path: '/reset', times: 1, action: { kind: 'reset' } });
    await expect(fetch(`${double.url}/reset`)).rejects.toThrow();
    double.injectFault({
      path: '/',
      times: 1,
      action: { kind: 'respond', status: 200, body: { version: 'x' } },
    });
    expect((await call('GET', '/')).body).toEqual({ version: 'x' });
  });
});
