import { describe, expect, it } from 'vitest';
import { fakeFetch, json } from './__tests__/fake-fetch.js';
import { ModelClient } from './client.js';
import { parseResetDuration, readRateLimitHeaders } from './rate-limit-headers.js';
import type { RateLimitInfo } from './types.js';

const BASE_URL = 'https://models.test/v1';
const OK = { data: [{ index: 0, embedding: [1, 0] }] };

describe('parseResetDuration', () => {
  it('reads durations as OpenAI writes them, and bare seconds', () => {
    expect(parseResetDuration('17ms')).toBe(17);
    expect(parseResetDuration('1.5s')).toBe(1_500);
    expect(parseResetDuration('6m0s')).toBe(360_000);
    expect(parseResetDuration('1h2m3.5s')).toBe(3_723_500);
    expect(parseResetDuration('2m')).toBe(120_000);
    expect(parseResetDuration('20')).toBe(20_000);
  });

  it('gives undefined for what it cannot read', () => {
    for (const text of [null, undefined, '', 'soon', '-1s', '1x', 's', '1.5.2s']) {
      expect(parseResetDuration(text)).toBeUndefined();
    }
  });
});

describe('readRateLimitHeaders', () => {
  it('reads limits, remaining budgets and resets', () => {
    const headers = new Headers({
      'x-ratelimit-limit-requests': '600',
      'x-ratelimit-limit-tokens': '200000',
      'x-ratelimit-remaining-requests': '599',
      'x-ratelimit-remaining-tokens': '199000',
      'x-ratelimit-reset-requests': '100ms',
      'x-ratelimit-reset-tokens': '59.5s',
    });
    expect(readRateLimitHeaders(headers, 200)).toEqual({
      status: 200,
      limitRequests: 600,
      limitTokens: 200_000,
      remainingRequests: 599,
      remainingTokens: 199_000,
      resetRequestsMs: 100,
      resetTokensMs: 59_500,
    });
  });

  it('ignores unreadable values and answers without any', () => {
    expect(readRateLimitHeaders(new Headers({ 'x-request-id': 'r' }), 200)).toBeUndefined();
    expect(
      readRateLimitHeaders(
        new Headers({ 'x-ratelimit-limit-tokens': '-5', 'x-ratelimit-reset-tokens': '?' }),
        200,
      ),
    ).toBeUndefined();
    expect(
      readRateLimitHeaders(
        new Headers({ 'x-ratelimit-limit-tokens': '1e3', 'x-ratelimit-limit-requests': '5' }),
        200,
      ),
    ).toMatchObject({ limitTokens: undefined, limitRequests: 5 });
  });
});

describe('ModelClient onRateLimit', () => {
  it('hands over the headers of every answer that has them, 429s included', async () => {
    const seen: RateLimitInfo[] = [];
    const { fetch } = fakeFetch(
      () =>
        json({ error: { message: 'Rate limit reached', code: 'rate_limit_exceeded' } }, 429, {
          'retry-after-ms': '1',
          'x-ratelimit-limit-tokens': '1000',
          'x-ratelimit-remaining-tokens': '0',
        }),
      () => json(OK, 200, { 'x-ratelimit-limit-tokens': '1000', 'x-ratelimit-remaining-tokens': '990' }),
      () => json(OK),
    );
    const client = new ModelClient({ baseURL: BASE_URL, fetch });
    const onRateLimit = (info: RateLimitInfo) => {
      seen.push(info);
      throw new Error('a failing listener changes nothing');
    };
    await client.embeddings({ model: 'm', input: ['x'] }, { onRateLimit });
    await client.embeddings({ model: 'm', input: ['x'] }, { onRateLimit });
    expect(seen.map((info) => [info.status, info.limitTokens, info.remainingTokens])).toEqual([
      [429, 1000, 0],
      [200, 1000, 990],
    ]);
  });
});
