import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { DocumentError, QuireError } from '../errors.js';
import type { PdfPageText } from './pdf-text-quality.js';
import type { PdfParseJob, PdfWorkerMessage } from './pdf-worker-protocol.js';
import type { LoadLimits } from './types.js';

/** The parser thread's script sits next to this module, in `src/` as in `dist/`. */
const DEFAULT_WORKER_URL = new URL('./pdf-worker.mjs', import.meta.url);

export interface PdfParserPoolOptions {
  /**
   * Most parser threads alive at once; each parses one PDF at a time and further loads wait for a
   * free thread. Default `min(2, os.availableParallelism())`.
   */
  size?: number;
  /**
   * A thread left idle this long is closed, in milliseconds. Idle threads never keep the process
   * alive either way. Default 30,000 (30 s).
   */
  idleTimeoutMs?: number;
  /**
   * Documents a thread parses before a fresh thread takes its place: a bound on whatever pdf.js
   * might keep from one document to the next (none was seen over 545 documents in one thread; a
   * restart costs ~0.2 s, so ~0.4 ms a document). Default 500.
   */
  maxDocumentsPerThread?: number;
  /**
   * A thread whose V8 heap (committed) is larger than this after a document is replaced at once, so
   * that one unusual document does not keep its memory while the thread idles. Ordinary documents
   * leave 35–80 MB, a 1,000-page one ~60 MB. In megabytes. Default 160.
   */
  recycleHeapMb?: number;
}

/** One PDF to parse. */
export interface PdfParseRequest {
  bytes: Uint8Array;
  /** The document's name, for error messages. */
  name: string;
  /** `maxPages`, `maxChars`, `pdfTimeoutMs` and `pdfMaxMemoryMb` apply here. */
  limits: LoadLimits;
  /** Passwords to try in order; empty when none was given. */
  passwords: string[];
  signal?: AbortSignal;
  /**
   * Script run as the parser thread. Only tests change it, to stand in a parser that hangs or
   * exhausts its heap and so drive the same timeout and memory-cap paths as a hostile PDF.
   */
  workerUrl?: URL;
}

export interface ParsedPdf {
  pageCount: number;
  title: string | null;
  pages: PdfPageText[];
}

export interface PdfParserPoolStats {
  /** Threads alive: busy, idle or being stopped. */
  threads: number;
  /** Threads parsing a document now. */
  busy: number;
  /** Loads waiting for a thread. */
  queued: number;
  /** Threads started since the pool was made. */
  started: number;
  /** Threads terminated in the middle of a document: timeout, abort, heap cap, crash. */
  killed: number;
  /** Threads replaced after `maxDocumentsPerThread` documents or past `recycleHeapMb`. */
  recycled: number;
}

/** What a thread is made for: its script and its heap cap (`resourceLimits` are set per thread). */
interface ThreadKind {
  key: string;
  url: URL;
  maxMemoryMb: number;
}

interface Waiting {
  request: PdfParseRequest;
  /** The thread's own copy of the bytes, transferred to it. */
  data: Uint8Array;
  kind: ThreadKind;
  resolve: (parsed: ParsedPdf) => void;
  reject: (error: unknown) => void;
  onAbort: () => void;
}

interface ParserThread {
  readonly worker: Worker;
  readonly kind: ThreadKind;
  documents: number;
  job: ParseJob | null;
  idleTimer: NodeJS.Timeout | undefined;
  /** Being terminated: takes no more jobs, still counts against the size until it has exited. */
  stopping: boolean;
}

/**
 * A small pool of long-lived PDF parser threads. Each thread keeps pdf.js loaded and parses one
 * PDF at a time under a heap cap (`resourceLimits.maxOldGenerationSizeMb = pdfMaxMemoryMb`); the
 * pool terminates it on `pdfTimeoutMs` (`parse_timeout`), on the load's abort signal (rejects with
 * the signal's reason) or when it exceeds its heap (`parse_out_of_memory`), and starts a fresh
 * thread for the next load. pdf.js runs synchronously for long stretches on hostile input, so a
 * timer in its own thread might never fire: termination from here stops even a tight loop, and the
 * caller's event loop is never blocked by parsing.
 *
 * Threads start on demand, close after `idleTimeoutMs` idle, are replaced after
 * `maxDocumentsPerThread` documents or when their heap passes `recycleHeapMb`, and never keep the
 * process alive while idle. A load waits for a free thread; its `pdfTimeoutMs` starts when a
 * thread takes it.
 */
export class PdfParserPool {
  readonly size: number;
  private readonly idleTimeoutMs: number;
  private readonly maxDocumentsPerThread: number;
  private readonly recycleHeapMb: number;
  private readonly threads = new Set<ParserThread>();
  private readonly queue: Waiting[] = [];
  private readonly counts = { started: 0, killed: 0, recycled: 0 };
  private isClosed = false;

  constructor(options: PdfParserPoolOptions = {}) {
    this.size = checkOption('size', options.size ?? Math.min(2, availableParallelism()), true);
    this.idleTimeoutMs = checkOption('idleTimeoutMs', options.idleTimeoutMs ?? 30_000, false);
    this.maxDocumentsPerThread = checkOption(
      'maxDocumentsPerThread',
      options.maxDocumentsPerThread ?? 500,
      true,
    );
    this.recycleHeapMb = checkOption('recycleHeapMb', options.recycleHeapMb ?? 160, false);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  stats(): PdfParserPoolStats {
    let busy = 0;
    for (const thread of this.threads) if (thread.job !== null && !thread.stopping) busy++;
    return { threads: this.threads.size, busy, queued: this.queue.length, ...this.counts };
  }

  /**
   * Parses one PDF on a pooled thread. Rejects with a DocumentError (`encrypted`, `wrong_password`,
   * `corrupt`, `too_many_pages`, `too_many_chars`, `parse_timeout`, `parse_out_of_memory`), with the
   * signal's reason on abort, or with a plain Error when the thread cannot start or the pool is
   * closed.
   */
  parse(request: PdfParseRequest): Promise<ParsedPdf> {
    return new Promise<ParsedPdf>((resolve, reject) => {
      const { signal } = request;
      if (this.isClosed) {
        reject(new Error('the PDF parser pool is closed'));
        return;
      }
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const url = request.workerUrl ?? DEFAULT_WORKER_URL;
      const maxMemoryMb = request.limits.pdfMaxMemoryMb;
      const waiting: Waiting = {
        request,
        // A real copy: `Buffer#slice` shares memory, and transferring that would empty the caller's Buffer.
        data: new Uint8Array(request.bytes),
        kind: { key: `${maxMemoryMb} ${url.href}`, url, maxMemoryMb },
        resolve,
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

  /** Terminates every thread; loads still waiting or parsing reject. The pool takes no more loads. */
  async close(): Promise<void> {
    this.isClosed = true;
    const error = new Error('the PDF parser pool was closed');
    for (const waiting of this.queue.splice(0)) {
      waiting.request.signal?.removeEventListener('abort', waiting.onAbort);
      waiting.reject(error);
    }
    await Promise.all(
      [...this.threads].map((thread) => {
        thread.job?.abandon(error);
        thread.stopping = true;
        clearTimeout(thread.idleTimer);
        return thread.worker.terminate().then(noop, noop);
      }),
    );
  }

  private dispatch(): void {
    while (!this.isClosed) {
      const next = this.queue[0];
      if (next === undefined) return;
      let thread: ParserThread | undefined;
      try {
        thread = this.threadFor(next.kind);
      } catch (error) {
        // A thread that cannot even be created (bad resource limits): this load fails, not the pool.
        this.queue.shift();
        next.request.signal?.removeEventListener('abort', next.onAbort);
        next.reject(error);
        continue;
      }
      if (thread === undefined) return;
      this.queue.shift();
      next.request.signal?.removeEventListener('abort', next.onAbort);
      clearTimeout(thread.idleTimer);
      thread.worker.ref();
      thread.job = new ParseJob(this.hooks, thread, next);
    }
  }

  /** An idle thread of the kind, or a new one when there is room; else the load waits. */
  private threadFor(kind: ThreadKind): ParserThread | undefined {
    let spare: ParserThread | undefined;
    for (const thread of this.threads) {
      if (thread.job !== null || thread.stopping) continue;
      if (thread.kind.key === kind.key) return thread;
      spare ??= thread;
    }
    if (this.threads.size < this.size) return this.spawn(kind);
    // An idle thread of another kind (another heap cap) gives up its place; the load is
    // dispatched again once that thread has exited.
    if (spare !== undefined) this.stop(spare);
    return undefined;
  }

  private spawn(kind: ThreadKind): ParserThread {
    const worker = new Worker(kind.url, {
      resourceLimits: { maxOldGenerationSizeMb: kind.maxMemoryMb },
      // The caller's flags (a loader such as tsx, an inspector) are not the parser's.
      execArgv: [],
    });
    const thread: ParserThread = {
      worker,
      kind,
      documents: 0,
      job: null,
      idleTimer: undefined,
      stopping: false,
    };
    worker.on('message', (message: PdfWorkerMessage) => thread.job?.onMessage(message));
    worker.on('error', (error: Error & { code?: string }) => thread.job?.onThreadError(error));
    worker.on('exit', (code) => {
      this.threads.delete(thread);
      clearTimeout(thread.idleTimer);
      thread.job?.onThreadExit(code);
      thread.job = null;
      this.dispatch();
    });
    this.threads.add(thread);
    this.counts.started++;
    return thread;
  }

  private stop(thread: ParserThread): void {
    thread.stopping = true;
    clearTimeout(thread.idleTimer);
    thread.worker.terminate().then(noop, noop);
  }

  /** What a job may do to its thread: hand it back when the document is done, or kill it. */
  private readonly hooks: JobHooks = {
    release: (thread, heapMb) => {
      thread.job = null;
      thread.documents++;
      if (thread.stopping) return;
      if (thread.documents >= this.maxDocumentsPerThread || heapMb > this.recycleHeapMb) {
        this.counts.recycled++;
        this.stop(thread);
        return;
      }
      thread.worker.unref();
      thread.idleTimer = setTimeout(() => this.stop(thread), this.idleTimeoutMs);
      thread.idleTimer.unref();
      this.dispatch();
    },
    kill: (thread) => {
      if (!thread.stopping) this.counts.killed++;
      thread.stopping = true;
      // Wait for the thread to be gone, so nothing keeps running once the load settles.
      return thread.worker.terminate().then(noop, noop);
    },
  };
}

let processPool: PdfParserPool | undefined;

/**
 * The process-wide pool that `loadDocument` uses unless it is given one, made on first use with the
 * default options (and made again if it was closed).
 */
export function defaultPdfParserPool(): PdfParserPool {
  if (processPool === undefined || processPool.closed) processPool = new PdfParserPool();
  return processPool;
}

interface JobHooks {
  release(thread: ParserThread, heapMb: number): void;
  kill(thread: ParserThread): Promise<void>;
}

/**
 * One document on one thread. The caller's promise may settle before the thread is free: when a
 * limit is reached the load fails at once, and the thread, which applies the same limits, stops on
 * its own and reports `stopped` (or is killed when the time limit passes first).
 */
class ParseJob {
  private opened: { pageCount: number; title: string | null } | null = null;
  private readonly pages: PdfPageText[] = [];
  private chars = 0;
  private settled = false;
  private finished = false;
  private readonly timer: NodeJS.Timeout;
  private readonly onAbort = (): void => {
    const { signal } = this.waiting.request;
    this.killThen(() => this.waiting.reject(signal?.reason));
  };

  constructor(
    private readonly hooks: JobHooks,
    private readonly thread: ParserThread,
    private readonly waiting: Waiting,
  ) {
    const { request, data } = waiting;
    const job: PdfParseJob = {
      type: 'parse',
      data,
      passwords: request.passwords,
      maxPages: request.limits.maxPages,
      maxChars: request.limits.maxChars,
    };
    thread.worker.postMessage(job, [data.buffer as ArrayBuffer]);
    this.timer = setTimeout(() => this.onTimeout(), request.limits.pdfTimeoutMs);
    request.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  onMessage(message: PdfWorkerMessage): void {
    if (this.finished) return;
    const { limits } = this.waiting.request;
    switch (message.type) {
      case 'opened':
        if (this.settled) return;
        if (message.pageCount > limits.maxPages) {
          this.rejectNow(
            this.error(
              'too_many_pages',
              `has ${message.pageCount} pages, more than the limit of ${limits.maxPages} (maxPages)`,
              { pageCount: message.pageCount, limit: limits.maxPages },
            ),
          );
          return;
        }
        this.opened = { pageCount: message.pageCount, title: message.title };
        return;
      case 'page':
        if (this.settled) return;
        this.pages.push({ page: message.page, text: message.text });
        this.chars += message.text?.length ?? 0;
        if (this.chars > limits.maxChars) {
          this.rejectNow(
            this.error(
              'too_many_chars',
              `has more than ${limits.maxChars} characters of text (limit maxChars), reached on page ${message.page}`,
              { limit: limits.maxChars, page: message.page },
            ),
          );
        }
        return;
      case 'done':
        if (!this.settled) {
          const opened = this.opened;
          if (opened === null) {
            this.rejectNow(this.error('corrupt', 'the PDF parser finished without opening the document'));
          } else {
            this.settled = true;
            this.waiting.resolve({ pageCount: opened.pageCount, title: opened.title, pages: this.pages });
          }
        }
        this.release(message.heapMb);
        return;
      case 'failed':
        this.rejectNow(this.error(message.code, message.reason));
        this.release(message.heapMb);
        return;
      case 'stopped':
        this.rejectNow(this.error('corrupt', 'the PDF parser stopped without a result'));
        this.release(message.heapMb);
        return;
    }
  }

  /** The thread died (an uncaught error, its heap cap, or a script that cannot load). */
  onThreadError(error: Error & { code?: string }): void {
    if (this.settled) return;
    const { limits } = this.waiting.request;
    if (error.code === 'ERR_WORKER_OUT_OF_MEMORY') {
      this.killThenReject(
        this.error(
          'parse_out_of_memory',
          `parsing needed more than ${limits.pdfMaxMemoryMb} MB of memory (limit pdfMaxMemoryMb)`,
          { limitMb: limits.pdfMaxMemoryMb, pagesParsed: this.pages.length },
        ),
      );
    } else if (this.opened === null && isStartupFailure(error)) {
      // The thread's script itself is missing or broken: an installation problem, not the document's.
      this.killThenReject(
        new Error(`the PDF parser thread could not start: ${error.message}`, { cause: error }),
      );
    } else {
      this.killThenReject(this.error('corrupt', `the PDF parser failed: ${error.message}`));
    }
  }

  onThreadExit(code: number): void {
    if (!this.settled) {
      this.rejectNow(this.error('corrupt', `the PDF parser stopped unexpectedly (exit code ${code})`));
    }
    this.dispose();
  }

  /** The pool is closing: the load fails with `error` whatever the thread does next. */
  abandon(error: Error): void {
    this.rejectNow(error);
    this.dispose();
  }

  private onTimeout(): void {
    const { limits } = this.waiting.request;
    this.killThenReject(
      this.error(
        'parse_timeout',
        `parsing took longer than ${formatSeconds(limits.pdfTimeoutMs)} (limit pdfTimeoutMs)`,
        {
          limitMs: limits.pdfTimeoutMs,
          pagesParsed: this.pages.length,
        },
      ),
    );
  }

  private error(
    code: ConstructorParameters<typeof DocumentError>[1],
    reason: string,
    details?: Record<string, unknown>,
  ): DocumentError {
    const { name } = this.waiting.request;
    return new DocumentError(name, code, reason, details === undefined ? {} : { details });
  }

  /** Fails the load now; the thread goes on to its terminal message (or its time limit). */
  private rejectNow(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.waiting.request.signal?.removeEventListener('abort', this.onAbort);
    // Nobody waits for the rest of this document: it must not keep the process alive.
    this.thread.worker.unref();
    this.timer.unref();
    this.waiting.reject(error);
  }

  /** Terminates the thread, then fails the load (unless it has already settled). */
  private killThenReject(error: unknown): void {
    this.killThen(() => this.waiting.reject(error));
  }

  private killThen(outcome: () => void): void {
    const wasSettled = this.settled;
    this.settled = true;
    this.dispose();
    const after = wasSettled ? noop : outcome;
    this.hooks.kill(this.thread).then(after, after);
  }

  private release(heapMb: number): void {
    this.dispose();
    this.hooks.release(this.thread, heapMb);
  }

  private dispose(): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    this.waiting.request.signal?.removeEventListener('abort', this.onAbort);
  }
}

function checkOption(name: string, value: number, integer: boolean): number {
  const ok = integer ? Number.isInteger(value) && value > 0 : Number.isFinite(value) && value >= 0;
  if (!ok) {
    const wanted = integer ? 'a positive integer' : 'a finite number ≥ 0';
    throw new QuireError('invalid_input', `PdfParserPool ${name} must be ${wanted}, got ${String(value)}`);
  }
  return value;
}

function isStartupFailure(error: Error & { code?: string }): boolean {
  return [
    'MODULE_NOT_FOUND',
    'ERR_MODULE_NOT_FOUND',
    'ERR_WORKER_PATH',
    'ERR_UNKNOWN_FILE_EXTENSION',
  ].includes(error.code ?? '');
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

function noop(): void {}
