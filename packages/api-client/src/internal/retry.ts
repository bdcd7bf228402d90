import { ApiAbortError, ApiError } from '../errors.js';
import type { Logger } from '../types.js';

/** Longest wait a server's `retry-after` can impose on us; beyond it the caller is better off failing. */
export const MAX_RETRY_AFTER_MS = 60_000;

export interface BackoffOptions {
  /** First backoff step in ms; doubles on each retry. */
  initialDelayMs: number;
  /** Largest backoff step in ms. */
  maxDelayMs: number;
}

/**
 * How long to wait before retry number `retriesSoFar + 1`: the server's `retry-after` when it sent
 * one (capped at {@link MAX_RETRY_AFTER_MS}), otherwise exponential backoff with equal jitter —
 * half the step fixed, half random — so that many clients failing together do not return together,
 * yet none retries at once.
 */
export function retryDelayMs(
  error: ApiError,
  retriesSoFar: number,
  backoff: BackoffOptions,
  random: () => number = Math.random,
): number {
  if (error.retryAfterMs !== undefined) return Math.min(error.retryAfterMs, MAX_RETRY_AFTER_MS);
  const step = Math.min(backoff.initialDelayMs * 2 ** retriesSoFar, backoff.maxDelayMs);
  return step / 2 + random() * (step / 2);
}

/** Resolves after `ms`, or rejects with {@link ApiAbortError} as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new ApiAbortError('Request was aborted', { cause: signal.reason }));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new ApiAbortError('Request was aborted while waiting to retry', { cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface RetryOptions extends BackoffOptions {
  maxRetries: number;
  signal: AbortSignal | undefined;
  logger: Logger | undefined;
  endpoint: string;
}

/**
 * Runs `attempt` until it succeeds, fails with a non-retryable error, or `maxRetries` retries are
 * spent. Only {@link ApiError}s with `retryable` set are retried; the wait between attempts is
 * {@link retryDelayMs} and ends early (with {@link ApiAbortError}) when the caller aborts.
 */
export async function withRetries<T>(
  attempt: (attemptNumber: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  for (let retries = 0; ; retries++) {
    try {
      return await attempt(retries + 1);
    } catch (error) {
      if (!(error instanceof ApiError) || !error.retryable || retries >= options.maxRetries) throw error;
      const delayMs = Math.round(retryDelayMs(error, retries, options));
      options.logger?.warn(
        {
          endpoint: options.endpoint,
          attempt: retries + 1,
          maxRetries: options.maxRetries,
          delayMs,
          error: error.name,
          status: error.status,
          code: error.code,
          requestId: error.requestId,
          reason: error.message,
        },
        'model API request failed, retrying',
      );
      await sleep(delayMs, options.signal);
    }
  }
}
