import { describe, expect, it } from 'vitest';
import { formatResetDuration, RATE_WINDOW_MS, SlidingWindowLimiter } from './rate-limiter.js';

function clock(start = 1_000_000) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('SlidingWindowLimiter', () => {
  it('admits up to requestsPerMinute and names the moment the oldest request leaves the window', () => {
    const time = clock();
    const limiter = new SlidingWindowLimiter(time.now);
    expect(limiter.take({ requestsPerMinute: 2 }, 0)).toEqual({ admitted: true });
    time.advance(10_000);
    expect(limiter.take({ requestsPerMinute: 2 }, 0)).toEqual({ admitted: true });
    time.advance(5_000);
    expect(limiter.take({ requestsPerMinute: 2 }, 0)).toEqual({
      admitted: false,
      limit: 'requests',
      retryAfterMs: RATE_WINDOW_MS - 15_000,
      used: 2,
      max: 2,
    });
    time.advance(RATE_WINDOW_MS - 15_000);
    expect(limiter.take({ requestsPerMinute: 2 }, 0)).toEqual({ admitted: true });
    expect(limiter.usage().requests).toBe(2);
  });

  it('refuses a request whose tokens overflow the window until enough tokens expire', () => {
    const time = clock();
    const limiter = new SlidingWindowLimiter(time.now);
    expect(limiter.take({ tokensPerMinute: 100 }, 60).admitted).toBe(true);
    time.advance(1_000);
    expect(limiter.take({ tokensPerMinute: 100 }, 30).admitted).toBe(true);
    time.advance(1_000);
    const refused = limiter.take({ tokensPerMinute: 100 }, 20);
    expect(refused).toMatchObject({ admitted: false, limit: 'tokens', used: 90, max: 100 });
    // Only the first entry (60 tokens, taken 2 s ago) has to leave.
    expect(refused.admitted === false && refused.retryAfterMs).toBe(RATE_WINDOW_MS - 2_000);
    expect(limiter.take({ tokensPerMinute: 100 }, 10).admitted).toBe(true);
    expect(limiter.usage()).toMatchObject({ requests: 3, tokens: 100 });
  });

  it('asks a request larger than the whole budget to wait a full window', () => {
    const limiter = new SlidingWindowLimiter(() => 0);
    const refused = limiter.take({ tokensPerMinute: 10 }, 11);
    expect(refused).toMatchObject({ admitted: false, limit: 'tokens', retryAfterMs: RATE_WINDOW_MS });
  });

  it('reports the longer wait when both limits refuse, and does not record refused requests', () => {
    const time = clock();
    const limiter = new SlidingWindowLimiter(time.now);
    const limits = { requestsPerMinute: 1, tokensPerMinute: 10 };
    expect(limiter.take(limits, 10).admitted).toBe(true);
    time.advance(30_000);
    expect(limiter.take(limits, 5)).toMatchObject({ admitted: false, retryAfterMs: 30_000 });
    expect(limiter.usage()).toMatchObject({ requests: 1, tokens: 10 });
    limiter.reset();
    expect(limiter.take(limits, 5).admitted).toBe(true);
  });
});

describe('SlidingWindowLimiter.usage and formatResetDuration', () => {
  it('says when each budget is whole again: the last request holding it leaves the window', () => {
    const time = clock();
    const limiter = new SlidingWindowLimiter(time.now);
    expect(limiter.usage()).toEqual({ requests: 0, tokens: 0, requestsResetMs: 0, tokensResetMs: 0 });
    limiter.take({}, 100);
    time.advance(20_000);
    limiter.take({}, 0);
    time.advance(5_000);
    expect(limiter.usage()).toEqual({
      requests: 2,
      tokens: 100,
      requestsResetMs: RATE_WINDOW_MS - 5_000,
      tokensResetMs: RATE_WINDOW_MS - 25_000,
    });
    time.advance(RATE_WINDOW_MS);
    expect(limiter.usage()).toEqual({ requests: 0, tokens: 0, requestsResetMs: 0, tokensResetMs: 0 });
  });

  it('writes durations as OpenAI does', () => {
    expect(formatResetDuration(0)).toBe('0ms');
    expect(formatResetDuration(250.4)).toBe('250ms');
    expect(formatResetDuration(1_500)).toBe('1.5s');
    expect(formatResetDuration(17_281)).toBe('17.281s');
    expect(formatResetDuration(60_000)).toBe('1m0s');
    expect(formatResetDuration(-5)).toBe('0ms');
  });
});
