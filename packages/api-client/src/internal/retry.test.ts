import { describe, expect, it } from 'vitest';
import { recordingLogger } from '../__tests__/fake-fetch.js';
import { ApiAbortError, ApiError, InternalServerError, RateLimitError } from '../errors.js';
import { MAX_RETRY_AFTER_MS, retryDelayMs, sleep, withRetries } from './retry.js';
import { parseRetryAfterMs } from './retry-after.js';

const backoff = { initialDelayMs: 500, maxDelayMs: 8000 };

describe('parseRetryAfterMs', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  const headers = (init: Record<string, string>): Headers => new Headers(init);

  it('prefers retry-after-ms, then retry-after seconds, then an HTTP date', () => {
    expect(parseRetryAfterMs(headers({ 'retry-after-ms': '20', 'retry-after': '5' }), now)).toBe(20);
    expect(parseRetryAfterMs(headers({ 'retry-after': '1.5' }), now)).toBe(1500);
    expect(parseRetryAfterMs(headers({ 'retry-after': 'Wed, 01 Jan 2025 00:00:03 GMT' }), now)).toBe(3000);
    expect(parseRetryAfterMs(headers({ 'retry-after': 'Tue, 31 Dec 2024 23:00:00 GMT' }), now)).toBe(0);
  });

  it('ignores absent, negative or unreadable values', () => {
    expect(parseRetryAfterMs(headers({}), now)).toBeUndefined();
    expect(
      parseRetryAfterMs(headers({ 'retry-after-ms': 'soon', 'retry-after': '-1' }), now),
    ).toBeUndefined();
    expect(parseRetryAfterMs(headers({ 'retry-after-ms': 'x', 'retry-after': '2' }), now)).toBe(2000);
    expect(parseRetryAfterMs(undefined)).toBeUndefined();
  });
});

describe('retryDelayMs', () => {
  it('honours the server delay, capped at 60 s', () => {
    expect(retryDelayMs(new RateLimitError('x', { status: 429, retryAfterMs: 20 }), 0, backoff)).toBe(20);
    expect(retryDelayMs(new RateLimitError('x', { status: 429, retryAfterMs: 600_000 }), 0, backoff)).toBe(
      MAX_RETRY_AFTER_MS,
    );
  });

  it('backs off exponentially from 0.5 s to 8 s with equal jitter', () => {
    const error = new InternalServerError('x', { status: 500 });
    const steps = [0, 1, 2, 3, 4, 5, 6].map((n) => retryDelayMs(error, n, backoff, () => 1));
    expect(steps).toEqual([500, 1000, 2000, 4000, 8000, 8000, 8000]);
    expect(retryDelayMs(error, 0, backoff, () => 0)).toBe(250);
    expect(retryDelayMs(error, 3, backoff, () => 0.5)).toBe(3000);
  });
});

describe('sleep', () => {
  it('ends early with ApiAbortError when aborted', async () => {
    const controller = new AbortController();
    const pending = sleep(60_000, controller.signal);
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(ApiAbortError);
  });
});

describe('withRetries', () => {
  const options = { maxRetries: 2, signal: undefined, endpoint: '/x', initialDelayMs: 1, maxDelayMs: 2 };

  it('retries retryable errors and logs each retry', async () => {
    const logger = recordingLogger();
    let calls = 0;
    const result = await withRetries(
      async () => {
        calls++;
        if (calls < 3) throw new InternalServerError('boom', { status: 503 });
        return 'ok';
      },
      { ...options, logger },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(3);
    expect(logger.entries.filter((entry) => entry.level === 'warn')).toHaveLength(2);
  });

  it('stops after maxRetries and on non-retryable errors', async () => {
    let calls = 0;
    const failing = async (): Promise<never> => {
      calls++;
      throw new InternalServerError('boom', { status: 500 });
    };
    await expect(withRetries(failing, { ...options, logger: undefined })).rejects.toBeInstanceOf(
      InternalServerError,
    );
    expect(calls).toBe(3);
    calls = 0;
    const permanent = async (): Promise<never> => {
      calls++;
      throw new ApiError('bad', { status: 400 });
    };
    await expect(withRetries(permanent, { ...options, logger: undefined })).rejects.toBeInstanceOf(ApiError);
    expect(calls).toBe(1);
  });
});
