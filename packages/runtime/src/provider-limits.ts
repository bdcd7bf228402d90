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
import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Metrics } from './metrics.js';

export interface ProviderLimits {
  /** Requests per minute shared by every worker process; 0 = no limit. */
  requestsPerMinute: number;
  /** Tokens per minute shared by every worker process; 0 = no limit. */
  tokensPerMinute: number;
}

/**
 * A provider rate limit shared by all workers through Redis (fixed one-minute windows), so that
 * scaling out never turns into a storm of 429s. Callers wait for their turn; nothing fails here.
 */
export class SharedRateLimiter {
  readonly #requests: RateLimiterRedis | undefined;
  readonly #tokens: RateLimiterRedis | undefined;
  readonly #tokensPerMinute: number;

  constructor(redis: Redis, limits: ProviderLimits, options: { keyPrefix: string }) {
    this.#tokensPerMinute = limits.tokensPerMinute;
    if (limits.requestsPerMinute > 0) {
      this.#requests = new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: `${options.keyPrefix}:rl:req`,
        points: limits.requestsPerMinute,
        duration: 60,
      });
    }
    if (limits.tokensPerMinute > 0) {
      this.#tokens = new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: `${options.keyPrefix}:rl:tok`,
        points: limits.tokensPerMinute,
        duration: 60,
      });
    }
  }

  /** Waits until one request of `tokens` tokens may be sent under both limits. */
  async acquire(key: string, tokens: number, signal?: AbortSignal): Promise<void> {
    if (this.#requests) await take(this.#requests, key, 1, signal);
    // A single request larger than the whole budget could never pass; let it through alone.
    if (this.#tokens)
      await take(this.#tokens, key, Math.min(Math.max(1, tokens), this.#tokensPerMinute), signal);
  }
}

async function take(limiter: RateLimiterRedis, key: string, points: number, signal?: AbortSignal) {
  for (;;) {
    signal?.throwIfAborted();
    try {
      await limiter.consume(key, points);
      return;
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      // Spread the waiters a little so they don't all retry on the same millisecond.
      const wait = error.msBeforeNext + Math.floor(Math.random() * 50);
      await sleep(wait, signal);
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Rough token estimate for a text (about four characters a token for Latin text). */
export function estimateTokens(texts: readonly string[]): number {
  let chars = 0;
  for (const t of texts) chars += t.length;
  return Math.ceil(chars / 4);
}

export interface GuardedModelsOptions {
  limiter?: SharedRateLimiter;
  metrics: Metrics;
  /** Key shared by every process talking to one provider (e.g. its base URL). */
  providerKey: string;
}

/**
 * Wraps a ModelApi so that every call waits for the shared rate limit and is recorded in metrics
 * (calls, latency, tokens, errors by endpoint). Behaviour is otherwise unchanged.
 */
export function guardModels(models: ModelApi, options: GuardedModelsOptions): ModelApi {
  const { limiter, metrics, providerKey } = options;
  async function observe<T>(endpoint: string, tokens: number, run: () => Promise<T>, used: (r: T) => number) {
    const started = performance.now();
    try {
      const result = await run();
      metrics.modelCall(endpoint, 'ok', (performance.now() - started) / 1000, used(result) || tokens);
      return result;
    } catch (error) {
      const code = (error as { status?: number; name?: string }).status ?? (error as { name?: string }).name;
      metrics.modelCall(endpoint, 'error', (performance.now() - started) / 1000, 0, String(code ?? 'error'));
      throw error;
    }
  }
  return {
    async embeddings(params: EmbeddingsParams, requestOptions?: RequestOptions): Promise<EmbeddingsResult> {
      const tokens = estimateTokens(params.input);
      await limiter?.acquire(providerKey, tokens, requestOptions?.signal);
      return observe(
        'embeddings',
        tokens,
        () => models.embeddings(params, requestOptions),
        (r) => r.usage.totalTokens,
      );
    },
    async rerank(params: RerankParams, requestOptions?: RequestOptions): Promise<RerankResult> {
      const tokens = estimateTokens([params.query, ...params.documents]);
      await limiter?.acquire(providerKey, tokens, requestOptions?.signal);
      return observe(
        'rerank',
        tokens,
        () => models.rerank(params, requestOptions),
        (r) => r.usage.totalTokens,
      );
    },
    async chat(params: ChatParams, requestOptions?: RequestOptions): Promise<ChatResult> {
      const tokens = estimateTokens(params.messages.map((m) => m.content));
      await limiter?.acquire(providerKey, tokens, requestOptions?.signal);
      return observe(
        'chat',
        tokens,
        () => models.chat(params, requestOptions),
        (r) => r.usage.totalTokens,
      );
    },
    async *chatStream(params: ChatParams, requestOptions?: RequestOptions): AsyncIterable<ChatStreamChunk> {
      const tokens = estimateTokens(params.messages.map((m) => m.content));
      await limiter?.acquire(providerKey, tokens, requestOptions?.signal);
      const started = performance.now();
      let used = 0;
      try {
        for await (const chunk of models.chatStream(params, requestOptions)) {
          if (chunk.usage) used = chunk.usage.totalTokens;
          yield chunk;
        }
        metrics.modelCall('chat', 'ok', (performance.now() - started) / 1000, used || tokens);
      } catch (error) {
        metrics.modelCall('chat', 'error', (performance.now() - started) / 1000, 0, 'stream');
        throw error;
      }
    },
  };
}
