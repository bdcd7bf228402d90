import { BuiltinModels } from '@quire/api-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createModelServer,
  decodeFloat32Base64,
  type RunningModelServer,
  startModelServer,
} from '../src/index.js';

// The example request of the rerank reference.
const RERANK_EXAMPLE = {
  model: 'bge-reranker-v2-m3',
  query: 'Organic skincare products for sensitive skin',
  top_n: 3,
  documents: [
    'Organic skincare for sensitive skin with aloe vera and chamomile. Clinically tested and hypoallergenic.',
    'New makeup trends focus on bold colors and innovative application techniques for a striking look.',
    'Bio-Hautpflege für empfindliche Haut mit Aloe Vera und Kamille. Klinisch getestet und hypoallergen.',
  ],
};

const KEY = 'sk-test-key';

interface WireErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

let server: RunningModelServer;

beforeAll(async () => {
  server = await startModelServer({ apiKey: KEY });
});

afterAll(async () => {
  await server.close();
});

afterEach(() => {
  // Each test starts from the same knobs, whatever the previous one set.
  server.setOptions({
    latencyMs: undefined,
    latencyPerInputMs: undefined,
    maxInputsPerRequest: undefined,
    rateLimit: undefined,
    faults: undefined,
    failNext: [],
    seed: 1,
  });
  server.resetStats();
});

function post(path: string, body: unknown, init: { key?: string | null; signal?: AbortSignal } = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const key = init.key === undefined ? KEY : init.key;
  if (key !== null) headers.authorization = `Bearer ${key}`;
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...(init.signal === undefined ? {} : { signal: init.signal }),
  });
}

describe('model server: happy paths', () => {
  it('answers the reference rerank request ranked, with makeup last', async () => {
    const res = await post('/rerank', RERANK_EXAMPLE);
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      id: string;
      model: string;
      results: { index: number; relevance_score: number; document?: unknown }[];
      usage: { total_tokens: number };
    };
    expect(body.model).toBe('bge-reranker-v2-m3');
    expect(typeof body.id).toBe('string');
    expect(body.results).toHaveLength(3);
    for (const result of body.results) {
      expect(Number.isInteger(result.index)).toBe(true);
      expect(typeof result.relevance_score).toBe('number');
      expect(result.document).toBeUndefined();
    }
    const scores = body.results.map((r) => r.relevance_score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(body.results.at(-1)!.index).toBe(1);
    expect(new Set(body.results.map((r) => r.index))).toEqual(new Set([0, 1, 2]));
    expect(body.usage.total_tokens).toBeGreaterThan(0);
  });

  it('honours top_n and return_documents, accepting { text } documents', async () => {
    const res = await post('/rerank', {
      ...RERANK_EXAMPLE,
      top_n: 1,
      return_documents: true,
      documents: RERANK_EXAMPLE.documents.map((text) => ({ text })),
    });
    const body = (await res.json()) as { results: { index: number; document?: { text: string } }[] };
    expect(body.results).toHaveLength(1);
    expect(body.results[0]!.index).toBe(0);
    expect(body.results[0]!.document).toEqual({ text: RERANK_EXAMPLE.documents[0] });
  });

  it('embeds in order, honours dimensions, and sends base64 that decodes to the float vectors', async () => {
    const input = ['aloe vera soothes skin', 'bold makeup colours', 'klinisch getestet'];
    const floats = (await (await post('/embeddings', { model: 'e', input, dimensions: 16 })).json()) as {
      object: string;
      model: string;
      data: { object: string; index: number; embedding: number[] }[];
      usage: { prompt_tokens: number; total_tokens: number };
    };
    expect(floats.object).toBe('list');
    expect(floats.model).toBe('e');
    expect(floats.data.map((d) => d.index)).toEqual([0, 1, 2]);
    expect(floats.data.every((d) => d.object === 'embedding' && d.embedding.length === 16)).toBe(true);
    expect(floats.usage.prompt_tokens).toBeGreaterThan(0);
    expect(floats.usage.total_tokens).toBe(floats.usage.prompt_tokens);

    const res = await post('/embeddings', { model: 'e', input, dimensions: 16, encoding_format: 'base64' });
    const encoded = (await res.json()) as { data: { embedding: string }[] };
    expect(typeof encoded.data[0]!.embedding).toBe('string');
    // The built-in vectors are float32-exact, so decoding gives back the very same numbers.
    expect(encoded.data.map((d) => decodeFloat32Base64(d.embedding))).toEqual(
      floats.data.map((d) => d.embedding),
    );
  });

  it('accepts a single string input', async () => {
    const body = (await (await post('/embeddings', { model: 'e', input: 'one text' })).json()) as {
      data: { embedding: number[] }[];
    };
    expect(body.data).toHaveLength(1);
    expect(body.data[0]!.embedding).toHaveLength(384);
  });

  it('answers a chat completion in OpenAI shape', async () => {
    const res = await post('/chat/completions', {
      model: 'chat-model',
      messages: [
        {
          role: 'system',
          content: 'Answer from the passages and cite them.\n[1] Chamomile calms sensitive skin.',
        },
        { role: 'user', content: 'What calms sensitive skin?' },
      ],
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      object: string;
      model: string;
      choices: { index: number; message: { role: string; content: string }; finish_reason: string }[];
      usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
    };
    expect(body.object).toBe('chat.completion');
    expect(body.model).toBe('chat-model');
    expect(body.choices[0]!.message.role).toBe('assistant');
    expect(body.choices[0]!.message.content.length).toBeGreaterThan(0);
    expect(body.choices[0]!.finish_reason).toBe('stop');
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens + body.usage.completion_tokens);
  });

  it('streams chat chunks, a usage chunk when asked, then [DONE]', async () => {
    const messages = [
      { role: 'system', content: 'Answer from the passages.\n[1] Chamomile calms sensitive skin.' },
      { role: 'user', content: 'What calms sensitive skin?' },
    ];
    const whole = (await (await post('/chat/completions', { model: 'c', messages })).json()) as {
      choices: { message: { content: string } }[];
      usage: { total_tokens: number };
    };

    const res = await post('/chat/completions', {
      model: 'c',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = (await res.text())
      .split('\n\n')
      .filter((event) => event !== '')
      .map((event) => {
        expect(event.startsWith('data: ')).toBe(true);
        return event.slice('data: '.length);
      });
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map(
      (data) =>
        JSON.parse(data) as {
          object: string;
          choices: { delta: { role?: string; content?: string }; finish_reason: string | null }[];
          usage?: { total_tokens: number } | null;
        },
    );
    expect(chunks.every((chunk) => chunk.object === 'chat.completion.chunk')).toBe(true);
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe(whole.choices[0]!.message.content);
    expect(chunks.length).toBeGreaterThan(4);
    const usageChunk = chunks.at(-1)!;
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage?.total_tokens).toBe(whole.usage.total_tokens);
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe('stop');
  });

  it('lists its models', async () => {
    const res = await fetch(`${server.url}/models`, { headers: { authorization: `Bearer ${KEY}` } });
    const body = (await res.json()) as { object: string; data: { id: string; object: string }[] };
    expect(body.object).toBe('list');
    expect(body.data.length).toBeGreaterThan(0);
    expect(body.data.every((m) => m.object === 'model' && typeof m.id === 'string')).toBe(true);
  });

  it('counts requests per endpoint and status, tokens and inputs', async () => {
    await post('/rerank', RERANK_EXAMPLE);
    await post('/embeddings', { model: 'e', input: ['a b', 'c d'] });
    await post('/embeddings', { model: 'e' });
    const stats = server.stats;
    expect(stats.requests).toBe(3);
    expect(stats.byEndpoint).toEqual({ '/v1/rerank': 1, '/v1/embeddings': 2 });
    expect(stats.byStatus).toEqual({ '200': 2, '400': 1 });
    expect(stats.inputs).toBe(5);
    expect(stats.tokens).toBeGreaterThan(0);
    expect(stats.peakInFlight).toBeGreaterThanOrEqual(1);
    expect(stats.inFlight).toBe(0);
  });
});

describe('model server: client errors', () => {
  it('answers 401 without a key and with a wrong one, never echoing the key', async () => {
    const missing = await post('/rerank', RERANK_EXAMPLE, { key: null });
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as WireErrorBody).error.code).toBe('missing_api_key');

    const wrong = await post('/rerank', RERANK_EXAMPLE, { key: 'sk-wrong' });
    expect(wrong.status).toBe(401);
    const text = await wrong.text();
    expect((JSON.parse(text) as WireErrorBody).error.code).toBe('invalid_api_key');
    expect(text).not.toContain('sk-wrong');
    expect(text).not.toContain(KEY);
  });

  it('answers 400 naming the bad field', async () => {
    const cases: [string, unknown, string][] = [
      ['/rerank', { ...RERANK_EXAMPLE, documents: ['fine', 42] }, 'documents.1'],
      ['/rerank', { ...RERANK_EXAMPLE, top_n: 0 }, 'top_n'],
      ['/rerank', { documents: ['x'], query: 'q' }, 'model'],
      ['/embeddings', { model: 'e', input: ['ok', ''] }, 'input.1'],
      ['/embeddings', { model: 'e', input: 'x', encoding_format: 'hex' }, 'encoding_format'],
      ['/chat/completions', { model: 'c', messages: [{ role: 'robot', content: 'hi' }] }, 'messages.0.role'],
    ];
    for (const [path, body, param] of cases) {
      const res = await post(path, body);
      expect(res.status, `${path} ${param}`).toBe(400);
      const error = ((await res.json()) as WireErrorBody).error;
      expect(error.type).toBe('invalid_request_error');
      expect(error.param).toBe(param);
      expect(error.message).toContain(param);
    }
  });

  it('answers 400 for a body that is not JSON, 404 for an unknown path, 405 for a wrong method', async () => {
    const notJson = await post('/embeddings', '{"model": ');
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as WireErrorBody).error.code).toBe('invalid_json');
    expect((await post('/completions', {})).status).toBe(404);
    const wrongMethod = await fetch(`${server.url}/rerank`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
  });

  it('answers 413 over maxInputsPerRequest', async () => {
    server.setOptions({ maxInputsPerRequest: 2 });
    const res = await post('/embeddings', { model: 'e', input: ['a', 'b', 'c'] });
    expect(res.status).toBe(413);
    const error = ((await res.json()) as WireErrorBody).error;
    expect(error.code).toBe('too_many_inputs');
    expect(error.param).toBe('input');
    expect((await post('/embeddings', { model: 'e', input: ['a', 'b'] })).status).toBe(200);
    expect((await post('/rerank', RERANK_EXAMPLE)).status).toBe(413);
  });
});

describe('model server: rate limits and faults', () => {
  it('answers 429 with Retry-After and retry-after-ms once over requestsPerMinute', async () => {
    server.setOptions({ rateLimit: { requestsPerMinute: 2 } });
    const first = await post('/embeddings', { model: 'e', input: ['a'] });
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-limit-requests')).toBe('2');
    expect(first.headers.get('x-ratelimit-remaining-requests')).toBe('1');
    expect((await post('/embeddings', { model: 'e', input: ['a'] })).status).toBe(200);
    const limited = await post('/embeddings', { model: 'e', input: ['a'] });
    expect(limited.status).toBe(429);
    const seconds = Number(limited.headers.get('retry-after'));
    const ms = Number(limited.headers.get('retry-after-ms'));
    expect(seconds).toBeGreaterThanOrEqual(1);
    expect(seconds).toBeLessThanOrEqual(60);
    expect(ms).toBeGreaterThan(0);
    expect(Math.ceil(ms / 1000)).toBe(seconds);
    const error = ((await limited.json()) as WireErrorBody).error;
    expect(error.code).toBe('rate_limit_exceeded');
    expect(error.type).toBe('requests');
    expect(server.stats.rateLimited).toBe(1);
  });

  it('limits tokens per minute by the usage it reports', async () => {
    server.setOptions({ rateLimit: { tokensPerMinute: 5 } });
    const ok = await post('/embeddings', { model: 'e', input: ['one two three four'] });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { usage: { total_tokens: number } }).usage.total_tokens).toBe(4);
    const limited = await post('/embeddings', { model: 'e', input: ['five six'] });
    expect(limited.status).toBe(429);
    expect(((await limited.json()) as WireErrorBody).error.type).toBe('tokens');
    expect((await post('/embeddings', { model: 'e', input: ['seven'] })).status).toBe(200);
  });

  it('sends x-ratelimit-limit/remaining/reset headers on answers and on 429s', async () => {
    server.setOptions({ rateLimit: { requestsPerMinute: 10, tokensPerMinute: 6 } });
    const ok = await post('/embeddings', { model: 'e', input: ['one two three four'] });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-ratelimit-limit-tokens')).toBe('6');
    expect(ok.headers.get('x-ratelimit-remaining-tokens')).toBe('2');
    expect(ok.headers.get('x-ratelimit-remaining-requests')).toBe('9');
    // The request just admitted holds both budgets for the whole window.
    expect(ok.headers.get('x-ratelimit-reset-tokens')).toMatch(/^(59\.\d+s|1m0s)$/);
    expect(ok.headers.get('x-ratelimit-reset-requests')).toMatch(/^(59\.\d+s|1m0s)$/);
    const limited = await post('/embeddings', { model: 'e', input: ['five six seven'] });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('x-ratelimit-limit-tokens')).toBe('6');
    expect(limited.headers.get('x-ratelimit-remaining-tokens')).toBe('2');
    expect(limited.headers.get('x-ratelimit-reset-tokens')).toMatch(/^(59\.\d+s|1m0s)$/);
  });

  it('answers 500 at errorRate 1 and recovers when the fault is turned off', async () => {
    server.setOptions({ faults: { errorRate: 1 } });
    const res = await post('/rerank', RERANK_EXAMPLE);
    expect(res.status).toBe(500);
    expect(((await res.json()) as WireErrorBody).error.type).toBe('server_error');
    server.setOptions({ faults: { errorRate: 0 } });
    expect((await post('/rerank', RERANK_EXAMPLE)).status).toBe(200);
    expect(server.stats.faults.errors).toBe(1);
  });

  it('draws faults from the seed: same seed, same sequence', async () => {
    const run = async () => {
      server.setOptions({ seed: 99, faults: { errorRate: 0.5 } });
      const statuses: number[] = [];
      for (let i = 0; i < 12; i += 1)
        statuses.push((await post('/embeddings', { model: 'e', input: ['x'] })).status);
      return statuses;
    };
    const first = await run();
    expect(first).toContain(500);
    expect(first).toContain(200);
    expect(await run()).toEqual(first);
  });

  it('sends a 200 whose body is not JSON at malformedRate 1', async () => {
    server.setOptions({ faults: { malformedRate: 1 } });
    const res = await post('/embeddings', { model: 'e', input: ['x'] });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(() => JSON.parse(text)).toThrow(SyntaxError);
  });

  it('sends a broken event in a stream at malformedRate 1', async () => {
    server.setOptions({ faults: { malformedRate: 1 } });
    const res = await post('/chat/completions', {
      model: 'c',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    const events = (await res.text()).split('\n\n').filter((e) => e !== '');
    expect(events.at(-1)).toBe('data: [DONE]');
    expect(() => JSON.parse(events[0]!.slice('data: '.length))).toThrow(SyntaxError);
  });

  it('sends vectors of the wrong length at wrongDimensionRate 1', async () => {
    server.setOptions({ faults: { wrongDimensionRate: 1 } });
    const body = (await (
      await post('/embeddings', { model: 'e', input: ['x', 'y'], dimensions: 8 })
    ).json()) as {
      data: { embedding: number[] }[];
    };
    expect(body.data.map((d) => d.embedding.length)).toEqual([7, 7]);
    // Only embeddings have a dimension; other endpoints answer normally.
    expect((await post('/rerank', RERANK_EXAMPLE)).status).toBe(200);
    expect(server.stats.faults.wrongDimension).toBe(1);
  });

  it('hangs at hangRate 1 until the client gives up', async () => {
    server.setOptions({ faults: { hangRate: 1 } });
    const request = post('/embeddings', { model: 'e', input: ['x'] }, { signal: AbortSignal.timeout(200) });
    await expect(request).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(server.stats.faults.hangs).toBe(1);
    expect(server.stats.byStatus).toEqual({});
  });

  it('plays failNext in order, then answers normally', async () => {
    server.setOptions({
      failNext: [
        { status: 503 },
        { status: 429, headers: { 'retry-after': '0' }, body: { error: { message: 'slow down' } } },
        { status: 200, body: 'not json' },
      ],
    });
    const a = await post('/rerank', RERANK_EXAMPLE);
    expect(a.status).toBe(503);
    expect(((await a.json()) as WireErrorBody).error.type).toBe('server_error');
    const b = await post('/rerank', RERANK_EXAMPLE);
    expect(b.status).toBe(429);
    expect(b.headers.get('retry-after')).toBe('0');
    expect(await b.json()).toEqual({ error: { message: 'slow down' } });
    const c = await post('/rerank', RERANK_EXAMPLE);
    expect(await c.text()).toBe('not json');
    expect((await post('/rerank', RERANK_EXAMPLE)).status).toBe(200);
    expect(server.stats.faults.scripted).toBe(3);
  });

  it('refuses invalid knobs and keeps the old ones', async () => {
    expect(() => server.setOptions({ faults: { errorRate: 1.5 } })).toThrow(/faults\.errorRate/);
    expect(() => server.setOptions({ faults: { errorRate: 0.6, hangRate: 0.6 } })).toThrow(
      /add up to at most 1/,
    );
    expect((await post('/rerank', RERANK_EXAMPLE)).status).toBe(200);
  });

  it('adds latency per input and counts concurrent requests', async () => {
    server.setOptions({ latencyMs: 50, latencyPerInputMs: 10 });
    const responses = await Promise.all(
      Array.from({ length: 3 }, () => post('/embeddings', { model: 'e', input: ['a', 'b'] })),
    );
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
    // All three were waiting out their latency together.
    expect(server.stats.peakInFlight).toBe(3);
  });
});

describe('model server: lifecycle', () => {
  it('listens on a free port and gives a base URL ending in /v1', async () => {
    const other = await startModelServer();
    try {
      expect(other.url).toBe(`http://127.0.0.1:${other.port}/v1`);
      expect(other.port).not.toBe(server.port);
      // No apiKey: no auth needed.
      const res = await fetch(`${other.url}/embeddings`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'e', input: ['x'] }),
      });
      expect(res.status).toBe(200);
    } finally {
      await other.close();
    }
  });

  it('creates apart from listening, serves injected models, and changes dimension at runtime', async () => {
    const created = createModelServer({
      models: new BuiltinModels({ dimension: 8, embeddingModel: 'tiny-embed' }),
      modelIds: ['tiny-embed'],
    });
    expect(created.server.listening).toBe(false);
    const running = await created.listen();
    try {
      const models = (await (await fetch(`${running.url}/models`)).json()) as { data: { id: string }[] };
      expect(models.data.map((m) => m.id)).toEqual(['tiny-embed']);
      const embed = async () =>
        (
          (await (
            await fetch(`${running.url}/embeddings`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ model: 'tiny-embed', input: ['x'] }),
            })
          ).json()) as { data: { embedding: number[] }[] }
        ).data[0]!.embedding.length;
      expect(await embed()).toBe(8);
      // `dimension` configures the built-in models only; injected ones keep theirs.
      running.setOptions({ dimension: 32 });
      expect(await embed()).toBe(8);
    } finally {
      await running.close();
    }
    const builtin = await startModelServer({ dimension: 12 });
    try {
      const body = JSON.stringify({ model: 'e', input: ['x'] });
      const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body };
      const length = async () =>
        (
          (await (await fetch(`${builtin.url}/embeddings`, init)).json()) as {
            data: { embedding: number[] }[];
          }
        ).data[0]!.embedding.length;
      expect(await length()).toBe(12);
      builtin.setOptions({ dimension: 24 });
      expect(await length()).toBe(24);
    } finally {
      await builtin.close();
    }
  });

  it('close() ends hanging requests and stops listening', async () => {
    const other = await startModelServer({ faults: { hangRate: 1 } });
    const hanging = fetch(`${other.url}/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'e', input: ['x'] }),
    });
    const settled = hanging.then(
      () => 'answered',
      () => 'failed',
    );
    await expect.poll(() => other.stats.faults.hangs).toBe(1);
    await other.close();
    expect(await settled).toBe('failed');
    await expect(fetch(`${other.url}/models`)).rejects.toThrow();
  });

  it('close() lets a request waiting out its latency finish', async () => {
    const other = await startModelServer({ latencyMs: 150 });
    const pending = fetch(`${other.url}/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'e', input: ['x'] }),
    });
    await expect.poll(() => other.stats.inFlight).toBe(1);
    await other.close();
    expect((await pending).status).toBe(200);
  });
});
