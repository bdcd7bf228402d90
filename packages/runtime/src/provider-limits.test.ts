import { BuiltinModels, type ModelApi } from '@quire/api-client';
import { cleanupPrefix, getTestRedis, type TestRedis, uniquePrefix } from '@quire/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from './metrics.js';
import { guardModels, SharedRateLimiter } from './provider-limits.js';

let redis: TestRedis;
let a: Redis;
let b: Redis;

beforeAll(async () => {
  redis = await getTestRedis();
  a = new Redis(redis.url);
  b = new Redis(redis.url);
});
afterAll(async () => {
  a.disconnect();
  b.disconnect();
  await redis.stop();
});

describe('SharedRateLimiter', () => {
  it('shares one budget between processes and spaces requests evenly instead of failing them', async () => {
    const prefix = uniquePrefix('rl');
    // Two limiters on two connections stand for two worker processes; 600/min = one per ~100 ms.
    const first = new SharedRateLimiter(
      a,
      { requestsPerMinute: 600, tokensPerMinute: 0 },
      { keyPrefix: prefix },
    );
    const second = new SharedRateLimiter(
      b,
      { requestsPerMinute: 600, tokensPerMinute: 0 },
      { keyPrefix: prefix },
    );
    const started = performance.now();
    await Promise.all([first, second, first, second, first].map((l) => l.acquire('provider', 1)));
    // Five requests need at least four intervals between them, whoever sends them.
    expect(performance.now() - started).toBeGreaterThanOrEqual(4 * 100);

    // A slow limit: the next caller waits (here: until it gives up).
    const slow = new SharedRateLimiter(
      a,
      { requestsPerMinute: 3, tokensPerMinute: 0 },
      { keyPrefix: prefix },
    );
    await slow.acquire('other', 1);
    const controller = new AbortController();
    const waiting = slow.acquire('other', 1, controller.signal);
    const outcome = await Promise.race([
      waiting.then(() => 'passed'),
      new Promise((r) => setTimeout(r, 300, 'waiting')),
    ]);
    expect(outcome).toBe('waiting');
    controller.abort(new Error('gave up'));
    await expect(waiting).rejects.toThrow('gave up');
    await cleanupPrefix(redis.url, prefix);
  });

  it('counts tokens, and lets a request larger than the whole budget through alone', async () => {
    const prefix = uniquePrefix('rl');
    const limiter = new SharedRateLimiter(
      a,
      { requestsPerMinute: 0, tokensPerMinute: 100 },
      { keyPrefix: prefix },
    );
    await limiter.acquire('p', 60);
    const controller = new AbortController();
    const blocked = limiter.acquire('p', 60, controller.signal);
    const outcome = await Promise.race([
      blocked.then(() => 'passed'),
      new Promise((r) => setTimeout(r, 300, 'waiting')),
    ]);
    expect(outcome).toBe('waiting');
    controller.abort(new Error('stop'));
    await expect(blocked).rejects.toThrow('stop');
    await cleanupPrefix(redis.url, prefix);
    const fresh = new SharedRateLimiter(
      a,
      { requestsPerMinute: 0, tokensPerMinute: 100 },
      { keyPrefix: uniquePrefix('rl') },
    );
    await expect(fresh.acquire('p', 5_000)).resolves.toBeUndefined();
  });
});

describe('SharedRateLimiter.charge', () => {
  it('makes later requests wait for tokens a request used beyond its estimate', async () => {
    const prefix = uniquePrefix('rl');
    const limiter = new SharedRateLimiter(
      a,
      { requestsPerMinute: 0, tokensPerMinute: 6_000 },
      { keyPrefix: prefix },
    );
    await limiter.acquire('p', 1);
    await limiter.charge('p', 200); // about two seconds' worth at 6,000 tokens a minute
    const controller = new AbortController();
    const next = limiter.acquire('p', 1, controller.signal);
    const outcome = await Promise.race([
      next.then(() => 'passed'),
      new Promise((r) => setTimeout(r, 500, 'waiting')),
    ]);
    expect(outcome).toBe('waiting');
    controller.abort(new Error('stop'));
    await expect(next).rejects.toThrow('stop');
    // Giving the tokens back lets the next request through at once.
    await limiter.charge('p', -10_000);
    await expect(limiter.acquire('p', 1)).resolves.toBeUndefined();
    await cleanupPrefix(redis.url, prefix);
  });
});

describe('guardModels', () => {
  it('records calls, tokens and errors per endpoint', async () => {
    const metrics = createMetrics({ service: 'test', defaultMetrics: false });
    const models = guardModels(new BuiltinModels({ dimension: 32 }), { metrics, providerKey: 'builtin' });
    await models.embeddings({ model: 'm', input: ['one text', 'another text'] });
    await models.rerank({ model: 'r', query: 'text', documents: ['a text', 'b'] });
    await expect(models.rerank({ model: 'r', query: 'q', documents: ['a'], topN: 0 })).rejects.toThrow();
    const text = await metrics.registry.metrics();
    expect(text).toMatch(
      /quire_model_calls_total\{endpoint="embeddings",outcome="ok",code="",service="test"\} 1/,
    );
    expect(text).toMatch(
      /quire_model_calls_total\{endpoint="rerank",outcome="error",code="400",service="test"\} 1/,
    );
    expect(text).toMatch(/quire_model_tokens_total\{endpoint="embeddings",service="test"\} [1-9]/);
  });
});

describe('guardModels with a shared limit', () => {
  /** Embeddings that cost what `usage` says, whatever was estimated. */
  function costing(usage: number): ModelApi {
    const builtin = new BuiltinModels({ dimension: 8 });
    return {
      ...builtin,
      rerank: builtin.rerank.bind(builtin),
      chat: builtin.chat.bind(builtin),
      chatStream: builtin.chatStream.bind(builtin),
      async embeddings(params) {
        const result = await builtin.embeddings(params);
        return { ...result, usage: { promptTokens: usage, totalTokens: usage } };
      },
    };
  }

  async function nextWaits(limiter: SharedRateLimiter): Promise<boolean> {
    const controller = new AbortController();
    const next = limiter.acquire('p', 1, controller.signal);
    const outcome = await Promise.race([
      next.then(() => 'passed'),
      // Well under the 3 s a held budget waits, well over a Redis round trip on a loaded machine.
      new Promise((r) => setTimeout(r, 1_000, 'waiting')),
    ]);
    controller.abort(new Error('stop'));
    await next.catch(() => undefined);
    return outcome === 'waiting';
  }

  it('admits at the caller’s estimate, then corrects the budget with the provider’s count', async () => {
    const metrics = createMetrics({ service: 'test', defaultMetrics: false });
    // 6,000 tokens a minute: 100 a second.
    const limits = { requestsPerMinute: 0, tokensPerMinute: 6_000 };

    // Estimated at 300 tokens (three seconds' worth), cost 10: the difference comes back at once.
    const refunded = uniquePrefix('rl');
    const cheap = new SharedRateLimiter(a, limits, { keyPrefix: refunded });
    const overEstimated = guardModels(costing(10), { limiter: cheap, metrics, providerKey: 'p' });
    await overEstimated.embeddings({ model: 'm', input: ['x'] }, { estimatedTokens: 300 });
    expect(await nextWaits(cheap)).toBe(false);

    // Without the correction the same estimate holds the budget for three seconds.
    const held = uniquePrefix('rl');
    const uncorrected = new SharedRateLimiter(a, limits, { keyPrefix: held });
    await uncorrected.acquire('p', 300);
    expect(await nextWaits(uncorrected)).toBe(true);

    // Estimated at 1 token, cost 300: the next request waits for the other 299.
    const charged = uniquePrefix('rl');
    const dear = new SharedRateLimiter(a, limits, { keyPrefix: charged });
    const underEstimated = guardModels(costing(300), { limiter: dear, metrics, providerKey: 'p' });
    await underEstimated.embeddings({ model: 'm', input: ['x'] }, { estimatedTokens: 1 });
    expect(await nextWaits(dear)).toBe(true);

    for (const prefix of [refunded, held, charged]) await cleanupPrefix(redis.url, prefix);
  });
});
