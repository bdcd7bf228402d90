import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { trackChild } from './child-registry.js';

export interface SpawnProcessOptions {
  /** Variables added to (and overriding) the current environment. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Working directory. Default: the current one. */
  cwd?: string;
  /** Resolve `spawnProcess` only once a stdout or stderr line matches. Default: resolve at once. */
  readyLine?: RegExp;
  /** How long to wait for `readyLine`, in milliseconds. Default `20000`. */
  readyTimeoutMs?: number;
}

export interface OutputLine {
  stream: 'stdout' | 'stderr';
  text: string;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface WaitForLineOptions {
  /** Default `10000` ms. */
  timeoutMs?: number;
  /** Only lines at or after this index of `lines` count (take `lines.length` before an action). Default `0`. */
  since?: number;
  /** Which stream to watch. Default: both. */
  stream?: 'stdout' | 'stderr';
}

export interface SpawnedProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Every output line so far, in arrival order. */
  readonly lines: readonly OutputLine[];
  /** The `readyLine` match, when one was asked for. */
  readonly readyMatch: RegExpMatchArray | undefined;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<ProcessExit>;
  /** Output so far as text, for assertion messages. */
  output(): string;
  /** Resolves with the first matching line's match; rejects on timeout or if the process exits first. */
  waitForLine(pattern: RegExp, options?: WaitForLineOptions): Promise<RegExpMatchArray>;
  /**
   * Sends `signal` (default SIGTERM) to the process group, so wrappers like `tsx` or `pnpm` do not leave
   * their child running, and resolves when the process has exited.
   */
  kill(signal?: NodeJS.Signals): Promise<ProcessExit>;
}

/**
 * Starts a process for an end-to-end test, capturing its output line by line. The process leads its own
 * process group and is SIGKILLed with it if the test process exits first.
 */
export async function spawnProcess(
  command: string,
  args: readonly string[],
  options: SpawnProcessOptions = {},
): Promise<SpawnedProcess> {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });

  const started = new Promise<number>((resolve, reject) => {
    child.once('spawn', () => resolve(child.pid!));
    child.once('error', (error) => reject(new Error(`could not start ${command}: ${error.message}`)));
  });
  const pid = await started;
  trackChild(child, true);

  const lines: OutputLine[] = [];
  const listeners = new Set<() => void>();
  let exit: ProcessExit | undefined;
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once('exit', (code, signal) => {
      // Lines still buffered in the pipes arrive after 'exit'; 'close' waits for them.
      child.once('close', () => {
        exit = { code, signal };
        for (const listener of listeners) listener();
        resolve(exit);
      });
    });
  });

  for (const stream of ['stdout', 'stderr'] as const) {
    const source = child[stream];
    if (source === null) continue;
    createInterface({ input: source, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (text) => {
      lines.push({ stream, text });
      for (const listener of listeners) listener();
    });
  }

  const output = () => lines.map((line) => `[${line.stream}] ${line.text}`).join('\n');

  const waitForLine = (pattern: RegExp, waitOptions: WaitForLineOptions = {}): Promise<RegExpMatchArray> => {
    const timeoutMs = waitOptions.timeoutMs ?? 10_000;
    let next = waitOptions.since ?? 0;
    return new Promise((resolve, reject) => {
      const check = () => {
        for (; next < lines.length; next += 1) {
          const line = lines[next]!;
          if (waitOptions.stream !== undefined && line.stream !== waitOptions.stream) continue;
          const match = line.text.match(pattern);
          if (match !== null) {
            finish();
            resolve(match);
            return;
          }
        }
        if (exit !== undefined) {
          finish();
          reject(
            new Error(
              `${command} exited (code ${exit.code}, signal ${exit.signal}) before printing ${pattern}:\n${output()}`,
            ),
          );
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`${command} did not print ${pattern} within ${timeoutMs} ms:\n${output()}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });
  };

  const kill = (signal: NodeJS.Signals = 'SIGTERM'): Promise<ProcessExit> => {
    if (exit === undefined) {
      try {
        process.kill(-pid, signal);
      } catch {
        // The group is already gone; `exited` settles on its own.
      }
    }
    return exited;
  };

  let readyMatch: RegExpMatchArray | undefined;
  if (options.readyLine !== undefined) {
    try {
      readyMatch = await waitForLine(options.readyLine, { timeoutMs: options.readyTimeoutMs ?? 20_000 });
    } catch (error) {
      await kill('SIGKILL');
      throw error;
    }
  }

  return {
    child,
    pid,
    lines,
    readyMatch,
    exited,
    output,
    waitForLine,
    kill,
  };
}
