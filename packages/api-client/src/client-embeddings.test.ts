import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { fakeFetch, json, type RecordedCall } from './__tests__/fake-fetch.js';
import { ModelClient } from './client.js';
import { DimensionMismatchError, InvalidResponseError } from './errors.js';

const BASE_URL = 'https://models.test/v1';

/** A server embedding `text-<n>` as `[n, n + 0.5]` and answering its items in a shuffled order. */
function shufflingServer(call: RecordedCall): Response {
  const input = call.body.input as string[];
  const items = input.map((text, index) => {
    const n = Number(text.split('-')[1]);
    return { object: 'embedding', index, embedding: [n, n + 0.5] };
  });
  // Deterministic shuffle: odd indices first, then even ones, each reversed.
  const shuffled = [
    ...items.filter((_, i) => i % 2 === 1).reverse(),
    ...items.filter((_, i) => i % 2 === 0).reverse(),
  ];
  return json({
    object: 'list',
    data: shuffled,
    model: 'embed-v1',
    usage: { prompt_tokens: input.length, total_tokens: input.length },
  });
}

describe('ModelClient.embeddings', () => {
  it('posts model, input and encoding_format (float by default) with the key', async () => {
    const { fetch, calls } = fakeFetch(() => json({ data: [{ index: 0, embedding: [0.5, 0.25] }] }));
    const client = new ModelClient({ baseURL: `${BASE_URL}/`, apiKey: 'sk-abc-123456', fetch });
    const result = await client.embeddings({ model: 'embed-v1', input: ['hello'] });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.url).toBe(`${BASE_URL}/embeddings`);
    expect(calls[0]!.method).toBe('POST');
    expect(calls[0]!.body).toEqual({ model: 'embed-v1', input: ['hello'], encoding_format: 'float' });
    expect(calls[0]!.headers.get('authorization')).toBe('Bearer sk-abc-123456');
    expect(calls[0]!.headers.get('content-type')).toBe('application/json');
    expect(result).toEqual({
      model: 'embed-v1',
      vectors: [[0.5, 0.25]],
      dimension: 2,
      usage: { promptTokens: 0, totalTokens: 0 },
      requests: 1,
    });
  });

  it('sends dimensions when asked, and per-call headers over default ones', async () => {
    const { fetch, calls } = fakeFetch(() => json({ data: [{ index: 0, embedding: [1, 0, 0] }] }));
    const client = new ModelClient({
      baseURL: BASE_URL,
      fetch,
      defaultHeaders: { 'x-team': 'a', 'x-env': 'test' },
    });
    await client.embeddings({ model: 'm', input: ['x'], dimensions: 3 }, { headers: { 'x-team': 'b' } });
    expect(calls[0]!.body).toEqual({ model: 'm', input: ['x'], encoding_format: 'float', dimensions: 3 });
    expect(calls[0]!.headers.get('x-team')).toBe('b');
    expect(calls[0]!.headers.get('x-env')).toBe('test');
    expect(calls[0]!.headers.get('authorization')).toBeNull();
  });

  it('batches inputs and keeps input order by index across batches', async () => {
    const { fetch, calls } = fakeFetch(shufflingServer);
    const client = new ModelClient({ baseURL: BASE_URL, fetch, maxEmbeddingInputs: 3 });
    const input = Array.from({ length: 8 }, (_, i) => `text-${i}`);
    const result = await client.embeddings({ model: 'embed-v1', input });
    expect(calls.map((call) => call.body.input)).toEqual([
      input.slice(0, 3),
      input.slice(3, 6),
      input.slice(6),
    ]);
    expect(result.vectors).toEqual(input.map((_, i) => [i, i + 0.5]));
    expect(result.usage).toEqual({ promptTokens: 8, totalTokens: 8 });
    expect(result.requests).toBe(3);
    expect(result.dimension).toBe(2);
  });

  it('says when each request is handed to fetch: once per part of a split call, again on a retry', async () => {
    let answered = 0;
    const seen: number[] = [];
    const { fetch, calls } = fakeFetch((call) => {
      answered++;
      // The second request fails once with a 503, to be retried.
      return answered === 2 ? json({ error: { message: 'busy' } }, 503) : shufflingServer(call);
    });
    const client = new ModelClient({ baseURL: BASE_URL, fetch, maxEmbeddingInputs: 2, initialRetryDelay: 1 });
    const input = ['text-0', 'text-1', 'text-2'];
    await client.embeddings(
      { model: 'embed-v1', input },
      {
        onRequest: () => {
          // Called once the request is out: fetch already has it.
          seen.push(calls.length);
        },
      },
    );
    expect(calls).toHaveLength(3);
    expect(seen).toEqual([1, 2, 3]);

    // A callback that throws does not stop the call.
    const result = await client.embeddings(
      { model: 'embed-v1', input: ['text-4'] },
      {
        onRequest: () => {
          throw new Error('caller bug');
        },
      },
    );
    expect(result.vectors).toEqual([[4, 4.5]]);
  });

  it('decodes base64 vectors exactly', async () => {
    const values = new Float32Array([0.1, -0.2, 1e-30, 123456.789, Math.E]);
    const encoded = Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
    const { fetch, calls } = fakeFetch(() => json({ data: [{ index: 0, embedding: encoded }] }));
    const client = new ModelClient({ baseURL: BASE_URL, fetch });
    const result = await client.embeddings({ model: 'm', input: ['x'], encodingFormat: 'base64' });
    expect(calls[0]!.body.encoding_format).toBe('base64');
    expect(result.vectors[0]).toEqual(Array.from(values));
  });

  it('asks for the client’s default encoding, and reads numbers from a server that ignores it', async () => {
    const values = new Float32Array([0.25, -1.5]);
    const encoded = Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
    const answers = [{ embedding: encoded }, { embedding: [0.25, -1.5] }, { embedding: [0.25, -1.5] }];
    const { fetch, calls } = fakeFetch(() => json({ data: [{ index: 0, ...answers[calls.length - 1] }] }));
    const client = new ModelClient({ baseURL: BASE_URL, fetch, embeddingEncoding: 'base64' });
    const first = await client.embeddings({ model: 'm', input: ['x'] });
    const second = await client.embeddings({ model: 'm', input: ['x'] });
    const asFloat = await client.embeddings({ model: 'm', input: ['x'], encodingFormat: 'float' });
    expect(calls.map((call) => call.body.encoding_format)).toEqual(['base64', 'base64', 'float']);
    expect(first.vectors).toEqual([[0.25, -1.5]]);
    expect(second.vectors).toEqual([[0.25, -1.5]]);
    expect(asFloat.vectors).toEqual([[0.25, -1.5]]);
    expect(() => new ModelClient({ baseURL: BASE_URL, embeddingEncoding: 'binary' as 'float' })).toThrow(
      'embeddingEncoding must be "float" or "base64", got binary',
    );
  });

  it('fails clearly on a dimension other than expected', async () => {
    const { fetch } = fakeFetch(() => json({ data: [{ index: 0, embedding: [1, 2, 3] }] }));
    const client = new ModelClient({ baseURL: BASE_URL, fetch, expectedDimension: 4 });
    const error = await client.embeddings({ model: 'm', input: ['x'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DimensionMismatchError);
    expect(error).toMatchObject({ expected: 4, got: 3, retryable: true });
    expect((error as Error).message).toBe(
      '/embeddings: embedding for input 0 has dimension 3, expected 4 (from expectedDimension)',
    );
    const asked = await client
      .embeddings({ model: 'm', input: ['x'], dimensions: 2 })
      .catch((e: unknown) => e);
    expect(asked).toMatchObject({ expected: 2, got: 3 });
  });

  it('fails when vectors disagree in length, even across batches', async () => {
    const { fetch } = fakeFetch(
      () => json({ data: [{ index: 0, embedding: [1, 2] }] }),
      () => json({ data: [{ index: 0, embedding: [1, 2, 3] }] }),
    );
    const client = new ModelClient({ baseURL: BASE_URL, fetch, maxEmbeddingInputs: 1 });
    await expect(client.embeddings({ model: 'm', input: ['a', 'b'] })).rejects.toMatchObject({
      name: 'DimensionMismatchError',
      expected: 2,
      got: 3,
      message: expect.stringContaining('input 1 has dimension 3, expected 2 (from the first vector)'),
    });
  });

  it.each([
    ['no data array', { object: 'list' }, 'data: '],
    ['a garbled vector', { data: [{ index: 0, embedding: [1, 'x'] }] }, 'data.0.embedding'],
    ['a missing index', { data: [{ embedding: [1] }] }, 'data.0.index'],
    ['too few vectors', { data: [] }, 'response has 0 vectors for 1 inputs'],
    ['an index out of range', { data: [{ index: 3, embedding: [1] }] }, 'index 3 is out of range'],
    ['bad base64', { data: [{ index: 0, embedding: 'AAAA' }] }, 'not base64 float32'],
  ])('rejects a response with %s', async (_, body, message) => {
    const { fetch, calls } = fakeFetch(() => json(body, 200, { 'x-request-id': 'req-9' }));
    const client = new ModelClient({ baseURL: BASE_URL, fetch });
    const error = await client.embeddings({ model: 'm', input: ['x'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect(error).toMatchObject({ requestId: 'req-9', status: 200, retryable: false });
    expect((error as Error).message).toContain(message);
    expect(calls).toHaveLength(1);
  });

  it('makes no request for no input', async () => {
    const { fetch, calls } = fakeFetch(() => json({}));
    const client = new ModelClient({ baseURL: BASE_URL, fetch, expectedDimension: 8 });
    expect(await client.embeddings({ model: 'm', input: [] })).toEqual({
      model: 'm',
      vectors: [],
      dimension: 8,
      usage: { promptTokens: 0, totalTokens: 0 },
      requests: 0,
    });
    expect(calls).toHaveLength(0);
  });
});
