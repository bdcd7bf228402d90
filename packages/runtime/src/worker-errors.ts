/**
 * The retry taxonomy of DESIGN.md, in one place for every worker:
 * - permanent (bad input, unreadable document, 4xx from the model API other than 408/409/429)
 *   → `UnrecoverableError`: the job fails at once with the reason;
 * - provider rate limit (429) → the queue is paused for the provider's Retry-After and the job
 *   goes back to waiting without using an attempt (`RateLimitError`);
 * - anything else transient → rethrown, so BullMQ retries with exponential backoff and jitter.
 */
import { UnrecoverableError, Worker } from 'bullmq';

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  retryable?: unknown;
  status?: unknown;
  retryAfterMs?: unknown;
}

export interface MapErrorOptions {
  /** Pauses the whole queue (all workers) for `ms`. Usually `(ms) => worker.rateLimit(ms)`. */
  rateLimit?: (ms: number) => Promise<void>;
  /** Pause used when a 429 carries no Retry-After. Default 5,000 ms. */
  defaultRateLimitMs?: number;
}

export function isRateLimited(error: unknown): boolean {
  const e = error as ErrorLike | null;
  return e !== null && typeof e === 'object' && e.status === 429;
}

export function isPermanent(error: unknown): boolean {
  if (error instanceof UnrecoverableError) return true;
  const e = error as ErrorLike | null;
  return e !== null && typeof e === 'object' && e.retryable === false;
}

/** Turns any error from a processor into what BullMQ should do with the job. */
export async function mapProcessorError(error: unknown, options: MapErrorOptions = {}): Promise<Error> {
  if (isRateLimited(error) && options.rateLimit) {
    const e = error as ErrorLike;
    const ms =
      typeof e.retryAfterMs === 'number' && e.retryAfterMs > 0
        ? e.retryAfterMs
        : (options.defaultRateLimitMs ?? 5_000);
    await options.rateLimit(ms);
    return Worker.RateLimitError();
  }
  if (isPermanent(error)) {
    if (error instanceof UnrecoverableError) return error;
    const message = (error as ErrorLike).message;
    return new UnrecoverableError(typeof message === 'string' ? message : String(error));
  }
  return error instanceof Error ? error : new Error(String(error));
}
