import { readFileSync, writeFileSync } from 'node:fs';

export interface ProcessMemory {
  /** Resident set size now, in bytes. */
  rssBytes: number;
  /**
   * Peak resident set size (VmHWM), in bytes: since the process started, or since its peak was
   * last reset with `resetPeakRss`.
   */
  peakBytes: number;
}

/**
 * A process's memory from Linux's `/proc/<pid>/status`, or null when it is gone (or there is no
 * /proc). Read synchronously: procfs answers from memory, and the sandbox reads it every few
 * milliseconds per busy child, where an asynchronous read's four file-system round trips cost
 * several times the read.
 */
export function readProcessMemorySync(pid: number): ProcessMemory | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const rss = kilobytes(text, VM_RSS);
  if (rss === null) return null;
  return { rssBytes: rss * 1024, peakBytes: (kilobytes(text, VM_HWM) ?? rss) * 1024 };
}

/** `readProcessMemorySync` as a promise. */
export async function readProcessMemory(pid: number): Promise<ProcessMemory | null> {
  return readProcessMemorySync(pid);
}

/**
 * Resets a process's VmHWM to its current RSS (`echo 5 > /proc/<pid>/clear_refs`), so that the
 * next reading is the peak of one task, spikes between two samples included. False where that is
 * not allowed; the samples alone then give the peak.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

const VM_RSS = /^VmRSS:\s+(\d+) kB/m;
const VM_HWM = /^VmHWM:\s+(\d+) kB/m;

function kilobytes(text: string, field: RegExp): number | null {
  const match = field.exec(text);
  return match?.[1] === undefined ? null : Number(match[1]);
}
