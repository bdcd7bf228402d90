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
import type { Metrics } from './metrics.js';

export interface ProviderLimits {
  /** Requests per minute shared by every worker process; 0 = no limit. */
  requestsPerMinute: number;
  /** Tokens per minute shared by every worker process; 0 = no limit. */
  tokensPerMinute: number;
}

/**
 * Generic cell rate algorithm in one atomic script: each admitted request moves the key's
 * "theoretical arrival time" forward by its cost; a request is admitted once that time has come.
 * Requests are thus spaced evenly, with no burst at window edges, and any sliding minute holds at
 * most one request's worth above the limit. Redis's clock is the only clock, so it holds across hosts.
 * Returns 0 when admitted, else the microseconds to wait.
 */
const GCRA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat > now then return tat - now end
redis.call('SET', KEYS[1], string.format('%d', math.floor(now + tonumber(ARGV[1]))), 'PX', ARGV[2])
return 0`;

/**
 * Moves the arrival time by a cost already known (positive: spent beyond the estimate; negative:
 * estimated but not spent), never to before now, without asking to be admitted.
 */
const CHARGE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now)
redis.call('SET', KEYS[1], string.format('%d', math.floor(math.max(now, tat + tonumber(ARGV[1])))), 'PX', ARGV[2])
return 0`;

/** Share of the provider's limit used, leaving room for clock differences and the last request. */
const HEADROOM = 0.98;

/**
 * A provider rate limit shared by all workers through Redis, so that scaling out never turns into
 * a storm of 429s. Callers wait for their turn; nothing fails here.
 */
export class SharedRateLimiter {
  readonly #redis: Redis;
  readonly #keyPrefix: string;
  /** Microseconds per request and per token; 0 = unlimited. */
  readonly #perRequestUs: number;
  readonly #perTokenUs: number;

  constructor(redis: Redis, limits: ProviderLimits, options: { keyPrefix: string }) {
    this.#redis = redis;
    this.#keyPrefix = options.keyPrefix;
    this.#perRequestUs = limits.requestsPerMinute > 0 ? 60e6 / (limits.requestsPerMinute * HEADROOM) : 0;
    this.#perTokenUs = limits.tokensPerMinute > 0 ? 60e6 / (limits.tokensPerMinute * HEADROOM) : 0;
  }

  /** Waits until one request of `tokens` tokens may be sent under both limits. */
  async acquire(key: string, tokens: number, signal?: AbortSignal): Promise<void> {
    if (this.#perRequestUs > 0)
      await this.#take(`${this.#keyPrefix}:rl:req:${key}`, this.#perRequestUs, signal);
    if (this.#perTokenUs > 0) {
      await this.#take(`${this.#keyPrefix}:rl:tok:${key}`, this.#perTokenUs * Math.max(1, tokens), signal);
    }
  }

  /**
   * Corrects the token budget once the provider has said what a request really cost: `tokens`
   * more than acquired makes the next requests wait for them, fewer gives the difference back
   * (never before now). Never waits itself.
   */
  async charge(key: string, tokens: number): Promise<void> {
    if (this.#perTokenUs <= 0 || tokens === 0) return;
    const costUs = this.#perTokenUs * tokens;
    const ttlMs = Math.ceil(Math.abs(costUs) / 1000) + 60_000;
    await this.#redis.eval(CHARGE, 1, `${this.#keyPrefix}:rl:tok:${key}`, costUs, ttlMs);
  }

  async #take(key: string, costUs: number, signal?: AbortSignal): Promise<void> {
    // The key outlives the furthest arrival time it can hold.
    const ttlMs = Math.ceil(costUs / 1000) + 60_000;
    for (;;) {
      signal?.throwIfAborted();
      const waitUs = Number(await this.#redis.eval(GCRA, 1, key, costUs, ttlMs));
      if (waitUs <= 0) return;
      // A little spread so that waiters don't all ask again on the same millisecond.
      await sleep(Math.ceil(waitUs / 1000) + Math.floor(Math.random() * 10), signal);
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
 *
 * A call is admitted at the tokens the caller expects (`estimatedTokens`, e.g. the chunker's
 * counts) or, without them, about four characters a token. The provider's own count, when its
 * answer has usage, then corrects the shared budget: a request that cost more makes the next ones
 * wait, one that cost less gives the difference back. The budget so follows the provider's
 * tokenizer, whatever it is, instead of a guess that would leave part of the limit unused.
 */
export function guardModels(models: ModelApi, options: GuardedModelsOptions): ModelApi {
  const { limiter, metrics, providerKey } = options;
  async function settle(estimated: number, used: number): Promise<void> {
    if (limiter === undefined || used <= 0 || used === estimated) return;
    // A correction that fails (Redis gone for a moment) only leaves the estimate in place; the next
    // acquire reports Redis trouble where it matters.
    await limiter.charge(providerKey, used - estimated).catch(() => undefined);
  }
  async function guarded<T>(
    endpoint: string,
    estimated: number,
    signal: AbortSignal | undefined,
    run: () => Promise<T>,
    used: (r: T) => number,
  ): Promise<T> {
    await limiter?.acquire(providerKey, estimated, signal);
    const started = performance.now();
    let result: T;
    try {
      result = await run();
    } catch (error) {
      const code = (error as { status?: number; name?: string }).status ?? (error as { name?: string }).name;
      metrics.modelCall(endpoint, 'error', (performance.now() - started) / 1000, 0, String(code ?? 'error'));
      throw error;
    }
    const tokens = used(result);
    metrics.modelCall(endpoint, 'ok', (performance.now() - started) / 1000, tokens || estimated);
    // In the background: the answer is in, and a slow Redis must not hold it back.
    void settle(estimated, tokens);
    return result;
  }
  return {
    async embeddings(params: EmbeddingsParams, requestOptions?: RequestOptions): Promise<EmbeddingsResult> {
      return guarded(
        'embeddings',
        requestOptions?.estimatedTokens ?? estimateTokens(params.input),
        requestOptions?.signal,
        () => models.embeddings(params, requestOptions),
        (r) => r.usage.totalTokens,
      );
    },
    async rerank(params: RerankParams, requestOptions?: RequestOptions): Promise<RerankResult> {
      return guarded(
        'rerank',
        requestOptions?.estimatedTokens ?? estimateTokens([params.query, ...params.documents]),
        requestOptions?.signal,
        () => models.rerank(params, requestOptions),
        (r) => r.usage.totalTokens,
      );
    },
    async chat(params: ChatParams, requestOptions?: RequestOptions): Promise<ChatResult> {
      return guarded(
        'chat',
        requestOptions?.estimatedTokens ?? estimateTokens(params.messages.map((m) => m.content)),
        requestOptions?.signal,
        () => models.chat(params, requestOptions),
        (r) => r.usage.totalTokens,
      );
    },
    async *chatStream(params: ChatParams, requestOptions?: RequestOptions): AsyncIterable<ChatStreamChunk> {
      const tokens = requestOptions?.estimatedTokens ?? estimateTokens(params.messages.map((m) => m.content));
      await limiter?.acquire(providerKey, tokens, requestOptions?.signal);
      const started = performance.now();
      let used = 0;
      try {
        for await (const chunk of models.chatStream(params, requestOptions)) {
          if (chunk.usage) used = chunk.usage.totalTokens;
          yield chunk;
        }
      } catch (error) {
        metrics.modelCall('chat', 'error', (performance.now() - started) / 1000, 0, 'stream');
        throw error;
      }
      metrics.modelCall('chat', 'ok', (performance.now() - started) / 1000, used || tokens);
      void settle(tokens, used);
    },
  };
}
