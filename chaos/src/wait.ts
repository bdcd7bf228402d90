import { setTimeout as sleep } from 'node:timers/promises';

/** Polls `predicate` every `intervalMs` until it holds or `timeoutMs` passes; returns whether it held. */
export async function pollUntil(
  predicate: () => boolean | Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number },
): Promise<boolean> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (await predicate()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(options.intervalMs ?? 100);
  }
}

export { sleep };
