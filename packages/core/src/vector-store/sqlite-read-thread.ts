/**
 * A read-only connection to the store's file on a thread of its own, so that a search runs beside
 * work on the main thread: better-sqlite3 is synchronous, and hybrid retrieval's dense and lexical
 * searches would otherwise run one after the other on one core. WAL lets this reader see every
 * commit made before a query is posted, while the main connection reads and writes. The thread's
 * code is `sqlite-read-worker.ts`.
 */
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { StoreError } from '../errors.js';
import { MODULE_EXTENSION, moduleFile, typeScriptLoader } from '../module-files.js';
import type { DenseRequest } from './dense-vectors.js';
import type { ReadReply, ReadRequest, ReadWorkerData } from './sqlite-read-worker.js';

interface Pending {
  resolve: (rows: unknown[]) => void;
  reject: (error: unknown) => void;
}

export type SqliteReadThreadOptions = ReadWorkerData;

export class SqliteReadThread {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  constructor(private readonly options: SqliteReadThreadOptions) {}

  /**
   * A dense search of the thread's in-memory vectors: the rows `rowsSql` reads for the hits, each with
   * its `score`, best first; the `fallback` SELECT's rows when the tenant's vectors do not fit the
   * thread's budget (or it has none). A failure of the query rejects with the driver's `SqliteError`
   * (same code), a thread that dies rejects what it had in flight and is started again by the next
   * query.
   */
  dense<Row>(
    request: DenseRequest,
    rowsSql: string,
    fallback: { sql: string; params: Record<string, unknown> },
  ): Promise<Row[]> {
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise<Row[]>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (rows: unknown[]) => void, reject });
      // Held only while a query is in flight: an idle thread does not keep the process alive.
      if (this.pending.size === 1) worker.ref();
      worker.postMessage({ id, request, rowsSql, fallback } satisfies ReadRequest);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.fail(new StoreError('store_rejected', 'SQLite store is closed'));
    await worker?.terminate();
  }

  private start(): Worker {
    const worker = new Worker(moduleFile('./sqlite-read-worker', import.meta.url), {
      // From the sources the thread needs the TypeScript hook; from dist/ it inherits the process's flags.
      ...(MODULE_EXTENSION === '.ts' ? { execArgv: typeScriptLoader() } : {}),
      workerData: this.options satisfies ReadWorkerData,
    });
    worker.unref();
    worker.on('message', (reply: ReadReply) => {
      const pending = this.pending.get(reply.id);
      if (pending === undefined) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if ('error' in reply) {
        pending.reject(new Database.SqliteError(reply.error.message, reply.error.code ?? 'SQLITE_ERROR'));
      } else {
        pending.resolve(reply.rows);
      }
    });
    const died = (error: unknown) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.fail(error);
    };
    worker.on('error', (error) =>
      died(
        new StoreError('store_unavailable', `SQLite read thread failed: ${error.message}`, {
          retryable: true,
          cause: error,
        }),
      ),
    );
    worker.on('exit', (code) =>
      died(
        new StoreError('store_unavailable', `SQLite read thread exited with code ${code}`, {
          retryable: true,
        }),
      ),
    );
    this.worker = worker;
    return worker;
  }

  private fail(error: unknown): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const { reject } of pending) reject(error);
  }
}
