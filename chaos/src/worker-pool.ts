/**
 * Ingest worker processes for the scenarios: the built `apps/ingest-worker/dist/main.js`, started as
 * real processes, killed with real signals. Every line they print is kept, so that a scenario can count
 * what the workers reported (stalled jobs, resumed ingestions, Redis errors) after the fact.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type ProcessExit, type SpawnedProcess, spawnProcess } from '@quire/testkit';
import type { Random } from './prng.js';

/** Where the built ingest worker lives (`pnpm turbo run build` makes it). */
export const INGEST_WORKER_MAIN = fileURLToPath(
  new URL('../../apps/ingest-worker/dist/main.js', import.meta.url),
);

export interface WorkerPoolOptions {
  /** Environment of every worker, on top of the current one. */
  env: Readonly<Record<string, string>>;
  /** Worker entry point. Default {@link INGEST_WORKER_MAIN}. */
  main?: string;
  /** How long a worker may take to log that it is ready, in ms. Default 30,000. */
  readyTimeoutMs?: number;
}

export interface WorkerRecord {
  /** 1-based start order, stable across restarts of other workers. */
  serial: number;
  process: SpawnedProcess;
  /** How the process ended, once it has. */
  exit: ProcessExit | undefined;
  /** Set when the pool killed it on purpose. */
  killedWith: NodeJS.Signals | undefined;
}

/** A pino JSON line of a worker, as far as the scenarios read it. */
export interface WorkerLogLine {
  level?: number;
  msg?: string;
  jobId?: string;
  err?: unknown;
  [key: string]: unknown;
}

export class WorkerPool {
  readonly #options: WorkerPoolOptions;
  readonly #all: WorkerRecord[] = [];

  constructor(options: WorkerPoolOptions) {
    const main = options.main ?? INGEST_WORKER_MAIN;
    if (!existsSync(main)) {
      throw new Error(`${main} is missing: build the ingest worker first (pnpm turbo run build)`);
    }
    this.#options = { ...options, main };
  }

  /** Workers still running. */
  get live(): WorkerRecord[] {
    return this.#all.filter((w) => w.exit === undefined);
  }

  /** Every worker started so far, dead or alive. */
  get all(): readonly WorkerRecord[] {
    return this.#all;
  }

  /** Starts one worker and waits until it serves the queue. */
  async spawn(): Promise<WorkerRecord> {
    const child = await spawnProcess(process.execPath, [this.#options.main!], {
      env: { LOG_FORMAT: 'json', LOG_LEVEL: 'info', METRICS_PORT: '0', ...this.#options.env },
      readyLine: /ingest-worker ready/,
      readyTimeoutMs: this.#options.readyTimeoutMs ?? 30_000,
    });
    const record: WorkerRecord = {
      serial: this.#all.length + 1,
      process: child,
      exit: undefined,
      killedWith: undefined,
    };
    this.#all.push(record);
    void child.exited.then((exit) => {
      record.exit = exit;
    });
    return record;
  }

  /** Starts `count` workers side by side. */
  async start(count: number): Promise<void> {
    await Promise.all(Array.from({ length: count }, () => this.spawn()));
  }

  /** Sends `signal` to one worker and waits for it to exit. */
  async kill(record: WorkerRecord, signal: NodeJS.Signals = 'SIGKILL'): Promise<ProcessExit> {
    record.killedWith = signal;
    const exit = await record.process.kill(signal);
    record.exit = exit;
    return exit;
  }

  /** Kills a live worker picked with `random`. */
  async killRandom(random: Random, signal: NodeJS.Signals = 'SIGKILL'): Promise<WorkerRecord> {
    const live = this.live;
    if (live.length === 0) throw new Error('WorkerPool: no live worker to kill');
    const victim = live[Math.floor(random() * live.length)]!;
    await this.kill(victim, signal);
    return victim;
  }

  /** Workers that exited without being told to: a crash the scenario did not cause. */
  get unexpectedExits(): WorkerRecord[] {
    return this.#all.filter((w) => w.exit !== undefined && w.killedWith === undefined);
  }

  /** Every JSON log line of every worker, dead or alive. */
  logLines(): WorkerLogLine[] {
    const lines: WorkerLogLine[] = [];
    for (const worker of this.#all) {
      for (const line of worker.process.lines) {
        if (!line.text.startsWith('{')) continue;
        try {
          lines.push(JSON.parse(line.text) as WorkerLogLine);
        } catch {
          // A line cut by SIGKILL mid-write; nothing to count in it.
        }
      }
    }
    return lines;
  }

  /** How many log lines carry each message. */
  messageCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const line of this.logLines()) {
      if (typeof line.msg === 'string') counts.set(line.msg, (counts.get(line.msg) ?? 0) + 1);
    }
    return counts;
  }

  /** Output of every worker that is not JSON (start-up failures, stack traces), for error messages. */
  rawOutput(): string {
    return this.#all
      .map((w) => `--- worker ${w.serial} (pid ${w.process.pid})\n${w.process.output()}`)
      .join('\n');
  }

  /** SIGTERM every live worker (graceful), SIGKILL those still running after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    await Promise.all(
      this.live.map(async (worker) => {
        const timer = setTimeout(() => void worker.process.kill('SIGKILL'), graceMs);
        try {
          await this.kill(worker, 'SIGTERM');
        } finally {
          clearTimeout(timer);
        }
      }),
    );
  }
}

/** How a worker ended, with its last lines, for a report. */
export function describeExit(worker: WorkerRecord): string {
  const tail = worker.process.lines
    .slice(-3)
    .map((line) => line.text.slice(0, 300))
    .join(' ⏎ ');
  return `worker ${worker.serial} (pid ${worker.process.pid}) exited with code ${worker.exit?.code ?? '–'}, signal ${worker.exit?.signal ?? '–'}: ${tail}`;
}
