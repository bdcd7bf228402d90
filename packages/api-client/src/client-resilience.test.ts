import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { fakeFetch, hang, json, recordingLogger, sse } from './__tests__/fake-fetch.js';
import { ModelClient } from './client.js';
import {
  ApiAbortError,
  ApiConnectionError,
  ApiError,
  ApiTimeoutError,
  AuthenticationError,
  BadRequestError,
  DimensionMismatchError,
  InternalServerError,
  InvalidResponseError,
  RateLimitError,
} from './errors.js';

const BASE_URL = 'https://models.test/v1';
const OK = { data: [{ index: 0, embedding: [1, 0] }] };
const params = { model: 'm', input: ['x'] };

describe('retries', () => {
  it('waits as long as a 429 asks (retry-after-ms) and then succeeds', async () => {
    const logger = recordingLogger();
    const { fetch, calls } = fakeFetch(
      () =>
        json({ error: { message: 'Rate limit reached', code: 'rate_limit_exceeded' } }, 429, {
          'retry-after-ms': '20',
        }),
      () => json(OK),
    );
    const client = new ModelClient({ baseURL: BASE_URL, fetch, logger, initialRetryDelay: 10_000 });
    const result = await client.embeddings(params);
    expect(result.vectors).toEqual([[1, 0]]);
    expect(calls).toHaveLength(2);
    const warnings = logger.entries.filter((entry) => entry.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.obj).toMatchObject({
      endpoint: '/embeddings',
      attempt: 1,
      delayMs: 20,
      status: 429,
      error: 'RateLimitError',
    });
  });

  it('honours retry-after in seconds', async () => {
    const logger = recordingLogger();
    const { fetch, calls } = fakeFetch(
      () => json({}, 429, { 'retry-after': '0.01' }),
      () => json(OK),
    );
    const client = new ModelClient({ baseURL: BASE_URL, fetch, logger, initialRetryDelay: 10_000 });
    await client.embeddings(params);
    expect(calls).toHaveLength(2);
    expect(logger.entries.find((entry) => entry.level === 'warn')!.obj).toMatchObject({ delayMs: 10 });
  });

  it('retries two 500s and then succeeds', async () => {
    const { fetch, calls } = fakeFetch(
      () => json({ error: { message: 'oops' } }, 500),
      () => json({ error: { message: 'oops' } }, 502),
      () => json(OK),
    );
    const client = new ModelClient({ baseURL: BASE_URL, fetch, initialRetryDelay: 1, maxRetryDelay: 2 });
    expect((await client.embeddings(params)).vectors).toEqual([[1, 0]]);
    expect(calls).toHaveLength(3);
  });

  it('gives up after maxRetries, per client and per call', async () => {
    const { fetch, calls } = fakeFetch(() => json({ error: { message: 'down' } }, 503));
    const client = new ModelClient({ baseURL: BASE_URL, fetch, maxRetries: 1, initialRetryDelay: 1 });
    await expect(client.embeddings(params)).rejects.toBeInstanceOf(InternalServerError);
    expect(calls).toHaveLength(2);
    await expect(client.embeddings(params, { maxRetries: 3 })).rejects.toMatchObject({
      status: 503,
      retryable: true,
    });
    expect(calls).toHaveLength(6);
  });

  it('fails a 400 at once with a typed, non-retryable error', async () => {
    const { fetch, calls } = fakeFetch(() =>
      json(
        {
          error: {
            message: 'input too long',
            type: 'invalid_request_error',
            code: 'context_length_exceeded',
          },
        },
        400,
        {
          'x-request-id': 'req_400',
        },
      ),
    );
    const client = new ModelClient({ baseURL: BASE_URL, fetch, maxRetries: 5, initialRetryDelay: 1 });
    const error = await client.embeddings(params).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error).toMatchObject({
      status: 400,
      code: 'context_length_exceeded',
      providerMessage: 'input too long',
      requestId: 'req_400',
      endpoint: '/embeddings',
      retryable: false,
    });
    expect(calls).toHaveLength(1);
  });

  it.each([401, 403, 404, 422])('does not retry %i', async (status) => {
    const { fetch, calls } = fakeFetch(() => json({ detail: 'no' }, status));
    const client = new ModelClient({ baseURL: BASE_URL, fetch, initialRetryDelay: 1 });
    await expect(client.embeddings(params)).rejects.toMatchObject({ status, retryable: false });
    expect(calls).toHaveLength(1);
  });

  it('retries connection errors and reports them typed', async () => {
    const { fetch, calls } = fakeFetch(() => {
      throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 10.0.0.1:443') });
    });
    const client = new ModelClient({ baseURL: BASE_URL, fetch, maxRetries: 2, initialRetryDelay: 1 });
    const error = await client.embeddings(params).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiConnectionError);
    expect((error as Error).message).toBe(
      '/embeddings: connection error: fetch failed (connect ECONNREFUSED 10.0.0.1:443)',
    );
    expect(calls).toHaveLength(3);
  });

  it('retries a malformed JSON body as a transport fault, and says what was wrong when it persists', async () => {
    const { fetch, calls } = fakeFetch(
      () => new Response('{"data": [', { status: 200 }),
      () => new Response('{"data": [', { status: 200 }),
    );
    const client = new ModelClient({ baseURL: BASE_URL, fetch, maxRetries: 1, initialRetryDelay: 1 });
    const error = await client.embeddings(params).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect(error).toMatchObject({ retryable: true });
    expect((error as Error).message).toBe('/embeddings: response is not valid JSON (status 200)');
    expect(calls).toHaveLength(2);
  });

  it('reads a non-JSON error body as the provider message', async () => {
    const { fetch } = fakeFetch(() => new Response('<html>upstream timed out</html>', { status: 504 }));
    const client = new ModelClient({ baseURL: BASE_URL, fetch, maxRetries: 0 });
    await expect(client.chat({ model: 'm', messages: [] })).rejects.toMatchObject({
      name: 'InternalServerError',
      status: 504,
      providerMessage: '<html>upstream timed out</html>',
    });
  });
});

describe('timeouts and abort', () => {
  it('ends a hanging request in a typed timeout', async () => {
    const { fetch, calls } = fakeFetch(hang);
    const client = new ModelClient({ baseURL: BASE_URL, fetch, timeout: 50, maxRetries: 0 });
    const error = await client.embeddings(params).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiTimeoutError);
    expect(error).toMatchObject({ retryable: true, message: '/embeddings: request timed out after 50 ms' });
    expect(calls[0]!.signal?.aborted).toBe(true);
  });

  it('retries timeouts, with the per-call timeout', async () => {
    const { fetch, calls } = fakeFetch(hang, () => json(OK));
    const client = new ModelClient({ baseURL: BASE_URL, fetch, timeout: 60_000, initialRetryDelay: 1 });
    expect((await client.embeddings(params, { timeout: 30 })).vectors).toEqual([[1, 0]]);
    expect(calls).toHaveLength(2);
  });

  it('times out even when fetch ignores its signal', async () => {
    const { fetch } = fakeFetch(() => new Promise<Response>(() => undefined));
    const client = new ModelClient({ baseURL: BASE_URL, fetch, timeout: 30, maxRetries: 0 });
    await expect(client.embeddings(params)).rejects.toBeInstanceOf(ApiTimeoutError);
  });

  it('times out while reading a body that stalls', async () => {
    const { fetch } = fakeFetch(() => sse(['{"data":'], { hangAtEnd: true }));
    const client = new ModelClient({ baseURL: BASE_URL, fetch, timeout: 30, maxRetries: 0 });
    await expect(client.embeddings(params)).rejects.toBeInstanceOf(ApiTimeoutError);
  });

  it('does not call at all when aborted before', async () => {
    const { fetch, calls } = fakeFetch(() => json(OK));
    const client = new ModelClient({ baseURL: BASE_URL, fetch });
    const controller = new AbortController();
    controller.abort();
    await expect(client.embeddings(params, { signal: controller.signal })).rejects.toBeInstanceOf(
      ApiAbortError,
    );
    expect(calls).toHaveLength(0);
  });

  it('aborts a request in flight at once and does not retry it', async () => {
    const controller = new AbortController();
    const { fetch, calls } = fakeFetch((call) => {
      setImmediate(() => controller.abort());
      return hang(call);
    });
    const client = new ModelClient({ baseURL: BASE_URL, fetch, timeout: 60_000, maxRetries: 3 });
    const error = await client.embeddings(params, { signal: controller.signal }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiAbortError);
    expect(error).toMatchObject({ retryable: false });
    expect(calls).toHaveLength(1);
  });

  it('aborts during the wait between retries', async () => {
    const controller = new AbortController();
    const { fetch, calls } = fakeFetch(() => {
      setImmediate(() => controller.abort());
      return json({}, 503, { 'retry-after': '30' });
    });
    const client = new ModelClient({ baseURL: BASE_URL, fetch, maxRetries: 3 });
    await expect(client.embeddings(params, { signal: controller.signal })).rejects.toBeInstanceOf(
      ApiAbortError,
    );
    expect(calls).toHaveLength(1);
  });

  it('aborts a stream being read', async () => {
    const controller = new AbortController();
    const { fetch } = fakeFetch(() =>
      sse(['data: {"choices":[{"delta":{"content":"a"}}]}\n\n'], { hangAtEnd: true }),
    );
    const client = new ModelClient({ baseURL: BASE_URL, fetch, timeout: 60_000 });
    const stream = client.chatStream({ model: 'm', messages: [] }, { signal: controller.signal });
    const iterator = stream[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toEqual({ delta: 'a', finishReason: null });
    const next = iterator.next();
    controller.abort();
    await expect(next).rejects.toBeInstanceOf(ApiAbortError);
  });
});

describe('the API key', () => {
  const KEY = 'sk-live-9f8e7d6c5b4a3210SECRET';

  it('never appears in errors, their JSON, their inspection or the logs', async () => {
    const logger = recordingLogger();
    const echo = { error: { message: `Incorrect API key provided: ${KEY}`, code: `bad_key_${KEY}` } };
    const { fetch, calls } = fakeFetch(
      () => json(echo, 500),
      () => json(echo, 429, { 'retry-after-ms': '1' }),
      () => {
        throw new TypeError(`socket hang up while sending Bearer ${KEY}`);
      },
      () => json(echo, 401, { 'x-request-id': 'req_key' }),
      () => json({ detail: [{ loc: ['header', 'authorization'], msg: `invalid ${KEY}` }] }, 400),
      () => new Response(`not json ${KEY}`, { status: 200 }),
      hang,
      () => json({ data: [{ index: 0, embedding: [1] }] }),
    );
    const client = new ModelClient({
      baseURL: BASE_URL,
      apiKey: KEY,
      fetch,
      logger,
      maxRetries: 3,
      initialRetryDelay: 1,
      expectedDimension: 2,
    });

    const errors: unknown[] = [];
    const attempt = async (run: () => Promise<unknown>): Promise<void> => {
      errors.push(
        await run().then(
          () => undefined,
          (e: unknown) => e,
        ),
      );
    };
    await attempt(() => client.embeddings(params)); // 500, 429, connection error, 401
    await attempt(() => client.embeddings(params)); // 400
    await attempt(() => client.embeddings(params, { maxRetries: 0 })); // not JSON
    await attempt(() => client.embeddings(params, { timeout: 20, maxRetries: 0 })); // timeout
    await attempt(() => client.embeddings(params)); // wrong dimension

    // The key was really sent, so its absence below means something.
    expect(calls.every((call) => call.headers.get('authorization') === `Bearer ${KEY}`)).toBe(true);
    expect(errors.map((error) => (error as Error).constructor)).toEqual([
      AuthenticationError,
      BadRequestError,
      InvalidResponseError,
      ApiTimeoutError,
      DimensionMismatchError,
    ]);
    expect(errors[0]).toMatchObject({
      providerMessage: 'Incorrect API key provided: [redacted]',
      requestId: 'req_key',
    });
    for (const error of errors) {
      expect(error).toBeInstanceOf(ApiError);
      const apiError = error as ApiError;
      expect(apiError.message).not.toContain(KEY);
      expect(JSON.stringify(apiError)).not.toContain(KEY);
      expect(inspect(apiError, { depth: 10, showHidden: true })).not.toContain(KEY);
      expect(String(apiError.stack)).not.toContain(KEY);
    }
    expect(logger.entries.filter((entry) => entry.level === 'warn')).toHaveLength(3);
    expect(logger.entries.length).toBeGreaterThan(10);
    for (const entry of logger.entries) {
      expect(JSON.stringify(entry)).not.toContain(KEY);
      expect(inspect(entry, { depth: 10 })).not.toContain(KEY);
    }
    expect(inspect(client, { depth: 10, showHidden: true })).not.toContain(KEY);
    expect(JSON.stringify(client)).not.toContain(KEY);
  });

  it('stays out of the connection error cause as well', async () => {
    const { fetch } = fakeFetch(() => {
      throw new Error(`proxy refused https://gw/?key=${KEY}`);
    });
    const client = new ModelClient({ baseURL: BASE_URL, apiKey: KEY, fetch, maxRetries: 0 });
    const error = await client.embeddings(params).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiConnectionError);
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect(inspect(error, { depth: 10, showHidden: true })).not.toContain(KEY);
  });
});

describe('options', () => {
  it('refuses invalid settings', () => {
    expect(() => new ModelClient({ baseURL: 'not a url' })).toThrow(TypeError);
    expect(() => new ModelClient({ baseURL: 'ftp://host/v1' })).toThrow(TypeError);
    expect(() => new ModelClient({ baseURL: BASE_URL, timeout: 0 })).toThrow(RangeError);
    expect(() => new ModelClient({ baseURL: BASE_URL, maxRetries: -1 })).toThrow(RangeError);
    expect(() => new ModelClient({ baseURL: BASE_URL, maxEmbeddingInputs: 0 })).toThrow(RangeError);
    expect(() => new ModelClient({ baseURL: BASE_URL, maxRerankDocuments: 1.5 })).toThrow(RangeError);
  });

  it('redacts credential-like default headers like the key', async () => {
    const { fetch } = fakeFetch(() => json({ error: { message: 'bad api-key abc-secret-999' } }, 401));
    const client = new ModelClient({
      baseURL: BASE_URL,
      fetch,
      defaultHeaders: { 'api-key': 'abc-secret-999' },
    });
    const error = await client.embeddings(params).catch((e: unknown) => e);
    expect((error as Error).message).toBe('/embeddings: 401 bad api-key [redacted]');
  });

  it('is usable against a rate-limited server as a whole', async () => {
    const { fetch } = fakeFetch(() => json({}, 429));
    const client = new ModelClient({ baseURL: BASE_URL, fetch, maxRetries: 0 });
    await expect(client.embeddings(params)).rejects.toBeInstanceOf(RateLimitError);
  });
});
