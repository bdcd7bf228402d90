import type { HeaderReader } from './internal/retry-after.js';
import type { RateLimitInfo } from './types.js';

/** A count header: a non-negative integer, else `undefined` (absent or unreadable). */
function count(headers: HeaderReader, name: string): number | undefined {
  const text = headers.get(name)?.trim();
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}

const DURATION =
  /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+(?:\.\d+)?)ms)?$/;

/**
 * A duration as OpenAI writes it in `x-ratelimit-reset-*` (`1h2m3.5s`, `6m0s`, `17ms`, `1.2s`),
 * or a bare number of seconds, in milliseconds; `undefined` when absent or unreadable.
 */
export function parseResetDuration(text: string | null | undefined): number | undefined {
  const value = text?.trim();
  if (value === undefined || value === '') return undefined;
  if (/^\d+(?:\.\d+)?$/.test(value)) return Number(value) * 1000;
  const match = DURATION.exec(value);
  if (match === null) return undefined;
  const [, h, m, s, ms] = match;
  return Number(h ?? 0) * 3_600_000 + Number(m ?? 0) * 60_000 + Number(s ?? 0) * 1000 + Number(ms ?? 0);
}

/**
 * The provider's rate-limit headers (OpenAI's `x-ratelimit-limit-*`, `-remaining-*`, `-reset-*`
 * for `requests` and `tokens`) of an answer, or `undefined` when it sent none that can be read.
 */
export function readRateLimitHeaders(headers: HeaderReader, status: number): RateLimitInfo | undefined {
  const info: RateLimitInfo = {
    status,
    limitRequests: count(headers, 'x-ratelimit-limit-requests'),
    limitTokens: count(headers, 'x-ratelimit-limit-tokens'),
    remainingRequests: count(headers, 'x-ratelimit-remaining-requests'),
    remainingTokens: count(headers, 'x-ratelimit-remaining-tokens'),
    resetRequestsMs: parseResetDuration(headers.get('x-ratelimit-reset-requests')),
    resetTokensMs: parseResetDuration(headers.get('x-ratelimit-reset-tokens')),
  };
  const known = Object.entries(info).some(([name, value]) => name !== 'status' && value !== undefined);
  return known ? info : undefined;
}
