import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ApiError,
  type ChatMessage,
  type ChatResult,
  type EmbeddingsResult,
  type ModelApi,
  type RerankResult,
} from '@quire/api-client';
import type { z } from 'zod';
import { createDefaultModels, listedModelIds } from './default-models.js';
import {
  type ModelServerKnobs,
  type ModelServerOptions,
  type ScriptedResponse,
  validateKnobs,
} from './options.js';
import { seededRandom } from './prng.js';
import { formatResetDuration, SlidingWindowLimiter } from './rate-limiter.js';
import { copyStats, emptyStats, type ModelServerStats } from './stats.js';
import {
  chatCompletionBody,
  chatCompletionChunks,
  defaultErrorBody,
  embeddingsBody,
  errorBody,
  rerankBody,
} from './wire.js';
import {
  type ChatRequest,
  chatRequestSchema,
  describeIssue,
  type EmbeddingsRequest,
  embeddingsRequestSchema,
  type RerankRequest,
  rerankRequestSchema,
} from './wire-schemas.js';

export interface ListenOptions {
  /** Port to listen on; `0` picks a free one. Default `0`. */
  port?: number;
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
}

export interface StartModelServerOptions extends ModelServerOptions, ListenOptions {}

export interface CloseOptions {
  /**
   * How long requests still being answered (e.g. waiting out `latencyMs`) may take before their
   * connections are cut, in milliseconds. Hanging requests are ended at once. Default `5000`.
   */
  graceMs?: number;
}

/** Runtime controls shared by a created and a listening server. */
export interface ModelServerControls {
  /** A snapshot of the counters (a new object on each read). */
  readonly stats: ModelServerStats;
  /**
   * Changes knobs while the server runs. `faults` and `rateLimit` merge key by key; a key given as
   * `undefined` is turned off; `failNext` replaces the queue; `seed` restarts the fault sequence.
   * Throws `ModelServerOptionsError` (and changes nothing) when the result is invalid.
   */
  setOptions(partial: Partial<ModelServerKnobs>): void;
  /** Zeroes the counters and forgets the rate-limit window. */
  resetStats(): void;
  /** Stops accepting connections, ends hanging requests, lets the others finish, then closes. */
  close(options?: CloseOptions): Promise<void>;
}

export interface ModelServer extends ModelServerControls {
  /** The underlying server, not yet listening. */
  readonly server: Server;
  /** The request listener, for mounting on another `node:http` server. */
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
  listen(options?: ListenOptions): Promise<RunningModelServer>;
}

export interface RunningModelServer extends ModelServerControls {
  /** Base URL ending in `/v1`, e.g. `http://127.0.0.1:43121/v1`. */
  readonly url: string;
  readonly port: number;
  readonly host: string;
}

type Kind = 'embeddings' | 'rerank' | 'chat' | 'models';

const ROUTES: Readonly<Record<string, { method: 'GET' | 'POST'; kind: Kind }>> = {
  '/v1/embeddings': { method: 'POST', kind: 'embeddings' },
  '/v1/rerank': { method: 'POST', kind: 'rerank' },
  '/v1/chat/completions': { method: 'POST', kind: 'chat' },
  '/v1/models': { method: 'GET', kind: 'models' },
};

/** Bodies beyond this are refused with 413; real providers cap request size too. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** Bodies cut mid-document, as a proxy dropping the connection's tail would leave them. */
const MALFORMED_BODIES: Readonly<Record<Prepared['kind'], string>> = {
  embeddings: '{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,',
  rerank: '{"id":"broken","results":[{"index":0,"relevance_',
  chat: '{"id":"chatcmpl-broken","object":"chat.completion","choices":[{"message":{"content":"',
};

/** A model answer computed, waiting for the rate limiter, faults and latency to let it out. */
type Prepared =
  | {
      kind: 'embeddings';
      request: EmbeddingsRequest;
      result: EmbeddingsResult;
      inputs: number;
      tokens: number;
    }
  | {
      kind: 'rerank';
      request: RerankRequest;
      documents: string[];
      result: RerankResult;
      inputs: number;
      tokens: number;
    }
  | { kind: 'chat'; request: ChatRequest; result: ChatResult; inputs: number; tokens: number };

type Fault = 'error' | 'hang' | 'malformed' | 'wrongDimension' | undefined;

/** Thrown inside the handler to answer with an error body. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: object,
    readonly headers: Record<string, string> = {},
  ) {
    super(`HTTP ${status}`);
  }
}

/**
 * A model server speaking the OpenAI (embeddings, chat), Jina/Cohere (rerank) HTTP API, answering
 * with the given models (built-in offline ones by default), with latency, rate limits and faults that
 * tests can set and change while it runs. Built on plain `node:http`: four routes do not need a
 * framework, and faults like hanging or half-written bodies need the raw response anyway.
 */
export function createModelServer(options: ModelServerOptions = {}): ModelServer {
  const { models: injectedModels, modelIds, logger, now = Date.now, ...initialKnobs } = options;
  const { failNext: initialScript = [], ...restKnobs } = validateKnobs(initialKnobs);
  let knobs: ModelServerKnobs = restKnobs;
  let models: ModelApi = injectedModels ?? createDefaultModels(knobs.dimension);
  let random = seededRandom(knobs.seed ?? 1);
  // The queue lives apart from the knobs: requests consume it.
  let scripted: ScriptedResponse[] = [...initialScript];
  let stats = emptyStats();
  const limiter = new SlidingWindowLimiter(now);
  const hanging = new Set<ServerResponse>();
  const drainWaiters = new Set<() => void>();
  let closing = false;

  const server = createServer();

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const startedAt = performance.now();
    stats.requests += 1;
    stats.inFlight += 1;
    stats.peakInFlight = Math.max(stats.peakInFlight, stats.inFlight);
    res.once('close', () => {
      stats.inFlight -= 1;
      hanging.delete(res);
      if (stats.inFlight - hanging.size <= 0) for (const wake of drainWaiters) wake();
    });
    res.setHeader('x-request-id', `req_${randomBytes(12).toString('hex')}`);
    if (closing) res.setHeader('connection', 'close');

    handle(req, res)
      .catch((error: unknown) => {
        if (error instanceof HttpError) {
          sendJson(res, error.status, error.body, error.headers);
          return;
        }
        logger?.error({ err: error }, 'model server: unexpected error');
        sendJson(
          res,
          500,
          errorBody('The server had an error while processing your request.', 'server_error', null),
        );
      })
      .finally(() => {
        logger?.debug(
          {
            method: req.method,
            path: pathOf(req),
            status: res.headersSent ? res.statusCode : undefined,
            ms: Math.round((performance.now() - startedAt) * 1000) / 1000,
          },
          'model server request',
        );
      });
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = pathOf(req);
    stats.byEndpoint[path] = (stats.byEndpoint[path] ?? 0) + 1;
    const route = ROUTES[path];
    if (route === undefined) {
      throw new HttpError(
        404,
        errorBody(`Unknown request URL: ${req.method} ${path}.`, 'invalid_request_error', 'unknown_url'),
      );
    }
    if (req.method !== route.method) {
      throw new HttpError(
        405,
        errorBody(
          `Method ${req.method} is not allowed on ${path}; use ${route.method}.`,
          'invalid_request_error',
          'method_not_allowed',
        ),
        { allow: route.method },
      );
    }
    checkAuth(req);
    if (route.kind === 'models') {
      const created = Math.floor(now() / 1000);
      sendJson(res, 200, {
        object: 'list',
        data: (modelIds ?? listedModelIds(models)).map((id) => ({
          id,
          object: 'model',
          created,
          owned_by: 'quire-testkit',
        })),
      });
      return;
    }

    const raw = await readBody(req);
    const script = scripted.shift();
    if (script !== undefined) {
      stats.faults.scripted += 1;
      sendScripted(res, script);
      return;
    }

    const prepared = await prepare(route.kind, parseJson(raw));
    const decision = limiter.take(knobs.rateLimit ?? {}, prepared.tokens);
    if (!decision.admitted) {
      const seconds = (decision.retryAfterMs / 1000).toFixed(3);
      const what = decision.limit === 'requests' ? 'requests per min (RPM)' : 'tokens per min (TPM)';
      const requested = decision.limit === 'requests' ? 1 : prepared.tokens;
      throw new HttpError(
        429,
        errorBody(
          `Rate limit reached for ${what}: Limit ${decision.max}, Used ${decision.used}, Requested ${requested}. Please try again in ${seconds}s.`,
          decision.limit,
          'rate_limit_exceeded',
        ),
        {
          'retry-after': String(Math.ceil(decision.retryAfterMs / 1000)),
          'retry-after-ms': String(Math.ceil(decision.retryAfterMs)),
          ...rateHeaders(),
        },
      );
    }

    const fault = drawFault(prepared.kind);
    if (fault === 'hang') {
      stats.faults.hangs += 1;
      hanging.add(res);
      if (closing) res.destroy();
      return;
    }
    const delay = (knobs.latencyMs ?? 0) + (knobs.latencyPerInputMs ?? 0) * prepared.inputs;
    if (delay > 0) await sleep(delay);
    if (fault === 'error') {
      stats.faults.errors += 1;
      throw new HttpError(
        500,
        errorBody('The server had an error while processing your request.', 'server_error', null),
      );
    }
    if (fault === 'malformed') {
      stats.faults.malformed += 1;
      sendMalformed(res, prepared);
      return;
    }
    sendAnswer(res, prepared, fault === 'wrongDimension');
  }

  function checkAuth(req: IncomingMessage): void {
    const expected = knobs.apiKey;
    if (expected === undefined) return;
    const header = req.headers.authorization;
    const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match === null) {
      throw new HttpError(
        401,
        errorBody(
          "You didn't provide an API key. Send it in the Authorization header as 'Bearer <key>'.",
          'invalid_request_error',
          'missing_api_key',
        ),
        { 'www-authenticate': 'Bearer' },
      );
    }
    // Digests have equal lengths, so the comparison takes the same time whatever the key.
    const given = createHash('sha256').update(match[1]!).digest();
    if (!timingSafeEqual(given, createHash('sha256').update(expected).digest())) {
      throw new HttpError(
        401,
        errorBody('Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key'),
        {
          'www-authenticate': 'Bearer',
        },
      );
    }
  }

  async function prepare(kind: Exclude<Kind, 'models'>, body: unknown): Promise<Prepared> {
    switch (kind) {
      case 'embeddings': {
        const request = validate(embeddingsRequestSchema, body);
        const input = typeof request.input === 'string' ? [request.input] : request.input;
        checkInputCount(input.length, 'input');
        const result = await callModel(() =>
          models.embeddings({
            model: request.model,
            input,
            ...(request.dimensions === undefined ? {} : { dimensions: request.dimensions }),
          }),
        );
        return { kind, request, result, inputs: input.length, tokens: result.usage.totalTokens };
      }
      case 'rerank': {
        const request = validate(rerankRequestSchema, body);
        const documents = request.documents.map((doc) => (typeof doc === 'string' ? doc : doc.text));
        checkInputCount(documents.length, 'documents');
        const result = await callModel(() =>
          models.rerank({
            model: request.model,
            query: request.query,
            documents,
            ...(request.top_n === undefined ? {} : { topN: request.top_n }),
            ...(request.return_documents === undefined ? {} : { returnDocuments: request.return_documents }),
          }),
        );
        return {
          kind,
          request,
          documents,
          result,
          inputs: documents.length,
          tokens: result.usage.totalTokens,
        };
      }
      case 'chat': {
        const request = validate(chatRequestSchema, body);
        const messages: ChatMessage[] = request.messages.map((message) => ({
          role: message.role === 'developer' ? 'system' : message.role,
          content:
            message.content === null
              ? ''
              : typeof message.content === 'string'
                ? message.content
                : message.content.map((part) => part.text).join(''),
        }));
        const maxTokens = request.max_completion_tokens ?? request.max_tokens;
        const stop =
          request.stop == null ? undefined : typeof request.stop === 'string' ? [request.stop] : request.stop;
        const result = await callModel(() =>
          models.chat({
            model: request.model,
            messages,
            ...(request.temperature == null ? {} : { temperature: request.temperature }),
            ...(maxTokens == null ? {} : { maxTokens }),
            ...(stop === undefined ? {} : { stop }),
          }),
        );
        return { kind, request, result, inputs: 1, tokens: result.usage.totalTokens };
      }
    }
  }

  function checkInputCount(count: number, param: string): void {
    const max = knobs.maxInputsPerRequest;
    if (max !== undefined && count > max) {
      throw new HttpError(
        413,
        errorBody(
          `Too many items in '${param}': ${count} given, at most ${max} per request.`,
          'invalid_request_error',
          'too_many_inputs',
          param,
        ),
      );
    }
  }

  function drawFault(kind: Prepared['kind']): Fault {
    // One draw per model request, whatever the rates, so a seed gives the same sequence of faults
    // even when rates change between requests.
    const u = random();
    const faults = knobs.faults ?? {};
    let edge = faults.errorRate ?? 0;
    if (u < edge) return 'error';
    edge += faults.hangRate ?? 0;
    if (u < edge) return 'hang';
    edge += faults.malformedRate ?? 0;
    if (u < edge) return 'malformed';
    edge += faults.wrongDimensionRate ?? 0;
    if (u < edge && kind === 'embeddings') return 'wrongDimension';
    return undefined;
  }

  function sendAnswer(res: ServerResponse, prepared: Prepared, wrongDimension: boolean): void {
    // The client may have given up while the answer waited out its latency: nothing was served.
    if (!writable(res)) return;
    stats.tokens += prepared.tokens;
    if (prepared.kind !== 'chat') stats.inputs += prepared.inputs;
    const model = prepared.request.model;
    switch (prepared.kind) {
      case 'embeddings': {
        let vectors: readonly (readonly number[])[] = prepared.result.vectors;
        if (wrongDimension) {
          stats.faults.wrongDimension += 1;
          vectors = vectors.map((vector) => (vector.length > 1 ? vector.slice(0, -1) : [...vector, 0]));
        }
        sendJson(
          res,
          200,
          embeddingsBody(prepared.result, model, vectors, prepared.request.encoding_format ?? 'float'),
          rateHeaders(),
        );
        return;
      }
      case 'rerank': {
        const id = randomBytes(16).toString('hex');
        sendJson(
          res,
          200,
          rerankBody(
            id,
            prepared.result,
            model,
            prepared.documents,
            prepared.request.return_documents ?? false,
          ),
          rateHeaders(),
        );
        return;
      }
      case 'chat': {
        const id = `chatcmpl-${randomBytes(12).toString('hex')}`;
        const created = Math.floor(now() / 1000);
        if (prepared.request.stream !== true) {
          sendJson(res, 200, chatCompletionBody(id, created, model, prepared.result), rateHeaders());
          return;
        }
        const includeUsage = prepared.request.stream_options?.include_usage === true;
        const events = chatCompletionChunks(id, created, model, prepared.result, includeUsage).map(
          (chunk) => `data: ${JSON.stringify(chunk)}\n\n`,
        );
        sendStream(res, [...events, 'data: [DONE]\n\n']);
        return;
      }
    }
  }

  function sendMalformed(res: ServerResponse, prepared: Prepared): void {
    if (prepared.kind === 'chat' && prepared.request.stream === true) {
      sendStream(res, [
        'data: {"id":"chatcmpl-broken","object":"chat.completion.chunk","choices":[{"delta":\n\n',
        'data: [DONE]\n\n',
      ]);
      return;
    }
    const body = MALFORMED_BODIES[prepared.kind];
    if (!writable(res)) return;
    count(200);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  function sendStream(res: ServerResponse, events: string[]): void {
    if (!writable(res)) return;
    count(200);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      ...rateHeaders(),
    });
    for (const event of events) res.write(event);
    res.end();
  }

  function sendScripted(res: ServerResponse, script: ScriptedResponse): void {
    if (!writable(res)) return;
    const body =
      script.body === undefined
        ? JSON.stringify(defaultErrorBody(script.status))
        : typeof script.body === 'string'
          ? script.body
          : JSON.stringify(script.body);
    count(script.status);
    res.writeHead(script.status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      ...script.headers,
    });
    res.end(body);
  }

  function sendJson(
    res: ServerResponse,
    status: number,
    body: object,
    headers: Record<string, string> = {},
  ): void {
    if (!writable(res)) return;
    const text = JSON.stringify(body);
    count(status);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  }

  function rateHeaders(): Record<string, string> {
    const limits = knobs.rateLimit;
    if (limits === undefined) return {};
    const used = limiter.usage();
    const headers: Record<string, string> = {};
    if (limits.requestsPerMinute !== undefined) {
      headers['x-ratelimit-limit-requests'] = String(limits.requestsPerMinute);
      headers['x-ratelimit-remaining-requests'] = String(
        Math.max(0, limits.requestsPerMinute - used.requests),
      );
      headers['x-ratelimit-reset-requests'] = formatResetDuration(used.requestsResetMs);
    }
    if (limits.tokensPerMinute !== undefined) {
      headers['x-ratelimit-limit-tokens'] = String(limits.tokensPerMinute);
      headers['x-ratelimit-remaining-tokens'] = String(Math.max(0, limits.tokensPerMinute - used.tokens));
      headers['x-ratelimit-reset-tokens'] = formatResetDuration(used.tokensResetMs);
    }
    return headers;
  }

  function count(status: number): void {
    stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
    if (status === 429) stats.rateLimited += 1;
  }

  function setOptions(partial: Partial<ModelServerKnobs>): void {
    const next: ModelServerKnobs = { ...knobs };
    for (const key of Object.keys(partial) as (keyof ModelServerKnobs)[]) {
      const value = partial[key];
      if (value === undefined) {
        delete next[key];
      } else if (key === 'faults' || key === 'rateLimit') {
        const merged: Record<string, number | undefined> = { ...next[key], ...(value as object) };
        for (const [name, v] of Object.entries(merged)) if (v === undefined) delete merged[name];
        (next as Record<string, unknown>)[key] = merged;
      } else {
        (next as Record<string, unknown>)[key] = value;
      }
    }
    validateKnobs(next);
    const { failNext, ...nextKnobs } = next;
    const dimensionChanged = nextKnobs.dimension !== knobs.dimension;
    knobs = nextKnobs;
    if ('seed' in partial) random = seededRandom(knobs.seed ?? 1);
    if ('failNext' in partial) scripted = [...(failNext ?? [])];
    if (dimensionChanged && injectedModels === undefined) models = createDefaultModels(knobs.dimension);
  }

  async function close(closeOptions: CloseOptions = {}): Promise<void> {
    closing = true;
    for (const res of hanging) res.destroy();
    const closed = server.listening
      ? new Promise<void>((resolve) => server.close(() => resolve()))
      : Promise.resolve();
    server.closeIdleConnections();
    const graceMs = closeOptions.graceMs ?? 5000;
    const drained = new Promise<void>((resolve) => {
      const wake = () => {
        drainWaiters.delete(wake);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(wake, graceMs);
      drainWaiters.add(wake);
      if (stats.inFlight - hanging.size <= 0) wake();
    });
    await drained;
    server.closeAllConnections();
    await closed;
  }

  server.on('request', handler);

  const resetStats = (): void => {
    const inFlight = stats.inFlight;
    stats = emptyStats();
    stats.inFlight = inFlight;
    stats.peakInFlight = inFlight;
    limiter.reset();
  };

  return {
    get stats() {
      return copyStats(stats);
    },
    setOptions,
    resetStats,
    close,
    server,
    handler,
    listen: async (listenOptions: ListenOptions = {}): Promise<RunningModelServer> => {
      const host = listenOptions.host ?? '127.0.0.1';
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(listenOptions.port ?? 0, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const { port } = server.address() as AddressInfo;
      // A wildcard address is no place to connect to; its loopback is.
      const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
      const urlHost = reachable.includes(':') ? `[${reachable}]` : reachable;
      return {
        url: `http://${urlHost}:${port}/v1`,
        port,
        host,
        get stats() {
          return copyStats(stats);
        },
        setOptions,
        resetStats,
        close,
      };
    },
  };
}

/** {@link createModelServer} and listen: the usual way to get a server for a test. */
export async function startModelServer(options: StartModelServerOptions = {}): Promise<RunningModelServer> {
  const { port, host, ...serverOptions } = options;
  return createModelServer(serverOptions).listen({
    ...(port === undefined ? {} : { port }),
    ...(host === undefined ? {} : { host }),
  });
}

/** The request's path without query; never throws, whatever the client sent. */
function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  try {
    return new URL(url, 'http://model-server').pathname;
  } catch {
    return url.split('?')[0] ?? url;
  }
}

function writable(res: ServerResponse): boolean {
  return !res.headersSent && !res.destroyed;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      throw new HttpError(
        413,
        errorBody(
          `Request body is larger than ${MAX_BODY_BYTES} bytes.`,
          'invalid_request_error',
          'request_too_large',
        ),
        { connection: 'close' },
      );
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw new HttpError(
      400,
      errorBody('We could not parse the JSON body of your request.', 'invalid_request_error', 'invalid_json'),
    );
  }
}

function validate<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const { message, param } = describeIssue(result.error);
  throw new HttpError(400, errorBody(message, 'invalid_request_error', 'invalid_request_body', param));
}

async function callModel<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof HttpError) throw error;
    // A model that refuses the request (the built-in ones throw BadRequestError, a proxied provider
    // any 4xx) is the caller's fault: pass its status on, with its own message.
    if (error instanceof ApiError && error.status !== undefined && error.status >= 400) {
      const headers: Record<string, string> =
        error.retryAfterMs === undefined
          ? {}
          : {
              'retry-after': String(Math.ceil(error.retryAfterMs / 1000)),
              'retry-after-ms': String(error.retryAfterMs),
            };
      const type = error.status >= 500 ? 'server_error' : 'invalid_request_error';
      throw new HttpError(
        error.status,
        errorBody(error.providerMessage ?? error.message, type, error.code ?? null),
        headers,
      );
    }
    const message = error instanceof Error ? error.message : String(error);
    throw new HttpError(500, errorBody(`The model failed: ${message}`, 'server_error', 'model_error'));
  }
}
