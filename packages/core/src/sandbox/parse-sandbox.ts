import { type ChildProcess, fork } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { DocumentError, QuireError, type QuireErrorCode } from '../errors.js';
import { moduleFile, typeScriptLoader } from '../module-files.js';
import type { SandboxMessage, SandboxRequest } from './protocol.js';
import { readProcessMemory, readProcessMemorySync, resetPeakRss } from './rss.js';
import {
  checkSandboxKindPolicy,
  type SandboxKindPolicy,
  sandboxKindPolicy,
  sandboxTaskModule,
} from './task-kinds.js';

const CHILD_SCRIPT = fileURLToPath(moduleFile('./child', import.meta.url));
const MIB = 2 ** 20;

/** What a child may send: checked before the parent acts on it. */
const SandboxMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('done'), id: z.number().int(), value: z.unknown() }),
  z.object({
    type: z.literal('failed'),
    id: z.number().int(),
    code: z.string(),
    reason: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
  z.object({ type: z.literal('error'), id: z.number().int(), message: z.string() }),
]);

/** Why a parse was stopped from outside. */
export type SandboxKillReason = 'memory' | 'timeout' | 'abort' | 'crash';

/** Why a child process ended. */
export type SandboxExitReason = SandboxKillReason | 'recycled' | 'idle' | 'closed';

export interface ParseFinishedEvent {
  kind: string;
  /** `ok`; `failed`: the task found the document unreadable; `killed`: stopped from outside. */
  outcome: 'ok' | 'failed' | 'killed';
  /** The `DocumentError` code of a failed or killed parse. */
  code?: string;
  killReason?: SandboxKillReason;
  /** Peak RSS of the child process during the parse, in bytes (0 when it could not be read). */
  peakRssBytes: number;
  seconds: number;
}

/** Hooks for metrics; every one is optional and must not throw. */
export interface ParseSandboxObserver {
  parseFinished?(event: ParseFinishedEvent): void;
  /** A child process ended; `memory`, `timeout`, `abort`, `crash` and `recycled` mean it will be replaced. */
  childExited?(event: { reason: SandboxExitReason }): void;
}

export interface ParseSandboxOptions {
  /**
   * Child processes alive at once; each runs one task at a time and further tasks wait. Size the
   * pool so that `size × maxMemoryMb` (plus the calling process) fits the container's memory
   * limit. Default `min(2, os.availableParallelism())`.
   */
  size?: number;
  /** Tasks a child runs before a fresh one takes its place. Default 200. */
  maxTasksPerChild?: number;
  /**
   * A child left with more RSS than this after a task is replaced, so that one large document does
   * not keep its memory while the child idles. In MiB. Default: half the task's memory cap. A kind
   * registered with a `recycleRssShare` of its own (OCR) follows that instead.
   */
  recycleRssMb?: number;
  /**
   * Recycling per task kind, over what the kind was registered with (`registerSandboxTask`), e.g.
   * `{ ocr: { recycleRssShare: 0.5 } }` to replace an OCR child that keeps its engine.
   */
  kinds?: Record<string, SandboxKindPolicy>;
  /** A child left idle this long is stopped, in milliseconds. Default 30,000 (30 s). */
  idleTimeoutMs?: number;
  /**
   * How often a busy child's RSS is read, in milliseconds. A parse growing by 40 MiB/s overshoots
   * the cap by ~1 MiB between two samples at 25 ms. Default 25.
   */
  sampleIntervalMs?: number;
  /** A child that has not started within this time fails its task, in milliseconds. Default 30,000. */
  startTimeoutMs?: number;
  observer?: ParseSandboxObserver;
}

/** One task to run in a child. */
export interface SandboxTask {
  /** A registered task kind (`pdf`, `docx`, `html`, or one added with `registerSandboxTask`). */
  kind: string;
  /** The document's name, for error messages. */
  name: string;
  /** The task's input; it must survive structured cloning (byte arrays do). */
  input: unknown;
  /** Wall-clock limit of the task once a child has taken it, in milliseconds. */
  timeoutMs: number;
  /** RSS cap of the child while it runs the task, in MiB. */
  maxMemoryMb: number;
  signal?: AbortSignal;
}

export interface ParseSandboxStats {
  /** Child processes alive: busy, idle, starting or being stopped. */
  children: number;
  busy: number;
  /** Tasks waiting for a child. */
  queued: number;
  /** Children started since the sandbox was made. */
  started: number;
  /** Children killed in the middle of a task: memory cap, time limit, abort, crash. */
  killed: number;
  /** Children replaced after `maxTasksPerChild` tasks or past `recycleRssMb` (or their kind's share). */
  recycled: number;
  /**
   * Tasks run again in a fresh child after passing the memory cap in a child that held memory
   * kept from earlier tasks (see `ParseSandbox`).
   */
  retried: number;
}

interface Waiting {
  task: SandboxTask;
  module: string;
  /** Killed once for memory in a child that held memory of earlier tasks: runs in a fresh child. */
  retried: boolean;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  onAbort: () => void;
}

interface Child {
  readonly process: ChildProcess;
  readonly pid: number;
  readonly maxMemoryMb: number;
  ready: boolean;
  tasks: number;
  /** RSS read after its last task, in bytes (0 before any task). */
  heldBytes: number;
  /** The kind of its last task. */
  lastKind: string | undefined;
  /** Its RSS is being read after a task: takes no task until it is known to stay. */
  checking: boolean;
  job: Running | null;
  idleTimer: NodeJS.Timeout | undefined;
  /** Being stopped: takes no more tasks, still counts against the size until it has exited. */
  stopping: boolean;
  exitReason: SandboxExitReason | null;
  startTimer: NodeJS.Timeout | undefined;
}

interface Running {
  waiting: Waiting;
  id: number;
  started: number;
  settled: boolean;
  peakBytes: number;
  /** RSS the child held from earlier tasks when it took this one, in bytes. */
  heldBytes: number;
  timer: NodeJS.Timeout | undefined;
  sampler: NodeJS.Timeout | undefined;
  onAbort: () => void;
}

/** Document failure codes a task may report; anything else becomes `corrupt`. */
const TASK_CODES = new Set<QuireErrorCode>([
  'unsupported_type',
  'encrypted',
  'wrong_password',
  'no_text',
  'needs_ocr',
  'blank_document',
  'garbled_text',
  'unsupported_feature',
  'corrupt',
  'too_large',
  'too_many_pages',
  'too_many_chars',
]);

/**
 * A pool of child processes that parse untrusted files. Each child runs one task at a time; the
 * sandbox reads its RSS every `sampleIntervalMs` and kills it past the task's memory cap
 * (`parse_out_of_memory`), on the time limit (`parse_timeout`) or on the abort signal (rejects
 * with the signal's reason). A killed child is replaced, and children are recycled after
 * `maxTasksPerChild` tasks or when they keep more than `recycleRssMb`, so memory a parse took always
 * goes back to the system. The caller's event loop never runs a parser.
 *
 * A kind that keeps an engine loaded (OCR) is registered with a higher `recycleRssShare`: its child
 * stays while it holds up to that share of the cap, and takes the next task of that kind with the
 * engine loaded. A child only takes a task whose kind accepts what it holds, preferring one that
 * last ran the same kind. A task that passes the cap in a child holding more than `recycleRssMb`
 * from earlier tasks is run once more in a fresh child (its time limit starting again): what counts
 * against the cap is then the document alone, as in a fresh child.
 *
 * An RSS watchdog rather than an address-space limit: V8 and WebAssembly reserve large address
 * ranges they never touch. Each child also gets `--max-old-space-size` at its cap, so a heap that
 * grows faster than the samples still ends in `parse_out_of_memory`.
 *
 * Children start on demand, stop after `idleTimeoutMs` idle and never keep the process alive while
 * idle. A task waits for a free child; its time limit starts when a child takes it.
 */
export class ParseSandbox {
  readonly size: number;
  private readonly maxTasksPerChild: number;
  private readonly recycleRssMb: number | undefined;
  private readonly kindPolicies: Record<string, SandboxKindPolicy>;
  private readonly idleTimeoutMs: number;
  private readonly sampleIntervalMs: number;
  private readonly startTimeoutMs: number;
  private readonly observer: ParseSandboxObserver;
  private readonly children = new Set<Child>();
  private readonly queue: Waiting[] = [];
  private readonly counts = { started: 0, killed: 0, recycled: 0, retried: 0 };
  private nextId = 1;
  private isClosed = false;

  constructor(options: ParseSandboxOptions = {}) {
    this.size = checkOption('size', options.size ?? Math.min(2, availableParallelism()), true);
    this.maxTasksPerChild = checkOption('maxTasksPerChild', options.maxTasksPerChild ?? 200, true);
    this.recycleRssMb =
      options.recycleRssMb === undefined
        ? undefined
        : checkOption('recycleRssMb', options.recycleRssMb, false);
    this.kindPolicies = { ...options.kinds };
    for (const [kind, policy] of Object.entries(this.kindPolicies)) checkSandboxKindPolicy(kind, policy);
    this.idleTimeoutMs = checkOption('idleTimeoutMs', options.idleTimeoutMs ?? 30_000, false);
    this.sampleIntervalMs = checkOption('sampleIntervalMs', options.sampleIntervalMs ?? 25, true);
    this.startTimeoutMs = checkOption('startTimeoutMs', options.startTimeoutMs ?? 30_000, true);
    this.observer = options.observer ?? {};
  }

  get closed(): boolean {
    return this.isClosed;
  }

  stats(): ParseSandboxStats {
    let busy = 0;
    for (const child of this.children) if (child.job !== null && !child.stopping) busy++;
    return { children: this.children.size, busy, queued: this.queue.length, ...this.counts };
  }

  /**
   * Starts children for tasks under `maxMemoryMb` now, up to `count` (default: the pool's size)
   * alive, so the first documents do not wait for a process to start (~0.1 s quiet, 0.3–0.5 s on a
   * busy machine). They idle as any child does: stopped after `idleTimeoutMs` without a task.
   * Returns how many were started.
   */
  prestart(maxMemoryMb: number, count = this.size): number {
    checkOption('maxMemoryMb', maxMemoryMb, true);
    let started = 0;
    while (!this.isClosed && this.children.size < Math.min(count, this.size)) {
      this.spawn(maxMemoryMb);
      started++;
    }
    return started;
  }

  /** Process ids of the children alive now (for memory accounting by callers and tests). */
  pids(): number[] {
    return [...this.children].map((child) => child.pid);
  }

  /**
   * Runs one task in a child. Resolves with the task's output; rejects with a `DocumentError`
   * (the task's own codes, `parse_timeout`, `parse_out_of_memory`, or `corrupt` when the child
   * crashed or the task threw), with the signal's reason on abort, or with a plain Error when no
   * child can start or the sandbox is closed.
   */
  run<T = unknown>(task: SandboxTask): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const { signal } = task;
      if (this.isClosed) {
        reject(new Error('the parse sandbox is closed'));
        return;
      }
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      let module: string;
      try {
        module = sandboxTaskModule(task.kind).href;
        checkOption('maxMemoryMb', task.maxMemoryMb, true);
        checkOption('timeoutMs', task.timeoutMs, true);
      } catch (error) {
        reject(error);
        return;
      }
      const waiting: Waiting = {
        task,
        module,
        retried: false,
        resolve: resolve as (value: unknown) => void,
        reject,
        onAbort: () => {
          const index = this.queue.indexOf(waiting);
          if (index >= 0) this.queue.splice(index, 1);
          reject(signal?.reason);
        },
      };
      signal?.addEventListener('abort', waiting.onAbort, { once: true });
      this.queue.push(waiting);
      this.dispatch();
    });
  }

  /** Kills every child; tasks still waiting or running reject. The sandbox takes no more tasks. */
  async close(): Promise<void> {
    this.isClosed = true;
    const error = new Error('the parse sandbox was closed');
    for (const waiting of this.queue.splice(0)) {
      waiting.task.signal?.removeEventListener('abort', waiting.onAbort);
      waiting.reject(error);
    }
    await Promise.all(
      [...this.children].map((child) => {
        const job = child.job;
        if (job !== null) this.settle(child, job, () => job.waiting.reject(error));
        return this.stop(child, 'closed');
      }),
    );
  }

  private dispatch(): void {
    while (!this.isClosed) {
      const next = this.queue[0];
      if (next === undefined) return;
      const child = this.childFor(next);
      if (child === undefined) return;
      this.queue.shift();
      next.task.signal?.removeEventListener('abort', next.onAbort);
      this.assign(child, next);
    }
  }

  /**
   * An idle child with the same cap that holds no more than the task's kind accepts (one that last
   * ran the same kind first), or a new one when there is room; else the task waits.
   */
  private childFor(waiting: Waiting): Child | undefined {
    const { kind, maxMemoryMb } = waiting.task;
    let fits: Child | undefined;
    let spare: Child | undefined;
    let checking = false;
    for (const child of this.children) {
      if (child.job !== null || child.stopping) continue;
      if (child.checking) {
        checking ||= child.maxMemoryMb === maxMemoryMb;
        continue;
      }
      const held = waiting.retried ? child.tasks > 0 : child.heldBytes > this.keepBytes(kind, maxMemoryMb);
      if (child.maxMemoryMb !== maxMemoryMb || held) spare ??= child;
      else if (child.lastKind === kind) return child;
      else fits ??= child;
    }
    if (fits !== undefined) return fits;
    // A child that has just finished a task is free in a moment (or replaced): no new one for now.
    if (checking) return undefined;
    if (this.children.size < this.size) return this.spawn(maxMemoryMb);
    // An idle child with another cap, or holding too much for this task, gives up its place; the
    // task is dispatched again on its exit.
    if (spare !== undefined) {
      if (spare.maxMemoryMb === maxMemoryMb) this.recycle(spare);
      else void this.stop(spare, 'idle');
    }
    return undefined;
  }

  /** What a child may hold after a task of `kind`, and still hold when it takes one, in bytes. */
  private keepBytes(kind: string, maxMemoryMb: number): number {
    const share = this.kindPolicies[kind]?.recycleRssShare ?? sandboxKindPolicy(kind).recycleRssShare;
    if (share !== undefined) return share * maxMemoryMb * MIB;
    return (this.recycleRssMb ?? maxMemoryMb / 2) * MIB;
  }

  /** Tasks a child that last ran `kind` may have run before it is replaced. */
  private maxTasks(kind: string): number {
    return (
      this.kindPolicies[kind]?.maxTasksPerChild ??
      sandboxKindPolicy(kind).maxTasksPerChild ??
      this.maxTasksPerChild
    );
  }

  /**
   * A task that passed the cap is run again when the child held, from earlier tasks, more than a
   * child is kept with by default: the memory that counted against the cap was not all its own.
   */
  private retriesFresh(job: Running): boolean {
    const { maxMemoryMb } = job.waiting.task;
    return !job.waiting.retried && job.heldBytes > (this.recycleRssMb ?? maxMemoryMb / 2) * MIB;
  }

  /** Puts a task killed in a child that held memory of earlier tasks back first in line, for a fresh child. */
  private requeue(waiting: Waiting): void {
    const { signal } = waiting.task;
    if (this.isClosed) {
      waiting.reject(new Error('the parse sandbox was closed'));
      return;
    }
    if (signal?.aborted) {
      waiting.reject(signal.reason);
      return;
    }
    this.counts.retried++;
    waiting.retried = true;
    signal?.addEventListener('abort', waiting.onAbort, { once: true });
    this.queue.unshift(waiting);
    this.dispatch();
  }

  private spawn(maxMemoryMb: number): Child {
    const proc = fork(CHILD_SCRIPT, [], {
      // The caller's flags (an inspector, a loader) are not the child's.
      execArgv: [...typeScriptLoader(), `--max-old-space-size=${maxMemoryMb}`],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
      // Its own process group: a tool a task starts (pdftotext) is in it and is killed with it.
      detached: true,
    });
    const child: Child = {
      process: proc,
      pid: proc.pid ?? -1,
      maxMemoryMb,
      ready: false,
      tasks: 0,
      heldBytes: 0,
      lastKind: undefined,
      checking: false,
      job: null,
      idleTimer: undefined,
      stopping: false,
      exitReason: null,
      startTimer: undefined,
    };
    proc.on('message', (raw: unknown) => this.onMessage(child, raw));
    // An IPC error (the child died mid-message) ends in 'exit' too.
    proc.on('error', () => undefined);
    proc.on('exit', (code, signal) => this.onExit(child, code, signal));
    child.startTimer = setTimeout(() => {
      const job = child.job;
      if (child.ready || job === null) return;
      const error = new Error(`a parse sandbox child did not start within ${this.startTimeoutMs} ms`);
      this.settle(child, job, () => job.waiting.reject(error));
      void this.stop(child, 'crash');
    }, this.startTimeoutMs);
    child.startTimer.unref();
    this.children.add(child);
    this.counts.started++;
    return child;
  }

  private assign(child: Child, waiting: Waiting): void {
    clearTimeout(child.idleTimer);
    child.process.ref();
    child.process.channel?.ref();
    const job: Running = {
      waiting,
      id: this.nextId++,
      started: 0,
      settled: false,
      peakBytes: 0,
      heldBytes: child.heldBytes,
      timer: undefined,
      sampler: undefined,
      onAbort: () => {
        const { signal } = waiting.task;
        this.kill(child, job, 'abort', () => waiting.reject(signal?.reason));
      },
    };
    child.job = job;
    waiting.task.signal?.addEventListener('abort', job.onAbort, { once: true });
    if (child.ready) this.start(child, job);
  }

  private start(child: Child, job: Running): void {
    const { task, module } = job.waiting;
    job.started = performance.now();
    const request: SandboxRequest = { type: 'run', id: job.id, kind: task.kind, module, input: task.input };
    job.timer = setTimeout(() => {
      this.kill(child, job, 'timeout', () =>
        job.waiting.reject(
          this.error(
            task,
            'parse_timeout',
            `parsing took longer than ${formatSeconds(task.timeoutMs)} (limit parseTimeoutMs, QUIRE_PARSE_TIMEOUT_MS)`,
            { limitMs: task.timeoutMs },
          ),
        ),
      );
    }, task.timeoutMs);
    resetPeakRss(child.pid);
    child.process.send(request, (error) => {
      // The channel broke (the child is dying): the task ends as a crash once the child is gone.
      if (error && !job.settled) void this.stop(child, 'crash');
    });
    job.sampler = setInterval(() => this.sample(child, job), this.sampleIntervalMs);
    job.sampler.unref();
    this.sample(child, job);
  }

  /** Reads the busy child's RSS; past the cap, the child is killed. */
  private sample(child: Child, job: Running): void {
    if (job.settled) return;
    const memory = readProcessMemorySync(child.pid);
    if (memory === null || job.settled) return;
    // The first sample, taken as the task is sent, is what the child holds from earlier tasks: it
    // can be more than was read when the last one ended, since a parser may go on allocating after
    // it answered (pdf.js decodes a page's images after handing over its operator list).
    if (job.peakBytes === 0 && child.tasks > 0) job.heldBytes = Math.max(job.heldBytes, memory.rssBytes);
    job.peakBytes = Math.max(job.peakBytes, memory.rssBytes, memory.peakBytes);
    const { task } = job.waiting;
    const capBytes = task.maxMemoryMb * MIB;
    if (Math.max(memory.rssBytes, memory.peakBytes) > capBytes) {
      if (this.retriesFresh(job)) this.killToRetry(child, job);
      else this.kill(child, job, 'memory', () => job.waiting.reject(this.outOfMemory(task)));
    }
  }

  private onMessage(child: Child, raw: unknown): void {
    const parsed = SandboxMessageSchema.safeParse(raw);
    if (!parsed.success) return;
    const message: SandboxMessage = parsed.data as SandboxMessage;
    if (message.type === 'ready') {
      child.ready = true;
      clearTimeout(child.startTimer);
      if (child.job !== null && !child.job.settled) this.start(child, child.job);
      else if (child.job === null) this.idle(child);
      return;
    }
    const job = child.job;
    if (job === null || job.settled || message.id !== job.id) return;
    const { task } = job.waiting;
    switch (message.type) {
      case 'done':
        this.finish(child, job, { outcome: 'ok' }, () => job.waiting.resolve(message.value));
        return;
      case 'failed': {
        const code = TASK_CODES.has(message.code as QuireErrorCode)
          ? (message.code as QuireErrorCode)
          : 'corrupt';
        const error = this.error(task, code, message.reason, message.details);
        this.finish(child, job, { outcome: 'failed', code }, () => job.waiting.reject(error));
        return;
      }
      case 'error': {
        const error = this.error(task, 'corrupt', `could not be read as ${task.kind}: ${message.message}`);
        this.finish(child, job, { outcome: 'failed', code: 'corrupt' }, () => job.waiting.reject(error));
        return;
      }
    }
  }

  private onExit(child: Child, code: number | null, signal: NodeJS.Signals | null): void {
    if (!this.children.has(child)) return;
    this.children.delete(child);
    clearTimeout(child.idleTimer);
    clearTimeout(child.startTimer);
    const job = child.job;
    child.job = null;
    let reason = child.exitReason;
    if (job !== null && !job.settled) {
      const { task } = job.waiting;
      if (!child.ready) {
        reason = 'crash';
        const error = new Error(
          `a parse sandbox child exited before it was ready (${describeExit(code, signal)}): is the installation complete?`,
        );
        this.settle(child, job, () => job.waiting.reject(error));
      } else if (
        child.exitReason !== 'crash' &&
        (signal === 'SIGABRT' || code === 134 || signal === 'SIGKILL')
      ) {
        // V8 aborts when the heap passes --max-old-space-size; a SIGKILL not sent from here is the
        // kernel's OOM killer. Either way: the document needed more memory than allowed.
        reason = 'memory';
        this.counts.killed++;
        if (this.retriesFresh(job)) {
          job.settled = true;
          this.cleanup(child, job);
          this.notifyExit(reason);
          this.requeue(job.waiting);
          return;
        }
        this.settle(child, job, () => job.waiting.reject(this.outOfMemory(task)), 'memory');
      } else {
        reason = 'crash';
        this.counts.killed++;
        const error = this.error(
          task,
          'corrupt',
          `the parser stopped unexpectedly (${describeExit(code, signal)})`,
        );
        this.settle(child, job, () => job.waiting.reject(error), 'crash');
      }
    }
    this.notifyExit(reason ?? 'crash');
    this.dispatch();
  }

  private notifyExit(reason: SandboxExitReason): void {
    try {
      this.observer.childExited?.({ reason });
    } catch {
      // An observer must not break the sandbox.
    }
  }

  /** The task ended inside the child: the child is free again (or recycled). */
  private finish(
    child: Child,
    job: Running,
    result: { outcome: 'ok' | 'failed'; code?: string },
    outcome: () => void,
  ): void {
    const { kind } = job.waiting.task;
    child.job = null;
    child.tasks++;
    child.lastKind = kind;
    this.settle(child, job, outcome, undefined, result);
    if (child.stopping) return;
    if (child.tasks >= this.maxTasks(kind)) {
      this.recycle(child);
      return;
    }
    // A child that kept much of a large document's memory (more than its kind keeps) is replaced.
    child.checking = true;
    void readProcessMemory(child.pid).then((memory) => {
      child.checking = false;
      if (child.stopping || !this.children.has(child)) return;
      child.heldBytes = memory?.rssBytes ?? 0;
      if (child.heldBytes > this.keepBytes(kind, child.maxMemoryMb)) {
        this.recycle(child);
        return;
      }
      this.idle(child);
      this.dispatch();
    });
  }

  /**
   * Kills a child whose task passed the cap while it held memory of earlier tasks; once it is gone
   * the task goes back first in line for a fresh child (no outcome is reported for this attempt).
   */
  private killToRetry(child: Child, job: Running): void {
    this.counts.killed++;
    child.exitReason = 'memory';
    job.settled = true;
    this.cleanup(child, job);
    void this.stop(child, 'memory').then(() => this.requeue(job.waiting));
  }

  private recycle(child: Child): void {
    this.counts.recycled++;
    void this.stop(child, 'recycled');
  }

  private idle(child: Child): void {
    child.process.unref();
    child.process.channel?.unref();
    clearTimeout(child.idleTimer);
    child.idleTimer = setTimeout(() => void this.stop(child, 'idle'), this.idleTimeoutMs);
    child.idleTimer.unref();
  }

  /** Kills the child now, then settles the task with `outcome` once the child is gone. */
  private kill(child: Child, job: Running, reason: SandboxKillReason, outcome: () => void): void {
    if (job.settled) return;
    this.counts.killed++;
    child.exitReason = reason;
    // Settle on exit, so nothing of the task is still running when the caller hears of it.
    job.settled = true;
    this.cleanup(child, job);
    void this.stop(child, reason).then(() => {
      job.settled = false;
      this.settle(child, job, outcome, reason);
    });
  }

  private settle(
    child: Child,
    job: Running,
    outcome: () => void,
    killReason?: SandboxKillReason,
    result?: { outcome: 'ok' | 'failed'; code?: string },
  ): void {
    if (job.settled) return;
    job.settled = true;
    this.cleanup(child, job);
    const event: ParseFinishedEvent = {
      kind: job.waiting.task.kind,
      outcome: killReason === undefined ? (result?.outcome ?? 'failed') : 'killed',
      peakRssBytes: job.peakBytes,
      seconds: job.started === 0 ? 0 : (performance.now() - job.started) / 1000,
    };
    if (killReason !== undefined) {
      event.killReason = killReason;
      if (killReason === 'memory') event.code = 'parse_out_of_memory';
      else if (killReason === 'timeout') event.code = 'parse_timeout';
      else if (killReason === 'crash') event.code = 'corrupt';
    } else if (result?.code !== undefined) event.code = result.code;
    try {
      this.observer.parseFinished?.(event);
    } catch {
      // An observer must not break the sandbox.
    }
    outcome();
  }

  private cleanup(_child: Child, job: Running): void {
    clearTimeout(job.timer);
    clearInterval(job.sampler);
    job.waiting.task.signal?.removeEventListener('abort', job.onAbort);
  }

  /** Stops a child with SIGKILL (it holds nothing worth a graceful end) and waits for its exit. */
  private stop(child: Child, reason: SandboxExitReason): Promise<void> {
    if (!this.children.has(child)) return Promise.resolve();
    if (!child.stopping) {
      child.stopping = true;
      child.exitReason ??= reason;
      clearTimeout(child.idleTimer);
    }
    const exited = new Promise<void>((resolve) => {
      if (child.process.exitCode !== null || child.process.signalCode !== null) resolve();
      else child.process.once('exit', () => resolve());
    });
    // An idle child is unreferenced; a task may be waiting for its exit (to take its place), so the
    // process must live until then.
    child.process.ref();
    killGroup(child.process);
    return exited;
  }

  private outOfMemory(task: SandboxTask): DocumentError {
    return this.error(
      task,
      'parse_out_of_memory',
      `parsing needed more than ${task.maxMemoryMb} MiB of memory (limit parseMaxMemoryMb, QUIRE_PARSE_MAX_MEMORY_MB)`,
      { limitMb: task.maxMemoryMb },
    );
  }

  private error(
    task: SandboxTask,
    code: QuireErrorCode,
    reason: string,
    details?: Record<string, unknown>,
  ): DocumentError {
    return new DocumentError(task.name, code, reason, details === undefined ? {} : { details });
  }
}

let processSandbox: ParseSandbox | undefined;
let processSandboxOptions: ParseSandboxOptions = {};

/**
 * The process-wide sandbox that `loadDocument` uses unless it is given one, made on first use (and
 * made again if it was closed) with the options of `configureDefaultParseSandbox`.
 */
export function defaultParseSandbox(): ParseSandbox {
  if (processSandbox === undefined || processSandbox.closed) {
    processSandbox = new ParseSandbox(processSandboxOptions);
  }
  return processSandbox;
}

/**
 * Sets the options of the process-wide sandbox (a worker does this once at start-up, from its
 * configuration). A sandbox already made is closed; the next load makes one with these options.
 */
export async function configureDefaultParseSandbox(options: ParseSandboxOptions): Promise<ParseSandbox> {
  processSandboxOptions = options;
  const previous = processSandbox;
  processSandbox = new ParseSandbox(options);
  await previous?.close();
  return processSandbox;
}

/**
 * SIGKILL to the child's process group: the child and any tool a task started. Falls back to the
 * child alone when the group is gone already.
 */
function killGroup(proc: ChildProcess): void {
  try {
    if (proc.pid !== undefined) {
      process.kill(-proc.pid, 'SIGKILL');
      return;
    }
  } catch {
    // No such group (the child has exited): kill the child itself below, a no-op if it is gone.
  }
  proc.kill('SIGKILL');
}

function checkOption(name: string, value: number, integer: boolean): number {
  const ok = integer ? Number.isInteger(value) && value > 0 : Number.isFinite(value) && value >= 0;
  if (!ok) {
    const wanted = integer ? 'a positive integer' : 'a finite number ≥ 0';
    throw new QuireError('invalid_input', `ParseSandbox ${name} must be ${wanted}, got ${String(value)}`);
  }
  return value;
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal === null ? `exit code ${code}` : `signal ${signal}`;
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
