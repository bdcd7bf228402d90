/**
 * The default transport (undici's keep-alive pool, no `fetch` injected) against a real HTTP server
 * on loopback: what the fake-fetch tests check of the fetch path, over real sockets.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { recordingLogger } from './__tests__/fake-fetch.js';
import { ModelClient } from './client.js';
import {
  ApiAbortError,
  ApiConnectionError,
  ApiTimeoutError,
  AuthenticationError,
  InvalidResponseError,
} from './errors.js';
import type { ChatStreamChunk } from './types.js';

const KEY = 'sk-undici-secret-7788';
const OK = { data: [{ index: 0, embedding: [1, 0] }], usage: { prompt_tokens: 3, total_tokens: 3 } };
const params = { model: 'm', input: ['x'] };
const MESSAGES = [{ role: 'user' as const, content: 'hi' }];

interface Seen {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingMessage['headers'];
  body: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse, seen: Seen) => void;

interface TestServer {
  baseURL: string;
  requests: Seen[];
  /** TCP connections opened to the server so far. */
  connections: number;
  /** Connections closed so far (by either side). */
  closed: number;
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

/** A server answering the n-th request with the n-th handler (the last one answers the rest). */
async function serve(...handlers: Handler[]): Promise<TestServer> {
  const state: TestServer = { baseURL: '', requests: [], connections: 0, closed: 0 };
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (piece: string) => {
      body += piece;
    });
    req.on('end', () => {
      const seen: Seen = { method: req.method, url: req.url, headers: req.headers, body };
      state.requests.push(seen);
      const handler = handlers[Math.min(state.requests.length, handlers.length) - 1]!;
      handler(req, res, seen);
    });
  });
  server.on('connection', (socket) => {
    state.connections += 1;
    socket.on('close', () => {
      state.closed += 1;
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return state;
}

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Handler {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
}

const never: Handler = () => undefined;

function until(check: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const look = () => (check() ? resolve() : setTimeout(look, 5));
    look();
  });
}

async function collect(stream: AsyncIterable<ChatStreamChunk>): Promise<ChatStreamChunk[]> {
  const out: ChatStreamChunk[] = [];
  for await (const chunk of stream) out.push(chunk);
  return out;
}

describe('the default transport (undici keep-alive pool)', () => {
  it('posts JSON with the headers and reuses its connections for calls in a row', async () => {
    const server = await serve(
      json(OK, 200, { 'x-request-id': 'req_1', 'x-ratelimit-limit-tokens': '5000' }),
    );
    const limits: (number | undefined)[] = [];
    const client = new ModelClient({
      baseURL: server.baseURL,
      apiKey: KEY,
      defaultHeaders: { 'X-Team': 'a', 'x-env': 'test' },
    });
    for (let i = 0; i < 6; i++) {
      const result = await client.embeddings(params, {
        headers: { 'x-team': 'b' },
        onRateLimit: (info) => limits.push(info.limitTokens),
      });
      expect(result.vectors).toEqual([[1, 0]]);
    }
    expect(server.requests).toHaveLength(6);
    const first = server.requests[0]!;
    expect(first.method).toBe('POST');
    expect(first.url).toBe('/v1/embeddings');
    expect(JSON.parse(first.body)).toMatchObject({ model: 'm', input: ['x'] });
    expect(first.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(first.headers['content-type']).toBe('application/json');
    expect(first.headers['x-team']).toBe('b');
    expect(first.headers['x-env']).toBe('test');
    expect(limits).toEqual([5000, 5000, 5000, 5000, 5000, 5000]);
    // undici may open a second connection while the first is handed back; then both are kept.
    expect(server.connections).toBeLessThanOrEqual(2);
    expect(server.closed).toBe(0);
  });

  it('maps an error answer to its typed error, with the key redacted', async () => {
    const server = await serve(json({ error: { message: `Incorrect API key provided: ${KEY}` } }, 401));
    const client = new ModelClient({ baseURL: server.baseURL, apiKey: KEY });
    const error = await client.embeddings(params).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as AuthenticationError).status).toBe(401);
    expect(inspect(error, { depth: 10, showHidden: true })).not.toContain(KEY);
    expect(server.requests).toHaveLength(1);
  });

  it('retries a 429 after its retry-after-ms', async () => {
    const server = await serve(
      json({ error: { message: 'slow down' } }, 429, { 'retry-after-ms': '20' }),
      json(OK),
    );
    const client = new ModelClient({ baseURL: server.baseURL, initialRetryDelay: 10_000 });
    expect((await client.embeddings(params)).vectors).toEqual([[1, 0]]);
    expect(server.requests).toHaveLength(2);
  });

  it('retries a body that is not JSON, and says so when it persists', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"data": [');
    });
    const client = new ModelClient({ baseURL: server.baseURL, maxRetries: 1, initialRetryDelay: 1 });
    await expect(client.embeddings(params)).rejects.toBeInstanceOf(InvalidResponseError);
    expect(server.requests).toHaveLength(2);
  });

  it('ends a request that gets no answer in a typed timeout, and closes its connection', async () => {
    const server = await serve(never);
    const client = new ModelClient({ baseURL: server.baseURL, timeout: 50, maxRetries: 0 });
    await expect(client.embeddings(params)).rejects.toBeInstanceOf(ApiTimeoutError);
    await until(() => server.connections > 0 && server.closed === server.connections);
    expect(server.requests).toHaveLength(1);
  });

  it('aborts a request in flight at once, without retrying it', async () => {
    const server = await serve(never);
    const client = new ModelClient({ baseURL: server.baseURL, timeout: 10_000 });
    const controller = new AbortController();
    const pending = client.embeddings(params, { signal: controller.signal }).catch((e: unknown) => e);
    await until(() => server.requests.length === 1);
    controller.abort(new Error('caller gave up'));
    expect(await pending).toBeInstanceOf(ApiAbortError);
    await until(() => server.connections > 0 && server.closed === server.connections);
    expect(server.requests).toHaveLength(1);
  });

  it('reports a refused connection as a connection error, retried', async () => {
    const server = await serve(json(OK));
    const { baseURL } = server;
    for (const s of servers.splice(0)) await new Promise<void>((resolve) => s.close(() => resolve()));
    const logger = recordingLogger();
    const client = new ModelClient({ baseURL, apiKey: KEY, maxRetries: 1, initialRetryDelay: 1, logger });
    const error = await client.embeddings(params).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiConnectionError);
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
    expect(logger.entries.filter((entry) => entry.level === 'warn')).toHaveLength(1);
    expect(inspect(error, { depth: 10, showHidden: true })).not.toContain(KEY);
  });

  it('streams a chat answer event by event', async () => {
    const events = [
      { choices: [{ delta: { content: 'Hel' }, finish_reason: null }] },
      { choices: [{ delta: { content: 'lo' }, finish_reason: 'stop' }] },
      { choices: [], usage: { prompt_tokens: 2, completion_tokens: 2, total_tokens: 4 } },
    ];
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      let i = 0;
      const next = () => {
        const event = events[i++];
        if (event === undefined) {
          res.end('data: [DONE]\n\n');
          return;
        }
        res.write(`data: ${JSON.stringify(event)}\n\n`);
        setTimeout(next, 5);
      };
      next();
    });
    const client = new ModelClient({ baseURL: server.baseURL });
    expect(await collect(client.chatStream({ model: 'm', messages: MESSAGES }))).toEqual([
      { delta: 'Hel', finishReason: null },
      { delta: 'lo', finishReason: 'stop' },
      { delta: '', finishReason: null, usage: { promptTokens: 2, completionTokens: 2, totalTokens: 4 } },
    ]);
    expect(server.requests[0]!.headers.accept).toBe('text/event-stream');
  });

  it('ends a stream that falls silent in a timeout, and one left early by closing it', async () => {
    const first = { choices: [{ delta: { content: 'a' }, finish_reason: null }] };
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify(first)}\n\n`);
    });
    // Long enough for the first event to come on a loaded machine; the silence after it is endless.
    const client = new ModelClient({ baseURL: server.baseURL, timeout: 1_000, maxRetries: 0 });
    const chunks: ChatStreamChunk[] = [];
    const error = await (async () => {
      for await (const chunk of client.chatStream({ model: 'm', messages: MESSAGES })) chunks.push(chunk);
    })().catch((e: unknown) => e);
    expect(chunks).toEqual([{ delta: 'a', finishReason: null }]);
    expect(error).toBeInstanceOf(ApiTimeoutError);
    await until(() => server.connections > 0 && server.closed === server.connections);

    const before = server.connections;
    const patient = new ModelClient({ baseURL: server.baseURL, timeout: 10_000 });
    for await (const chunk of patient.chatStream({ model: 'm', messages: MESSAGES })) {
      expect(chunk).toEqual({ delta: 'a', finishReason: null });
      break;
    }
    expect(server.connections).toBeGreaterThan(before);
    await until(() => server.closed === server.connections);
  });
});
