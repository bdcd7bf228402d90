import type { Logger } from 'pino';

export interface ShutdownManagerOptions {
  logger: Logger;
  /** Deadline for all handlers together, in ms; past it the process exits with code 1. Default 30,000. */
  graceMs?: number;
  /** Called to end the process (tests replace it). Default `process.exit`. */
  exit?: (code: number) => void;
}

type Handler = () => Promise<void> | void;

/**
 * One shutdown manager per process: named handlers run together on SIGTERM/SIGINT, bounded by a
 * deadline. Handlers run in registration groups: workers first (stop taking jobs, finish in-flight
 * ones), then connections, so nothing closes under a running job.
 */
export class ShutdownManager {
  readonly #logger: Logger;
  readonly #graceMs: number;
  readonly #exit: (code: number) => void;
  readonly #phases = new Map<number, { name: string; handler: Handler }[]>();
  #started: Promise<void> | undefined;

  constructor(options: ShutdownManagerOptions) {
    this.#logger = options.logger;
    this.#graceMs = options.graceMs ?? 30_000;
    this.#exit = options.exit ?? ((code) => process.exit(code));
  }

  /** Phase 0 runs first (workers and servers), then 1 (connections), then 2 (anything else). */
  register(name: string, handler: Handler, phase: 0 | 1 | 2 = 0): void {
    const list = this.#phases.get(phase) ?? [];
    list.push({ name, handler });
    this.#phases.set(phase, list);
  }

  /**
   * Shuts down on these signals, and when the process that launched this one with an IPC channel
   * (`quire dev`) is gone: the channel closes however the launcher ended, SIGKILL included, so a
   * killed launcher never leaves its services running and holding their port.
   */
  listen(signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT']): void {
    for (const signal of signals) {
      process.once(signal, () => {
        this.#logger.info({ signal }, 'shutdown requested');
        void this.shutdown(0);
      });
    }
    watchLauncher(process, () => {
      this.#logger.warn('the process that launched this one is gone; shutting down');
      void this.shutdown(0);
    });
  }

  get shuttingDown(): boolean {
    return this.#started !== undefined;
  }

  /** Runs every handler once; later calls wait for the first. Exits with `code` (1 if something failed or timed out). */
  shutdown(code = 0): Promise<void> {
    this.#started ??= this.#run(code);
    return this.#started;
  }

  async #run(code: number): Promise<void> {
    let exitCode = code;
    const deadline = setTimeout(() => {
      this.#logger.error({ graceMs: this.#graceMs }, 'shutdown deadline passed; exiting now');
      this.#exit(1);
    }, this.#graceMs);
    deadline.unref();
    for (const phase of [...this.#phases.keys()].sort((a, b) => a - b)) {
      const handlers = this.#phases.get(phase) ?? [];
      const results = await Promise.allSettled(
        handlers.map(async ({ name, handler }) => {
          const started = Date.now();
          await handler();
          this.#logger.debug({ handler: name, ms: Date.now() - started }, 'shutdown handler done');
        }),
      );
      results.forEach((result, i) => {
        if (result.status === 'rejected') {
          exitCode = 1;
          this.#logger.error({ handler: handlers[i]?.name, err: result.reason }, 'shutdown handler failed');
        }
      });
    }
    clearTimeout(deadline);
    this.#logger.info({ code: exitCode }, 'shutdown complete');
    this.#exit(exitCode);
  }
}

/** The part of `process` that {@link watchLauncher} uses. */
export interface LaunchedProcess {
  readonly channel?: { unref(): void } | undefined;
  readonly connected?: boolean;
  once(event: 'disconnect', listener: () => void): unknown;
}

/**
 * Calls `onGone` once when the IPC channel to the launching process closes. Does nothing for a
 * process started without one. The channel does not keep the process alive by itself.
 */
export function watchLauncher(proc: LaunchedProcess, onGone: () => void): void {
  if (proc.channel === undefined || proc.channel === null) return;
  if (proc.connected === false) {
    onGone();
    return;
  }
  proc.once('disconnect', onGone);
  proc.channel.unref();
}

/** The message a service sends its launcher once it serves (see {@link announceReady}). */
export interface ReadyMessage {
  type: 'quire:ready';
  /** Where it listens, for a service that does (the gateway). */
  address?: string;
}

/**
 * Tells the launcher (`quire dev`), over the IPC channel it started this process with, that the
 * process serves: it needs no log line for that, so any LOG_LEVEL works. A no-op without a channel.
 */
export function announceReady(address?: string): void {
  if (typeof process.send !== 'function' || !process.connected) return;
  const message: ReadyMessage = { type: 'quire:ready', ...(address === undefined ? {} : { address }) };
  process.send(message, undefined, {}, () => {});
}
