/** Memory of a running process, from Linux's /proc/<pid>/status (threads included: they share it). */
import { readdirSync, readFileSync } from 'node:fs';

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

/** One process's line of /proc/<pid>/stat, CPU in seconds. */
interface ProcStat {
  pid: number;
  ppid: number;
  /** The program's name (comm), e.g. `node`, `pdftotext`. */
  program: string;
  /** utime + stime: the process's own CPU, every thread. */
  own: number;
  /** cutime + cstime: CPU of its children that have exited and been waited for (and of theirs). */
  reaped: number;
  /** Resident set size, in MiB (4 KiB pages). */
  rssMb: number;
}

function readStat(pid: number | 'self'): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const fields = text.slice(close + 2).split(' ');
  const tick = (i: number) => Number(fields[i]) / 100;
  return {
    pid: Number(text.slice(0, open - 1)),
    ppid: Number(fields[1]),
    program: text.slice(open + 1, close),
    own: tick(11) + tick(12),
    reaped: tick(13) + tick(14),
    rssMb: (Number(fields[21]) * 4096) / 2 ** 20,
  };
}

/** Every live process `roots` lead to (roots included), read from /proc. */
function treeStats(roots: readonly number[]): ProcStat[] {
  const byParent = new Map<number, ProcStat[]>();
  const byPid = new Map<number, ProcStat>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat === null) continue;
    byPid.set(stat.pid, stat);
    const siblings = byParent.get(stat.ppid);
    if (siblings) siblings.push(stat);
    else byParent.set(stat.ppid, [stat]);
  }
  const out: ProcStat[] = [];
  const queue = roots.map((pid) => byPid.get(pid)).filter((s): s is ProcStat => s !== undefined);
  while (queue.length > 0) {
    const stat = queue.pop()!;
    out.push(stat);
    queue.push(...(byParent.get(stat.pid) ?? []));
  }
  return out;
}

/** CPU of a process tree between two readings, split by where it was spent. */
export interface TreeCpu {
  /** Every process of the tree: the roots, their live descendants and the ones that exited. */
  total: number;
  /** The root processes' own CPU (e.g. the worker processes themselves). */
  roots: number;
  /** total − roots: child processes (sandboxes, external programs). */
  children: number;
  /**
   * `children` by program name, from samples: a child that lived less than one sample interval is
   * missed here (it still counts in `children`), under `unsampled`.
   */
  byProgram: Record<string, number>;
  /** Peak of the tree's summed RSS over the samples, in MiB. */
  peakRssMb: number;
}

/**
 * Follows the CPU a process tree uses — the roots, every descendant alive at a sample, and the ones
 * that exited (through their parents' cutime/cstime, which Linux adds when a child is waited for).
 * Exact for the total as long as every process in the tree waits for its children.
 */
export class TreeCpuSampler {
  readonly #roots: readonly number[];
  readonly #start: { total: number; roots: number; programs: Map<number, { program: string; own: number }> };
  /** Last reading of each descendant seen, by pid. */
  readonly #seen = new Map<number, { program: string; own: number }>();
  readonly #timer: NodeJS.Timeout;
  #peakRssMb = 0;

  constructor(roots: readonly number[], intervalMs = 100) {
    this.#roots = roots;
    const first = this.#read();
    this.#start = { total: first.total, roots: first.roots, programs: new Map(this.#seen) };
    this.#timer = setInterval(() => this.#read(), intervalMs);
    this.#timer.unref();
  }

  #read(): { total: number; roots: number } {
    const stats = treeStats(this.#roots);
    let total = 0;
    let roots = 0;
    let rss = 0;
    for (const stat of stats) {
      rss += stat.rssMb;
      total += stat.own + stat.reaped;
      if (this.#roots.includes(stat.pid)) roots += stat.own;
      else this.#seen.set(stat.pid, { program: stat.program, own: stat.own });
    }
    this.#peakRssMb = Math.max(this.#peakRssMb, rss);
    return { total, roots };
  }

  /** CPU since the sampler started; `stop` ends the sampling. */
  read(): TreeCpu {
    const now = this.#read();
    const total = now.total - this.#start.total;
    const roots = now.roots - this.#start.roots;
    const byProgram: Record<string, number> = {};
    for (const [pid, { program, own }] of this.#seen) {
      const before = this.#start.programs.get(pid)?.own ?? 0;
      byProgram[program] = (byProgram[program] ?? 0) + own - before;
    }
    const sampled = Object.values(byProgram).reduce((a, b) => a + b, 0);
    const children = total - roots;
    if (children - sampled > 0.005) byProgram.unsampled = children - sampled;
    return { total, roots, children, byProgram, peakRssMb: this.#peakRssMb };
  }

  stop(): TreeCpu {
    clearInterval(this.#timer);
    return this.read();
  }
}

/**
 * CPU of this process's children that have exited and been waited for (cutime + cstime), in seconds:
 * the difference across a child's life is the whole tree's CPU, after it exited.
 */
export function reapedChildrenCpuSeconds(): number {
  return readStat('self')?.reaped ?? 0;
}

/** The whole tree's CPU so far (roots' own + live descendants' + reaped), or 0 when gone. */
export function treeCpuSeconds(roots: readonly number[]): number {
  return treeStats(roots).reduce((sum, s) => sum + s.own + s.reaped, 0);
}
