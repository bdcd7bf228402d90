/** A ModelApi wrapper that adds up the time spent inside model calls, to subtract it from a query's time. */
import type {
  ChatParams,
  ChatResult,
  ChatStreamChunk,
  EmbeddingsParams,
  EmbeddingsResult,
  ModelApi,
  RequestOptions,
  RerankParams,
  RerankResult,
} from '@quire/api-client';

export class TimedModels implements ModelApi {
  readonly #inner: ModelApi;
  /** Milliseconds spent in model calls since the last `take()`, by endpoint. */
  #ms = { embeddings: 0, rerank: 0, chat: 0 };

  constructor(inner: ModelApi) {
    this.#inner = inner;
  }

  /** Returns the model time gathered so far, by endpoint and in total, and starts again from zero. */
  take(): { embeddings: number; rerank: number; chat: number; total: number } {
    const ms = this.#ms;
    this.#ms = { embeddings: 0, rerank: 0, chat: 0 };
    return { ...ms, total: ms.embeddings + ms.rerank + ms.chat };
  }

  async #time<T>(endpoint: 'embeddings' | 'rerank' | 'chat', call: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await call();
    } finally {
      this.#ms[endpoint] += performance.now() - started;
    }
  }

  embeddings(params: EmbeddingsParams, options?: RequestOptions): Promise<EmbeddingsResult> {
    return this.#time('embeddings', () => this.#inner.embeddings(params, options));
  }

  rerank(params: RerankParams, options?: RequestOptions): Promise<RerankResult> {
    return this.#time('rerank', () => this.#inner.rerank(params, options));
  }

  chat(params: ChatParams, options?: RequestOptions): Promise<ChatResult> {
    return this.#time('chat', () => this.#inner.chat(params, options));
  }

  async *chatStream(params: ChatParams, options?: RequestOptions): AsyncIterable<ChatStreamChunk> {
    const started = performance.now();
    try {
      yield* this.#inner.chatStream(params, options);
    } finally {
      this.#ms.chat += performance.now() - started;
    }
  }
}

/**
 * Collects the model server's own per-request times from its debug log lines (`ms`: model compute plus
 * the configured latency), so that an end-to-end time can be split into provider time and Quire's own.
 */
export class ServerTimes {
  #ms = 0;
  #requests = 0;
  #byPath = emptyByPath();

  readonly logger = {
    debug: (obj: object, msg?: string) => {
      const { ms, path } = obj as { ms?: unknown; path?: unknown };
      if (msg === 'model server request' && typeof ms === 'number' && path !== '/v1/models') {
        this.#ms += ms;
        this.#requests += 1;
        if (path === '/v1/embeddings') this.#byPath.embeddings += ms;
        else if (path === '/v1/rerank') this.#byPath.rerank += ms;
        else if (path === '/v1/chat/completions') this.#byPath.chat += ms;
      }
    },
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
  };

  /** Requests logged since the last `take()`. */
  get requests(): number {
    return this.#requests;
  }

  /** Since the last `take()`: the server's time in all, its requests, and its time by endpoint. */
  take(): { ms: number; requests: number; byPath: ServerTimesByPath } {
    const out = { ms: this.#ms, requests: this.#requests, byPath: this.#byPath };
    this.#ms = 0;
    this.#requests = 0;
    this.#byPath = emptyByPath();
    return out;
  }
}

/** The model server's own time per endpoint, in milliseconds. */
export interface ServerTimesByPath {
  embeddings: number;
  rerank: number;
  chat: number;
}

function emptyByPath(): ServerTimesByPath {
  return { embeddings: 0, rerank: 0, chat: 0 };
}

/** The `ModelApi` call that made a request. */
export type RecordedCall =
  | { method: 'embeddings'; params: EmbeddingsParams }
  | { method: 'rerank'; params: RerankParams }
  | { method: 'chat'; params: ChatParams };

/**
 * One model request as sent on the wire: the path under the API's base URL and the JSON body, and
 * the call that made it (to replay it through a `ModelApi`).
 */
export interface RecordedRequest {
  path: '/embeddings' | '/rerank' | '/chat/completions';
  body: Record<string, unknown>;
  call: RecordedCall;
}

/**
 * A ModelApi wrapper that writes down each call as the HTTP request `ModelClient` sends for it
 * (`encoding_format`, `top_n`, chat options), for the bare client of the floor to replay.
 */
export class RecordingModels implements ModelApi {
  readonly #inner: ModelApi;
  readonly #encoding: 'float' | 'base64';
  #requests: RecordedRequest[] = [];

  /** `embeddingEncoding`: what the client being imitated asks for (the workers: `QUIRE_EMBEDDING_ENCODING`, base64). */
  constructor(inner: ModelApi, embeddingEncoding: 'float' | 'base64') {
    this.#inner = inner;
    this.#encoding = embeddingEncoding;
  }

  /** The requests recorded since the last `take()`, in the order they were made. */
  take(): RecordedRequest[] {
    const requests = this.#requests;
    this.#requests = [];
    return requests;
  }

  embeddings(params: EmbeddingsParams, options?: RequestOptions): Promise<EmbeddingsResult> {
    this.#requests.push({
      path: '/embeddings',
      body: {
        model: params.model,
        input: params.input,
        encoding_format: params.encodingFormat ?? this.#encoding,
        ...(params.dimensions === undefined ? {} : { dimensions: params.dimensions }),
      },
      call: { method: 'embeddings', params },
    });
    return this.#inner.embeddings(params, options);
  }

  rerank(params: RerankParams, options?: RequestOptions): Promise<RerankResult> {
    const documents = params.documents;
    this.#requests.push({
      path: '/rerank',
      body: {
        model: params.model,
        query: params.query,
        documents,
        top_n: Math.min(params.topN ?? documents.length, documents.length),
      },
      call: { method: 'rerank', params },
    });
    return this.#inner.rerank(params, options);
  }

  chat(params: ChatParams, options?: RequestOptions): Promise<ChatResult> {
    this.#requests.push({
      path: '/chat/completions',
      body: {
        model: params.model,
        messages: params.messages,
        ...(params.temperature === undefined ? {} : { temperature: params.temperature }),
        ...(params.maxTokens === undefined ? {} : { max_tokens: params.maxTokens }),
        ...(params.stop === undefined ? {} : { stop: params.stop }),
      },
      call: { method: 'chat', params },
    });
    return this.#inner.chat(params, options);
  }

  chatStream(params: ChatParams, options?: RequestOptions): AsyncIterable<ChatStreamChunk> {
    return this.#inner.chatStream(params, options);
  }
}
