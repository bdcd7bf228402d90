/** Memory of a process and its descendants, from Linux's /proc, for tests, chaos runs and benchmarks. */
import { readFile } from 'node:fs/promises';

const MIB = 2 ** 20;

async function rssBytes(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

async function childrenOf(pid: number): Promise<number[]> {
  try {
    const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8');
    return text.split(' ').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** RSS of `pid` and of every process below it, in bytes (0 for a process that is gone). */
export async function readTreeRss(
  pid: number,
): Promise<{ totalBytes: number; ownBytes: number; pids: number[] }> {
  const pids = [pid];
  for (let i = 0; i < pids.length; i++) pids.push(...(await childrenOf(pids[i]!)));
  const sizes = await Promise.all(pids.map(rssBytes));
  return { totalBytes: sizes.reduce((a, b) => a + b, 0), ownBytes: sizes[0] ?? 0, pids };
}

/** Samples a process tree's RSS every `intervalMs` (default 20) and keeps the peak of the sum. */
export class TreeRssWatcher {
  peakBytes = 0;
  /** Peak of the descendants' RSS alone (the tree without the root process), in bytes. */
  peakChildrenBytes = 0;
  readonly #timer: NodeJS.Timeout;
  #busy = false;

  constructor(
    readonly pid: number,
    intervalMs = 20,
  ) {
    this.#timer = setInterval(() => void this.#sample(), intervalMs);
  }

  async #sample(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    const { totalBytes, ownBytes } = await readTreeRss(this.pid);
    this.peakBytes = Math.max(this.peakBytes, totalBytes);
    this.peakChildrenBytes = Math.max(this.peakChildrenBytes, totalBytes - ownBytes);
    this.#busy = false;
  }

  get peakMb(): number {
    return this.peakBytes / MIB;
  }

  /** Stops sampling; returns the peak in bytes. */
  stop(): number {
    clearInterval(this.#timer);
    return this.peakBytes;
  }
}
