import {
  ApiTimeoutError,
  AuthenticationError,
  BuiltinModels,
  DimensionMismatchError,
  InternalServerError,
  InvalidResponseError,
  ModelClient,
  type ModelClientOptions,
  RateLimitError,
} from '@quire/api-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RunningModelServer, startModelServer } from '../src/index.js';

// The example request of the rerank reference, through the project's own client.
const QUERY = 'Organic skincare products for sensitive skin';
const DOCUMENTS = [
  'Organic skincare for sensitive skin with aloe vera and chamomile. Clinically tested and hypoallergenic.',
  'New makeup trends focus on bold colors and innovative application techniques for a striking look.',
  'Bio-Hautpflege für empfindliche Haut mit Aloe Vera und Kamille. Klinisch getestet und hypoallergen.',
];
const KEY = 'sk-client-test';

let server: RunningModelServer;

beforeAll(async () => {
  server = await startModelServer({ apiKey: KEY });
});

afterAll(async () => {
  await server.close();
});

afterEach(() => {
  server.setOptions({ faults: undefined, failNext: [], rateLimit: undefined });
  server.resetStats();
});

function client(options: Partial<ModelClientOptions> = {}): ModelClient {
  return new ModelClient({
    baseURL: server.url,
    apiKey: KEY,
    maxRetries: 0,
    initialRetryDelay: 1,
    maxRetryDelay: 5,
    ...options,
  });
}

describe('ModelClient against the model server', () => {
  it('reranks the reference example: three results, best first, makeup last', async () => {
    const result = await client().rerank({
      model: 'bge-reranker-v2-m3',
      query: QUERY,
      documents: DOCUMENTS,
      topN: 3,
    });
    expect(result.model).toBe('bge-reranker-v2-m3');
    expect(result.results).toHaveLength(3);
    const scores = result.results.map((r) => r.relevanceScore);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(result.results.at(-1)!.index).toBe(1);
    expect(result.usage.totalTokens).toBeGreaterThan(0);
    expect(server.stats.byEndpoint['/v1/rerank']).toBe(1);
  });

  it('gets the same answers over HTTP as from the built-in models directly', async () => {
    const direct = new BuiltinModels();
    const params = { model: 'm', input: ['aloe vera', 'bold colours'] };
    const overHttp = await client().embeddings(params);
    expect(overHttp.vectors).toEqual((await direct.embeddings(params)).vectors);
    const base64 = await client().embeddings({ ...params, encodingFormat: 'base64' });
    expect(base64.vectors).toEqual(overHttp.vectors);
    const rerank = { model: 'r', query: QUERY, documents: DOCUMENTS };
    expect((await client().rerank(rerank)).results).toEqual((await direct.rerank(rerank)).results);
  });

  it('streams a chat answer whose text equals the non-streamed one, usage last', async () => {
    const params = {
      model: 'c',
      messages: [
        {
          role: 'system' as const,
          content: 'Answer from the passages.\n[1] Chamomile calms sensitive skin.',
        },
        { role: 'user' as const, content: 'What calms sensitive skin?' },
      ],
    };
    const whole = await client().chat(params);
    const chunks = [];
    for await (const chunk of client().chatStream(params)) chunks.push(chunk);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.map((c) => c.delta).join('')).toBe(whole.content);
    expect(chunks.at(-1)!.usage).toEqual(whole.usage);
  });

  it('maps the server errors to typed errors', async () => {
    await expect(
      client({ apiKey: 'sk-wrong' }).embeddings({ model: 'm', input: ['x'] }),
    ).rejects.toBeInstanceOf(AuthenticationError);
    server.setOptions({ faults: { errorRate: 1 } });
    await expect(client().embeddings({ model: 'm', input: ['x'] })).rejects.toBeInstanceOf(
      InternalServerError,
    );
    server.setOptions({ faults: { errorRate: 0, malformedRate: 1 } });
    await expect(client().embeddings({ model: 'm', input: ['x'] })).rejects.toBeInstanceOf(
      InvalidResponseError,
    );
    server.setOptions({ faults: { malformedRate: 0, wrongDimensionRate: 1 } });
    await expect(client().embeddings({ model: 'm', input: ['x'], dimensions: 8 })).rejects.toBeInstanceOf(
      DimensionMismatchError,
    );
    // The window remembers the requests above; start it afresh.
    server.resetStats();
    server.setOptions({ faults: { wrongDimensionRate: 0 }, rateLimit: { requestsPerMinute: 1 } });
    await client().embeddings({ model: 'm', input: ['x'] });
    const limited = client().embeddings({ model: 'm', input: ['x'] });
    await expect(limited).rejects.toBeInstanceOf(RateLimitError);
    await expect(limited).rejects.toMatchObject({ status: 429, retryAfterMs: expect.any(Number) });
  });

  it('times out on a hanging request', async () => {
    server.setOptions({ faults: { hangRate: 1 } });
    await expect(client({ timeout: 200 }).embeddings({ model: 'm', input: ['x'] })).rejects.toBeInstanceOf(
      ApiTimeoutError,
    );
    expect(server.stats.faults.hangs).toBe(1);
  });

  it('retries scripted 503 and 429 (honouring retry-after-ms) and then succeeds', async () => {
    server.setOptions({
      failNext: [{ status: 503 }, { status: 429, headers: { 'retry-after-ms': '5', 'retry-after': '1' } }],
    });
    const result = await client({ maxRetries: 2 }).rerank({ model: 'r', query: QUERY, documents: DOCUMENTS });
    expect(result.results).toHaveLength(3);
    expect(server.stats.byStatus).toEqual({ '503': 1, '429': 1, '200': 1 });
  });
});
