/** Provider-style limits over a sliding window of one minute. */
export interface RateLimitOptions {
  /** Requests admitted per rolling 60 s. Default: unlimited. */
  requestsPerMinute?: number;
  /** Tokens (as reported in `usage`) admitted per rolling 60 s. Default: unlimited. */
  tokensPerMinute?: number;
}

export type RateLimitDecision =
  | { admitted: true }
  | {
      admitted: false;
      /** Which limit refused the request. */
      limit: 'requests' | 'tokens';
      /** Milliseconds until a retry would be admitted (at least 1). */
      retryAfterMs: number;
      /** What the window held when refusing, for the error message. */
      used: number;
      max: number;
    };

export const RATE_WINDOW_MS = 60_000;

interface Entry {
  at: number;
  tokens: number;
}

/**
 * A sliding-window log: every admitted request is remembered for 60 s with its tokens. A sliding
 * window (rather than fixed minute buckets) means a client cannot double its rate at a bucket edge,
 * and `Retry-After` can name the exact moment enough budget frees up.
 */
export class SlidingWindowLimiter {
  readonly #entries: Entry[] = [];
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** Admits (and records) a request of `tokens` tokens, or tells when to retry. */
  take(limits: RateLimitOptions, tokens: number): RateLimitDecision {
    const now = this.#now();
    this.#expire(now);
    const entries = this.#entries;

    let retryAfterMs = 0;
    let refusal: { limit: 'requests' | 'tokens'; used: number; max: number } | undefined;

    const rpm = limits.requestsPerMinute;
    if (rpm !== undefined && entries.length + 1 > rpm) {
      // Admission needs the count down to rpm - 1: the oldest (length - rpm + 1) entries must expire.
      const lastToExpire = entries[entries.length - rpm];
      retryAfterMs = lastToExpire === undefined ? RATE_WINDOW_MS : lastToExpire.at + RATE_WINDOW_MS - now;
      refusal = { limit: 'requests', used: entries.length, max: rpm };
    }

    const tpm = limits.tokensPerMinute;
    if (tpm !== undefined) {
      let used = 0;
      for (const entry of entries) used += entry.tokens;
      if (used + tokens > tpm) {
        let wait = RATE_WINDOW_MS;
        if (tokens <= tpm) {
          let remaining = used;
          for (const entry of entries) {
            remaining -= entry.tokens;
            if (remaining + tokens <= tpm) {
              wait = entry.at + RATE_WINDOW_MS - now;
              break;
            }
          }
        }
        if (refusal === undefined || wait > retryAfterMs) {
          retryAfterMs = wait;
          refusal = { limit: 'tokens', used, max: tpm };
        }
      }
    }

    if (refusal !== undefined)
      return { admitted: false, retryAfterMs: Math.max(1, retryAfterMs), ...refusal };
    entries.push({ at: now, tokens });
    return { admitted: true };
  }

  /**
   * Requests and tokens inside the current window, and the milliseconds until each budget is whole
   * again (the last request holding it leaves the window) — OpenAI's `x-ratelimit-reset-*`.
   */
  usage(): { requests: number; tokens: number; requestsResetMs: number; tokensResetMs: number } {
    const now = this.#now();
    this.#expire(now);
    let tokens = 0;
    let lastWithTokens: Entry | undefined;
    for (const entry of this.#entries) {
      tokens += entry.tokens;
      if (entry.tokens > 0) lastWithTokens = entry;
    }
    const last = this.#entries.at(-1);
    const resetMs = (entry: Entry | undefined) => (entry === undefined ? 0 : entry.at + RATE_WINDOW_MS - now);
    return {
      requests: this.#entries.length,
      tokens,
      requestsResetMs: resetMs(last),
      tokensResetMs: resetMs(lastWithTokens),
    };
  }

  reset(): void {
    this.#entries.length = 0;
  }

  #expire(now: number): void {
    const entries = this.#entries;
    let drop = 0;
    while (drop < entries.length && entries[drop]!.at + RATE_WINDOW_MS <= now) drop += 1;
    if (drop > 0) entries.splice(0, drop);
  }
}

/**
 * A duration as OpenAI writes it in `x-ratelimit-reset-*`: `250ms`, `1.5s`, `6m0s`.
 */
export function formatResetDuration(ms: number): string {
  const whole = Math.max(0, Math.round(ms));
  if (whole < 1000) return `${whole}ms`;
  const minutes = Math.floor(whole / 60_000);
  const seconds = (whole % 60_000) / 1000;
  const secondsText = `${Number(seconds.toFixed(3))}s`;
  return minutes > 0 ? `${minutes}m${secondsText}` : secondsText;
}
