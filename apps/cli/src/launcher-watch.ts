/**
 * Notices when the processes that launched the CLI are gone. `pnpm quire dev` runs the CLI under
 * `sh -c` under pnpm: killing pnpm by its PID (even with SIGKILL) leaves the shell and the CLI
 * running, and with them the services and their port. The CLI watches its launchers instead: the
 * chain of ancestors up to, not including, the session leader (the interactive shell or the
 * terminal's process, whose end brings SIGHUP anyway) or PID 1. A CLI started straight from a
 * shell, by a service manager or under `setsid`/`nohup … &` from an exiting shell has no launcher
 * to watch and keeps running.
 */
import { readFileSync } from 'node:fs';

/** One ancestor, identified by PID and start time (a PID alone can be reused). */
export interface Launcher {
  pid: number;
  startTime: string;
}

interface ProcStat {
  /** Z (zombie) or X (dead): ended, waiting for its own parent to collect it. */
  state: string;
  ppid: number;
  session: number;
  startTime: string;
}

/** Fields of /proc/<pid>/stat, or null when the process does not exist (or /proc is not there). */
export function readProcStat(pid: number, read: (path: string) => string = readText): ProcStat | null {
  let text: string;
  try {
    text = read(`/proc/${pid}/stat`);
  } catch {
    return null;
  }
  // "pid (comm) state ppid pgrp session …": comm may hold spaces and parentheses, so split after the last ")".
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0] ?? '';
  const ppid = Number(fields[1]);
  const session = Number(fields[3]);
  const startTime = fields[19];
  if (!Number.isInteger(ppid) || !Number.isInteger(session) || startTime === undefined) return null;
  return { state, ppid, session, startTime };
}

function readText(path: string): string {
  return readFileSync(path, 'utf8');
}

/** The launchers of the process `pid` (its parent first), as described above. Empty without /proc. */
export function launcherChain(
  pid: number,
  read: (path: string) => string = readText,
  maxDepth = 16,
): Launcher[] {
  const chain: Launcher[] = [];
  let current = readProcStat(pid, read);
  while (current !== null && chain.length < maxDepth) {
    const parentPid = current.ppid;
    if (parentPid <= 1) break;
    const parent = readProcStat(parentPid, read);
    if (parent === null || parent.session === parentPid) break;
    chain.push({ pid: parentPid, startTime: parent.startTime });
    current = parent;
  }
  return chain;
}

/** Whether every launcher still runs (the same process: same PID and start time). */
export function launchersAlive(
  chain: readonly Launcher[],
  read: (path: string) => string = readText,
): boolean {
  // A zombie has ended too: a killed pnpm stays one until its own parent collects it.
  return chain.every((launcher) => {
    const stat = readProcStat(launcher.pid, read);
    return stat !== null && stat.startTime === launcher.startTime && stat.state !== 'Z' && stat.state !== 'X';
  });
}

export interface WatchLaunchersOptions {
  /** How often to look, in ms. Default 1,000. */
  intervalMs?: number;
}

/**
 * Calls `onGone` once when one of this process's launchers has ended. Returns a function that stops
 * watching. Without /proc (not Linux), it watches the parent PID alone.
 */
export function watchLaunchers(onGone: () => void, options: WatchLaunchersOptions = {}): () => void {
  const chain = launcherChain(process.pid);
  const parent = process.ppid;
  const procAvailable = readProcStat(process.pid) !== null;
  if (procAvailable && chain.length === 0) return () => {};
  const alive = procAvailable ? () => launchersAlive(chain) : () => pidExists(parent);
  const timer = setInterval(() => {
    if (alive()) return;
    clearInterval(timer);
    onGone();
  }, options.intervalMs ?? 1_000);
  timer.unref();
  return () => clearInterval(timer);
}

function pidExists(pid: number): boolean {
  if (pid <= 1) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
