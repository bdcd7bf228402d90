/** Waiting between polls without holding the process up once the user asks it to stop. */
import { setTimeout as delay } from 'node:timers/promises';

/** Waits `ms`; resolves `false` at once when `signal` is (or gets) aborted, `true` otherwise. */
export async function pause(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return false;
  try {
    await delay(ms, undefined, signal ? { signal } : {});
    return true;
  } catch {
    return false;
  }
}
