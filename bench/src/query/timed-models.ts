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

  readonly logger = {
    debug: (obj: object, msg?: string) => {
      const { ms, path } = obj as { ms?: unknown; path?: unknown };
      if (msg === 'model server request' && typeof ms === 'number' && path !== '/v1/models') {
        this.#ms += ms;
        this.#requests += 1;
      }
    },
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
  };

  take(): { ms: number; requests: number } {
    const out = { ms: this.#ms, requests: this.#requests };
    this.#ms = 0;
    this.#requests = 0;
    return out;
  }
}
