import { describe, expect, it } from 'vitest';
import { launcherChain, launchersAlive, readProcStat } from './launcher-watch.js';

/** A /proc of processes given as pid → [ppid, session, start time, comm]. */
function fakeProc(table: Record<number, [number, number, string, string?, string?]>) {
  return (path: string): string => {
    const pid = Number(/^\/proc\/(\d+)\/stat$/.exec(path)?.[1]);
    const row = table[pid];
    if (!row) throw new Error('ENOENT');
    const [ppid, session, start, comm = 'node', state = 'S'] = row;
    // Fields after comm: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime priority nice threads itreal starttime …
    return `${pid} (${comm}) ${state} ${ppid} ${pid} ${session} 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 ${start} 0 0\n`;
  };
}

describe('launcherChain', () => {
  // 1 init ← 100 bash (session leader) ← 200 pnpm ← 300 sh -c ← 400 quire
  const proc = fakeProc({
    1: [0, 1, '1'],
    100: [1, 100, '10', 'bash'],
    200: [100, 100, '20', 'pnpm'],
    300: [200, 100, '30', 'sh'],
    400: [300, 100, '40', 'node (quire) x'],
  });

  it('takes the ancestors up to, not including, the session leader', () => {
    expect(launcherChain(400, proc)).toEqual([
      { pid: 300, startTime: '30' },
      { pid: 200, startTime: '20' },
    ]);
  });

  it('reads a command name holding spaces and parentheses', () => {
    expect(readProcStat(400, proc)).toEqual({ state: 'S', ppid: 300, session: 100, startTime: '40' });
    expect(readProcStat(999, proc)).toBeNull();
  });

  it('has nothing to watch when started from the session leader itself or by init', () => {
    expect(launcherChain(200, proc)).toEqual([]);
    expect(launcherChain(100, proc)).toEqual([]);
  });

  it('sees a launcher gone, or its PID reused by another process', () => {
    const chain = launcherChain(400, proc);
    expect(launchersAlive(chain, proc)).toBe(true);
    const pnpmKilled = fakeProc({ 1: [0, 1, '1'], 300: [1, 100, '30', 'sh'] });
    expect(launchersAlive(chain, pnpmKilled)).toBe(false);
    const reused = fakeProc({ 1: [0, 1, '1'], 200: [1, 100, '99'], 300: [200, 100, '30'] });
    expect(launchersAlive(chain, reused)).toBe(false);
    const zombie = fakeProc({ 1: [0, 1, '1'], 200: [100, 100, '20', 'pnpm', 'Z'], 300: [200, 100, '30'] });
    expect(launchersAlive(chain, zombie)).toBe(false);
  });
});
