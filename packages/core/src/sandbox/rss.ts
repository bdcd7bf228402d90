import { readFile, writeFile } from 'node:fs/promises';

export interface ProcessMemory {
  /** Resident set size now, in bytes. */
  rssBytes: number;
  /**
   * Peak resident set size (VmHWM), in bytes: since the process started, or since its peak was
   * last reset with `resetPeakRss`.
   */
  peakBytes: number;
}

/** A process's memory from Linux's `/proc/<pid>/status`, or null when it is gone (or there is no /proc). */
export async function readProcessMemory(pid: number): Promise<ProcessMemory | null> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const rss = kilobytes(text, 'VmRSS');
  if (rss === null) return null;
  return { rssBytes: rss * 1024, peakBytes: (kilobytes(text, 'VmHWM') ?? rss) * 1024 };
}

/**
 * Resets a process's VmHWM to its current RSS (`echo 5 > /proc/<pid>/clear_refs`), so that the
 * next reading is the peak of one task, spikes between two samples included. False where that is
 * not allowed; the samples alone then give the peak.
 */
export async function resetPeakRss(pid: number): Promise<boolean> {
  try {
    await writeFile(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

function kilobytes(text: string, field: string): number | null {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return match?.[1] === undefined ? null : Number(match[1]);
}
