import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitForOptions {
  /** Give up after this long, in milliseconds. Default `5000`. */
  timeoutMs?: number;
  /** Pause between two checks, in milliseconds. Default `25`. */
  intervalMs?: number;
  /** Text of the error thrown on timeout. Default `waitFor timed out after <timeoutMs> ms`. */
  message?: string;
}

/**
 * Calls `predicate` until it returns a truthy value (or a promise of one) and resolves to that value.
 * A predicate that throws counts as "not yet"; its last error is attached as the timeout error's cause,
 * so a condition that can never hold explains itself.
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const intervalMs = options.intervalMs ?? 25;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const message = options.message ?? `waitFor timed out after ${timeoutMs} ms`;
      throw lastError === undefined ? new Error(message) : new Error(message, { cause: lastError });
    }
    await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
}
