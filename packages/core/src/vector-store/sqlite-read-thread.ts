/**
 * A read-only connection to the store's file on a thread of its own, so that a search runs beside
 * work on the main thread: better-sqlite3 is synchronous, and hybrid retrieval's dense and lexical
 * searches would otherwise run one after the other on one core. WAL lets this reader see every
 * commit made before a query is posted, while the main connection reads and writes.
 *
 * The thread's code is evaluated from a string (CommonJS, as `node -e` runs it) and loads the
 * driver and the sqlite-vec extension from the paths the main thread resolved, so that it runs the
 * same from sources (tests) and from `dist/`.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import * as sqliteVec from 'sqlite-vec';
import { StoreError } from '../errors.js';

const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { readonly: true, fileMustExist: true, timeout: workerData.timeout });
db.loadExtension(workerData.extension);
db.pragma('mmap_size = ' + workerData.mmap);
const statements = new Map();
parentPort.on('message', ({ id, sql, params }) => {
  try {
    let statement = statements.get(sql);
    if (statement === undefined) {
      statement = db.prepare(sql);
      if (statements.size >= workerData.statements) statements.delete(statements.keys().next().value);
      statements.set(sql, statement);
    }
    for (const [key, value] of Object.entries(params)) {
      // Buffers arrive as plain Uint8Arrays; the driver binds Buffers as blobs.
      if (value instanceof Uint8Array && !Buffer.isBuffer(value)) {
        params[key] = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      }
    }
    parentPort.postMessage({ id, rows: statement.all(params) });
  } catch (error) {
    parentPort.postMessage({ id, error: { message: String(error && error.message), code: error && error.code } });
  }
});
`;

/** Statements the thread keeps prepared (by SQL text). */
const THREAD_STATEMENTS = 64;

interface Pending {
  resolve: (rows: unknown[]) => void;
  reject: (error: unknown) => void;
}

type Reply = { id: number; rows: unknown[] } | { id: number; error: { message: string; code?: string } };

export interface SqliteReadThreadOptions {
  path: string;
  busyTimeoutMs: number;
  mmapSizeBytes: number;
}

export class SqliteReadThread {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  constructor(private readonly options: SqliteReadThreadOptions) {}

  /**
   * Runs one SELECT on the thread's connection and resolves with its rows. A failure of the query
   * rejects with the driver's `SqliteError` (same code), a thread that dies rejects what it had
   * in flight and is started again by the next query.
   */
  all<Row>(sql: string, params: Record<string, unknown>): Promise<Row[]> {
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise<Row[]>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (rows: unknown[]) => void, reject });
      // Held only while a query is in flight: an idle thread does not keep the process alive.
      if (this.pending.size === 1) worker.ref();
      worker.postMessage({ id, sql, params });
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.fail(new StoreError('store_rejected', 'SQLite store is closed'));
    await worker?.terminate();
  }

  private start(): Worker {
    const require = createRequire(import.meta.url);
    const worker = new Worker(THREAD_SOURCE, {
      eval: true,
      workerData: {
        driver: require.resolve('better-sqlite3'),
        extension: sqliteVec.getLoadablePath(),
        path: this.options.path,
        timeout: this.options.busyTimeoutMs,
        mmap: this.options.mmapSizeBytes,
        statements: THREAD_STATEMENTS,
      },
    });
    worker.unref();
    worker.on('message', (reply: Reply) => {
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
