import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

// Children started by these helpers must not outlive the test process, even when a test forgets to stop
// them or the run is cut short: an orphaned redis-server or worker would hold ports and files. Test
// runners end their workers with SIGTERM (no 'exit' event by default), hence both hooks.
const live = new Map<ChildProcess, { group: boolean }>();
const dirs = new Set<string>();
let hooked = false;

/** SIGKILLs `child` (and its process group when `group`) if the current process exits or is terminated first. */
export function trackChild(child: ChildProcess, group = false): void {
  live.set(child, { group });
  child.once('exit', () => live.delete(child));
  hook();
}

/** Removes `path` if the current process exits or is terminated before `untrackDir(path)`. */
export function trackDir(path: string): void {
  dirs.add(path);
  hook();
}

export function untrackDir(path: string): void {
  dirs.delete(path);
}

function hook(): void {
  if (!hooked) {
    hooked = true;
    process.once('exit', killAll);
    process.once('SIGTERM', onSigterm);
  }
}

function onSigterm(): void {
  killAll();
  // Our listener replaced the default action; when nobody else handles SIGTERM, restore it and re-raise.
  if (process.listenerCount('SIGTERM') === 0) process.kill(process.pid, 'SIGTERM');
}

function killAll(): void {
  for (const [child, { group }] of live) {
    if (child.pid === undefined) continue;
    try {
      process.kill(group ? -child.pid : child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  live.clear();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}
