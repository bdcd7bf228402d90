import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { BuiltinModels, type ModelApi, ModelClient } from '@quire/api-client';
import { cleanupPrefix, getTestRedis, startModelServer, type TestRedis, uniquePrefix } from '@quire/testkit';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
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

/** Limiters made here, closed after each test (an unconfigured one subscribes on a connection of its own). */
const limiters: SharedRateLimiter[] = [];
class TestLimiter extends SharedRateLimiter {
  constructor(...args: ConstructorParameters<typeof SharedRateLimiter>) {
    super(...args);
    limiters.push(this);
  }
}
afterEach(async () => {
  await Promise.all(limiters.splice(0).map((limiter) => limiter.close()));
});

/** Whether `acquire` is still waiting after `ms` (then it is given up). */
async function waits(limiter: SharedRateLimiter, tokens: number, ms = 500): Promise<boolean> {
  const controller = new AbortController();
  const next = limiter.acquire('p', tokens, controller.signal);
  const outcome = await Promise.race([
    next.then(() => 'passed'),
    new Promise((r) => setTimeout(r, ms, 'waiting')),
  ]);
  controller.abort(new Error('stop'));
  await next.catch(() => undefined);
  return outcome === 'waiting';
}

describe('SharedRateLimiter', () => {
  it('shares one window between processes: a full window at once, then nothing until it slides', async () => {
    const prefix = uniquePrefix('rl');
    // Two limiters on two connections stand for two worker processes.
    const limits = { requestsPerMinute: 4, tokensPerMinute: 0 };
    const first = new TestLimiter(a, limits, { keyPrefix: prefix });
    const second = new TestLimiter(b, limits, { keyPrefix: prefix });
    // The whole window's budget goes out at once, whoever asks: no spacing, no idle start.
    await Promise.all([first, second, first, second].map((l) => l.acquire('p', 1)));
    expect(await waits(first, 1)).toBe(true);
    expect(await waits(second, 1)).toBe(true);

    const controller = new AbortController();
    const waiting = first.acquire('p', 1, controller.signal);
    controller.abort(new Error('gave up'));
    await expect(waiting).rejects.toThrow('gave up');
    await cleanupPrefix(redis.url, prefix);
  });

  it('admits again once the oldest requests have left the window', async () => {
    const prefix = uniquePrefix('rl');
    const limiter = new TestLimiter(
      a,
      { requestsPerMinute: 2, tokensPerMinute: 0 },
      { keyPrefix: prefix, windowMs: 300 },
    );
    await limiter.acquire('p', 1);
    await limiter.acquire('p', 1);
    // Waits for the window to slide (300 ms), then goes: no deadline here, only the order.
    await expect(limiter.acquire('p', 1)).resolves.toEqual(expect.any(String));
    await cleanupPrefix(redis.url, prefix);
  });

  it('counts tokens, and lets a request larger than the whole budget through alone', async () => {
    const prefix = uniquePrefix('rl');
    const limiter = new TestLimiter(a, { requestsPerMinute: 0, tokensPerMinute: 100 }, { keyPrefix: prefix });
    await limiter.acquire('p', 60);
    await limiter.acquire('p', 40);
    expect(await waits(limiter, 1)).toBe(true);
    await cleanupPrefix(redis.url, prefix);
    const fresh = new TestLimiter(
      a,
      { requestsPerMinute: 0, tokensPerMinute: 100 },
      { keyPrefix: uniquePrefix('rl') },
    );
    await expect(fresh.acquire('p', 5_000)).resolves.toEqual(expect.any(String));
    expect(await waits(fresh, 1)).toBe(true);
  });
});

describe('SharedRateLimiter.acquireParts', () => {
  it('admits as many leading parts as fit what is left of the window, once they hold the minimum', async () => {
    const prefix = uniquePrefix('rl');
    const limiter = new TestLimiter(a, { requestsPerMinute: 0, tokensPerMinute: 100 }, { keyPrefix: prefix });
    // Into an empty window every part goes, whatever their sum.
    expect((await limiter.acquireParts('p', [30, 40], 10)).count).toBe(2);
    // 30 left: three parts of 10 fit, the fourth waits.
    expect((await limiter.acquireParts('p', [10, 10, 10, 10], 15)).count).toBe(3);
    const left = uniquePrefix('rl');
    const other = new TestLimiter(a, { requestsPerMinute: 0, tokensPerMinute: 100 }, { keyPrefix: left });
    await other.acquire('p', 88);
    // 12 left: one part of 10 fits but holds less than the minimum of 15, so it waits.
    const controller = new AbortController();
    const pending = other.acquireParts('p', [10, 10, 10], 15, controller.signal);
    await vi.waitFor(() => expect(other.waiting).toBe(1));
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
    // A minimum of 10 is met by the one part.
    expect((await other.acquireParts('p', [10, 10, 10], 10)).count).toBe(1);
    await cleanupPrefix(redis.url, prefix);
    await cleanupPrefix(redis.url, left);
  });
});

describe('SharedRateLimiter.waiting', () => {
  it('tells how many calls wait for the budget, as they start and stop waiting', async () => {
    const prefix = uniquePrefix('rl');
    const limiter = new TestLimiter(a, { requestsPerMinute: 1, tokensPerMinute: 0 }, { keyPrefix: prefix });
    const seen: number[] = [];
    const remove = limiter.onWaitingChange((waiting) => seen.push(waiting));
    await limiter.acquire('p', 1);
    expect(seen).toEqual([]);
    const controller = new AbortController();
    const waiting = limiter.acquire('p', 1, controller.signal);
    await vi.waitFor(() => expect(limiter.waiting).toBe(1));
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    expect(limiter.waiting).toBe(0);
    expect(seen).toEqual([1, 0]);
    remove();
    await cleanupPrefix(redis.url, prefix);
  });
});

describe('SharedRateLimiter.charge', () => {
  it('sets a request to what the provider counted: more holds the budget, less gives it back', async () => {
    const prefix = uniquePrefix('rl');
    const limiter = new TestLimiter(a, { requestsPerMinute: 0, tokensPerMinute: 100 }, { keyPrefix: prefix });
    const ticket = await limiter.acquire('p', 10);
    await limiter.charge('p', ticket, 100);
    expect(await waits(limiter, 1)).toBe(true);
    await limiter.charge('p', ticket, 5);
    expect(await waits(limiter, 90)).toBe(false);
    // Settling also restarts the request's time in the window at its answer (the provider logged
    // it later than we admitted it), less the margin kept for requests not answered yet: it
    // leaves the window one provider window after its answer.
    const redisNow = async () => {
      const [seconds, micros] = await a.time();
      return Number(seconds) * 1e6 + Number(micros);
    };
    const before = await redisNow();
    await limiter.charge('p', ticket, 5, 200);
    const after = await redisNow();
    const settledAt = Number(await a.zscore(`${prefix}:rl:p:log`, ticket));
    expect(settledAt).toBeGreaterThanOrEqual(before - 200_000 - 500_000);
    expect(settledAt).toBeLessThanOrEqual(after - 200_000 - 500_000);
    // A ticket unknown (or gone from the window) changes nothing.
    await limiter.charge('p', 'no-such-ticket', -1_000);
    expect(await waits(limiter, 10)).toBe(true);

    // The provider said its budget is whole again 59.7 s after its answer: the request leaves the
    // window then, not a whole window after the answer; never later than that, whatever it said,
    // and never sooner than a provider window after it was sent (here 400 ms before its answer).
    const leavesAt = async (answeredMsAgo: number, heldMs: number | undefined, sentMsBeforeAnswer = 400) => {
      const before = await redisNow();
      await limiter.charge('p', ticket, 5, answeredMsAgo, { heldMs, sentMsBeforeAnswer });
      const after = await redisNow();
      const score = Number(await a.zscore(`${prefix}:rl:p:log`, ticket));
      // The log's window is 60.5 s (the provider's minute and the margin).
      return {
        from: before - answeredMsAgo * 1000,
        to: after - answeredMsAgo * 1000,
        at: score + 60_500_000,
      };
    };
    const told = await leavesAt(100, 59_700);
    expect(told.at).toBeGreaterThanOrEqual(told.from + 59_700_000);
    expect(told.at).toBeLessThanOrEqual(told.to + 59_700_000);
    const tooLong = await leavesAt(100, 3_600_000);
    expect(tooLong.at).toBeGreaterThanOrEqual(tooLong.from + 60_000_000);
    expect(tooLong.at).toBeLessThanOrEqual(tooLong.to + 60_000_000);
    const unreadable = await leavesAt(100, Number.NaN);
    expect(unreadable.at).toBeGreaterThanOrEqual(unreadable.from + 60_000_000);
    // A header that cannot be right (the budget whole again at once, or before a provider window
    // has passed since the request was sent): a provider window from the sending.
    for (const heldMs of [0, 30_000]) {
      const tooSoon = await leavesAt(100, heldMs);
      expect(tooSoon.at).toBeGreaterThanOrEqual(tooSoon.from + 59_600_000);
      expect(tooSoon.at).toBeLessThanOrEqual(tooSoon.to + 59_600_000);
    }
    // Without the sending's time the header is not trusted.
    const unsent = await leavesAt(100, 59_700, Number.NaN);
    expect(unsent.at).toBeGreaterThanOrEqual(unsent.from + 60_000_000);
    await cleanupPrefix(redis.url, prefix);
  });
});

describe('SharedRateLimiter.learn', () => {
  it('adopts the limits the provider announces, the lower one when also configured', async () => {
    const prefix = uniquePrefix('rl');
    const unconfigured = new TestLimiter(
      a,
      { requestsPerMinute: 0, tokensPerMinute: 0 },
      { keyPrefix: prefix },
    );
    await unconfigured.acquire('p', 1_000);
    await unconfigured.learn('p', { tokensPerMinute: 1_500 });
    expect(await waits(unconfigured, 400)).toBe(false);
    expect(await waits(unconfigured, 200)).toBe(true);
    // Another process configured lower: it keeps to its own, lower limit.
    const configured = new TestLimiter(
      b,
      { requestsPerMinute: 0, tokensPerMinute: 1_000 },
      { keyPrefix: prefix },
    );
    expect(await waits(configured, 1)).toBe(true);
    await cleanupPrefix(redis.url, prefix);
  });

  it('holds every process back for as long as a 429 asked', async () => {
    const prefix = uniquePrefix('rl');
    const limits = { requestsPerMinute: 0, tokensPerMinute: 0 };
    const first = new TestLimiter(a, limits, { keyPrefix: prefix });
    const second = new TestLimiter(b, limits, { keyPrefix: prefix });
    expect(await waits(second, 1)).toBe(false);
    await first.learn('p', { retryAfterMs: 60_000 });
    expect(await waits(second, 1)).toBe(true);
    await cleanupPrefix(redis.url, prefix);
  });
});

/**
 * Waits until `limiter` admits a request without waiting for Redis (its evals made 200 ms slow
 * meanwhile), and returns that request's ticket.
 */
async function admittedWithoutRedis(limiter: SharedRateLimiter, connection: Redis): Promise<string> {
  const original = connection.eval.bind(connection) as (...args: unknown[]) => Promise<unknown>;
  const slow = vi.spyOn(connection, 'eval').mockImplementation(
    ((...args: unknown[]) =>
      new Promise((resolve, reject) => {
        setTimeout(() => original(...args).then(resolve, reject), 200);
      })) as never,
  );
  try {
    return await vi.waitFor(
      async () => {
        const outcome = await Promise.race([
          limiter.acquire('p', 5),
          new Promise<string>((r) => setTimeout(r, 50, 'waiting')),
        ]);
        if (outcome === 'waiting') throw new Error('admission still waits for Redis');
        return outcome;
      },
      { timeout: 5_000, interval: 20 },
    );
  } finally {
    slow.mockRestore();
  }
}

describe('SharedRateLimiter with no limit known', () => {
  it('lets a request go without waiting for Redis, and logs it beside it', async () => {
    const prefix = uniquePrefix('rl');
    const log = `${prefix}:rl:p:log`;
    const limiter = new TestLimiter(
      a,
      { requestsPerMinute: 0, tokensPerMinute: 0 },
      { keyPrefix: prefix, stateCacheMs: 60_000 },
    );
    // The first request waits for its admission: nothing is known of the shared state yet.
    const first = await limiter.acquire('p', 5);
    expect(await a.zscore(log, first)).not.toBeNull();
    // Once subscribed and told by the state that nothing limits the provider, it does not wait.
    const ticket = await admittedWithoutRedis(limiter, a);
    await vi.waitFor(async () => expect(await a.zscore(log, ticket)).not.toBeNull());
    // A limit learned here applies to the next request at once.
    await limiter.learn('p', { tokensPerMinute: 20 });
    expect(await waits(limiter, 15)).toBe(true);
    await cleanupPrefix(redis.url, prefix);
  });

  it('writes the log entries of requests sent meanwhile together, and all of them on close', async () => {
    const prefix = uniquePrefix('rl');
    const [log, cost] = [`${prefix}:rl:p:log`, `${prefix}:rl:p:cost`];
    const limiter = new TestLimiter(
      a,
      { requestsPerMinute: 0, tokensPerMinute: 0 },
      { keyPrefix: prefix, stateCacheMs: 60_000, logDelayMs: 60_000 },
    );
    await admittedWithoutRedis(limiter, a);
    const evals = vi.spyOn(a, 'eval');
    const tickets = [
      await limiter.acquire('p', 5),
      await limiter.acquire('p', 5),
      await limiter.acquire('p', 5),
    ];
    await Promise.all(tickets.map((ticket) => limiter.charge('p', ticket, 7)));
    // Held: nothing written yet, and nothing sent on its own.
    for (const ticket of tickets) expect(await a.zscore(log, ticket)).toBeNull();
    expect(evals).not.toHaveBeenCalled();
    evals.mockRestore();
    const pipelines = vi.spyOn(a, 'pipeline');
    await limiter.close();
    // All of them in one write.
    expect(pipelines).toHaveBeenCalledTimes(1);
    pipelines.mockRestore();
    for (const ticket of tickets) {
      expect(await a.zscore(log, ticket)).not.toBeNull();
      expect(await a.hget(cost, ticket)).toBe('7');
    }
    await cleanupPrefix(redis.url, prefix);
  });

  it('counts the requests sent meanwhile before a limit it learns is applied', async () => {
    const prefix = uniquePrefix('rl');
    const limiter = new TestLimiter(
      a,
      { requestsPerMinute: 0, tokensPerMinute: 0 },
      { keyPrefix: prefix, stateCacheMs: 60_000, logDelayMs: 60_000 },
    );
    const state = `${prefix}:rl:p:state`;
    // Requests of 5 tokens: those that waited for their admission (written once the helper's slowed
    // writes are through), then one that did not (held).
    await admittedWithoutRedis(limiter, a);
    await new Promise((r) => setTimeout(r, 500));
    const written = Number(await a.hget(state, 'sum'));
    // 30 tokens more go out while nothing limits the provider; their entries are held too.
    for (let i = 0; i < 3; i++) await limiter.acquire('p', 10);
    expect(Number(await a.hget(state, 'sum'))).toBe(written);
    await limiter.learn('p', { tokensPerMinute: written + 35 });
    // The window is full with the held 35: a request of 10 waits (it would fit without them).
    expect(await waits(limiter, 10)).toBe(true);
    expect(Number(await a.hget(state, 'sum'))).toBe(written + 35);
    await cleanupPrefix(redis.url, prefix);
  });

  it('logs the requests sent meanwhile when another process learns a limit or a pause, however full the window', async () => {
    const prefix = uniquePrefix('rl');
    const state = `${prefix}:rl:p:state`;
    const limits = { requestsPerMinute: 0, tokensPerMinute: 0 };
    const here = new TestLimiter(a, limits, { keyPrefix: prefix, stateCacheMs: 60_000, logDelayMs: 60_000 });
    const there = new TestLimiter(b, limits, { keyPrefix: prefix, stateCacheMs: 60_000 });
    await admittedWithoutRedis(here, a);
    await new Promise((r) => setTimeout(r, 500));
    const written = Number(await a.hget(state, 'sum'));
    // 50 tokens go out here, held; then the other process learns a limit the window cannot hold,
    // and a pause.
    await here.acquire('p', 50);
    await there.learn('p', { tokensPerMinute: 2, retryAfterMs: 5_000 });
    // The message makes this process write what it holds: counted, though over the limit.
    await vi.waitFor(async () => expect(Number(await a.hget(state, 'sum'))).toBe(written + 5 + 50), {
      timeout: 2_000,
    });
    await cleanupPrefix(redis.url, prefix);
  });

  it('closes within a second when Redis is gone with entries held', async () => {
    const prefix = uniquePrefix('rl');
    // A way to Redis that can be cut: a TCP relay.
    const sockets = new Set<Socket>();
    const relay = createServer((client) => {
      const upstream = connect(Number(new URL(redis.url).port), new URL(redis.url).hostname);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    // As the workers connect: commands wait for a connection however long it takes.
    const cut = new Redis({
      host: '127.0.0.1',
      port: (relay.address() as AddressInfo).port,
      maxRetriesPerRequest: null,
    });
    cut.on('error', () => undefined);
    try {
      const limiter = new TestLimiter(
        cut,
        { requestsPerMinute: 0, tokensPerMinute: 0 },
        { keyPrefix: prefix, stateCacheMs: 60_000, logDelayMs: 60_000 },
      );
      await admittedWithoutRedis(limiter, cut);
      relay.close();
      for (const socket of sockets) socket.destroy();
      await vi.waitFor(() => expect(cut.status).not.toBe('ready'));
      const started = performance.now();
      await limiter.close();
      expect(performance.now() - started).toBeLessThan(2_000);
    } finally {
      cut.disconnect();
      await cleanupPrefix(redis.url, prefix);
    }
  });

  it('waits again as soon as another process learns a limit or a pause', async () => {
    const prefix = uniquePrefix('rl');
    const limits = { requestsPerMinute: 0, tokensPerMinute: 0 };
    // A look at the state is trusted for a minute: only the message can tell them.
    const here = new TestLimiter(a, limits, { keyPrefix: prefix, stateCacheMs: 60_000 });
    const there = new TestLimiter(b, limits, { keyPrefix: prefix, stateCacheMs: 60_000 });
    await admittedWithoutRedis(here, a);
    await there.learn('p', { retryAfterMs: 60_000 });
    await vi.waitFor(async () => expect(await waits(here, 1, 100)).toBe(true), { timeout: 2_000 });
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
      // Well under the minute a held budget waits, well over a Redis round trip on a loaded machine.
      new Promise((r) => setTimeout(r, 1_000, 'waiting')),
    ]);
    controller.abort(new Error('stop'));
    await next.catch(() => undefined);
    return outcome === 'waiting';
  }

  it('sends an embeddings call in parts that fit what is left of the window, answered in input order', async () => {
    const metrics = createMetrics({ service: 'test', defaultMetrics: false });
    const prefix = uniquePrefix('rl');
    const limiter = new TestLimiter(
      a,
      { requestsPerMinute: 0, tokensPerMinute: 100 },
      { keyPrefix: prefix, windowMs: 500 },
    );
    const sent: string[][] = [];
    const inner = costing(40);
    const recording: ModelApi = {
      ...inner,
      async embeddings(params, options) {
        sent.push([...params.input]);
        return inner.embeddings(params, options);
      },
    };
    const models = guardModels(recording, { limiter, metrics, providerKey: 'p' });
    // 40 tokens left in the window: half of a call estimated at 80 (10 an input) goes now, the
    // rest once the window has slid.
    await limiter.acquire('p', 60);
    const input = ['a one', 'b two', 'c six', 'd ten', 'e off', 'f fly', 'g gap', 'h hop'];
    const result = await models.embeddings({ model: 'm', input }, { estimatedTokens: 80 });
    expect(sent).toEqual([input.slice(0, 4), input.slice(4)]);
    const whole = await new BuiltinModels({ dimension: 8 }).embeddings({ model: 'm', input });
    expect(result.vectors).toEqual(whole.vectors);
    expect(result.dimension).toBe(8);
    expect(result.usage.totalTokens).toBe(80);
    await cleanupPrefix(redis.url, prefix);
  });

  it('admits at the caller’s estimate, then corrects the budget with the provider’s count', async () => {
    const metrics = createMetrics({ service: 'test', defaultMetrics: false });
    // The window holds 300 tokens.
    const limits = { requestsPerMinute: 0, tokensPerMinute: 300 };

    // Estimated at 300 tokens (the whole window), cost 10: the difference comes back at once.
    const refunded = uniquePrefix('rl');
    const cheap = new TestLimiter(a, limits, { keyPrefix: refunded });
    const overEstimated = guardModels(costing(10), { limiter: cheap, metrics, providerKey: 'p' });
    await overEstimated.embeddings({ model: 'm', input: ['x'] }, { estimatedTokens: 300 });
    expect(await nextWaits(cheap)).toBe(false);

    // Without the correction the same estimate holds the budget for the window.
    const held = uniquePrefix('rl');
    const uncorrected = new TestLimiter(a, limits, { keyPrefix: held });
    await uncorrected.acquire('p', 300);
    expect(await nextWaits(uncorrected)).toBe(true);

    // Estimated at 1 token, cost 300: the next request waits for the other 299.
    const charged = uniquePrefix('rl');
    const dear = new TestLimiter(a, limits, { keyPrefix: charged });
    const underEstimated = guardModels(costing(300), { limiter: dear, metrics, providerKey: 'p' });
    await underEstimated.embeddings({ model: 'm', input: ['x'] }, { estimatedTokens: 1 });
    expect(await nextWaits(dear)).toBe(true);

    for (const prefix of [refunded, held, charged]) await cleanupPrefix(redis.url, prefix);
  });

  it('keeps an answered request in the window for as long as the provider said, not a minute from its answer', async () => {
    // The server logs a request once it has computed the answer, then waits 400 ms before sending it.
    const server = await startModelServer({ rateLimit: { tokensPerMinute: 1_000 }, latencyMs: 400 });
    const prefix = uniquePrefix('rl');
    const redisNow = async () => {
      const [seconds, micros] = await a.time();
      return Number(seconds) * 1e6 + Number(micros);
    };
    try {
      const metrics = createMetrics({ service: 'test', defaultMetrics: false });
      const limiter = new TestLimiter(
        a,
        { requestsPerMinute: 0, tokensPerMinute: 1_000 },
        { keyPrefix: prefix },
      );
      const client = new ModelClient({ baseURL: server.url, maxRetries: 0 });
      // Settling runs beside the answer: know when it is done.
      const charge = limiter.charge.bind(limiter);
      const settled = new Promise<void>((resolve) => {
        limiter.charge = async (...args) => {
          await charge(...args);
          resolve();
        };
      });
      const models = guardModels(client, { limiter, metrics, providerKey: 'p' });
      const sentAt = await redisNow();
      await models.embeddings({ model: 'm', input: ['one two three'] }, { estimatedTokens: 3 });
      const answeredAt = await redisNow();
      await settled;
      const [, score] = await a.zrange(`${prefix}:rl:p:log`, 0, 0, 'WITHSCORES');
      const leavesAt = Number(score) + 60_500_000;
      // No sooner than a minute after the request was sent (the provider logged it after that)...
      expect(leavesAt).toBeGreaterThanOrEqual(sentAt + 60_000_000);
      // ...and a minute after the provider logged it, which was the server's latency before its
      // answer, where a minute from the answer would hold the budget that much longer.
      expect(leavesAt).toBeLessThanOrEqual(answeredAt + 60_000_000 - 300_000);
    } finally {
      await server.close();
      await cleanupPrefix(redis.url, prefix);
    }
  });

  it('takes the headers of the answer it settles, not of a failed attempt before it', async () => {
    // A 503 whose headers would let the request go at once, then an answer without any.
    const server = await startModelServer({
      failNext: [
        { status: 503, headers: { 'x-ratelimit-reset-tokens': '1ms', 'x-ratelimit-limit-tokens': '1000' } },
      ],
    });
    const prefix = uniquePrefix('rl');
    try {
      const metrics = createMetrics({ service: 'test', defaultMetrics: false });
      const limiter = new TestLimiter(
        a,
        { requestsPerMinute: 0, tokensPerMinute: 1_000 },
        { keyPrefix: prefix },
      );
      const charge = limiter.charge.bind(limiter);
      const settled = new Promise<void>((resolve) => {
        limiter.charge = async (...args) => {
          await charge(...args);
          resolve();
        };
      });
      const client = new ModelClient({ baseURL: server.url, maxRetries: 1, initialRetryDelay: 400 });
      const models = guardModels(client, { limiter, metrics, providerKey: 'p' });
      await models.embeddings({ model: 'm', input: ['one two three'] }, { estimatedTokens: 3 });
      const [seconds, micros] = await a.time();
      const answeredAt = Number(seconds) * 1e6 + Number(micros);
      await settled;
      expect(server.stats.faults.scripted).toBe(1);
      const [, score] = await a.zrange(`${prefix}:rl:p:log`, 0, 0, 'WITHSCORES');
      // A whole provider window from the answer, as without headers (the retry waited 200–400 ms).
      expect(Number(score) + 60_500_000).toBeGreaterThanOrEqual(answeredAt + 60_000_000 - 50_000);
    } finally {
      await server.close();
      await cleanupPrefix(redis.url, prefix);
    }
  });

  it('learns the provider’s limit from its headers and holds every worker back after its 429', async () => {
    const server = await startModelServer({ rateLimit: { tokensPerMinute: 50 } });
    const prefix = uniquePrefix('rl');
    try {
      const metrics = createMetrics({ service: 'test', defaultMetrics: false });
      const limiter = new TestLimiter(a, { requestsPerMinute: 0, tokensPerMinute: 0 }, { keyPrefix: prefix });
      const client = new ModelClient({ baseURL: server.url, maxRetries: 0 });
      const models = guardModels(client, { limiter, metrics, providerKey: 'p' });
      await models.embeddings({ model: 'm', input: ['one two three'] }, { estimatedTokens: 3 });
      // Learning runs beside the answer: wait until the announced limit is in Redis.
      await vi.waitFor(async () => expect(await a.hget(`${prefix}:rl:p:state`, 'tpm')).toBe('50'));
      expect(await waits(limiter, 48)).toBe(true);

      // The provider lowers its limit: the next request meets a 429, and everyone holds back.
      server.setOptions({ rateLimit: { tokensPerMinute: 3 } });
      await expect(models.embeddings({ model: 'm', input: ['four'] })).rejects.toMatchObject({ status: 429 });
      const other = new TestLimiter(b, { requestsPerMinute: 0, tokensPerMinute: 0 }, { keyPrefix: prefix });
      expect(await waits(other, 1)).toBe(true);
    } finally {
      await server.close();
      await cleanupPrefix(redis.url, prefix);
    }
  });
});
