/** Memory of a running process, from Linux's /proc/<pid>/status (threads included: they share it). */
import { readFileSync } from 'node:fs';

export interface ProcMemory {
  /** Resident set size now, in MiB. */
  rssMb: number;
  /** Peak resident set size so far (VmHWM), in MiB. */
  hwmMb: number;
}

/** The process's memory, or null when it has exited (or /proc is missing). */
export function procMemory(pid: number | 'self'): ProcMemory | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN);
  const rss = kb('VmRSS');
  const hwm = kb('VmHWM');
  if (Number.isNaN(rss) || Number.isNaN(hwm)) return null;
  return { rssMb: rss / 1024, hwmMb: hwm / 1024 };
}

/**
 * Polls a process's VmHWM until it exits; the last reading is its peak RSS (a short-lived process can
 * exit between two polls, so the peak may be read a few milliseconds early).
 */
export class PeakRssWatcher {
  #peakMb = 0;
  readonly #timer: NodeJS.Timeout;

  constructor(pid: number, intervalMs = 5) {
    const poll = () => {
      const memory = procMemory(pid);
      if (memory) this.#peakMb = Math.max(this.#peakMb, memory.hwmMb);
    };
    poll();
    this.#timer = setInterval(poll, intervalMs);
  }

  stop(): number {
    clearInterval(this.#timer);
    return this.#peakMb;
  }
}

/** CPU seconds (user + system, every thread) a process has used so far, or null when it has exited. */
export function procCpuSeconds(pid: number): number | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  // Linux reports these in clock ticks of USER_HZ, 100 per second on every mainstream architecture.
  return (utime + stime) / 100;
}
