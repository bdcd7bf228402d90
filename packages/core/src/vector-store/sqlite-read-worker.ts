/**
 * The store's read thread (started by `sqlite-read-thread.ts`): a read-only connection to the file
 * answering dense searches, each message with its id: the tenant's vectors searched in memory
 * (`dense-vectors.ts`), or the message's `fallback` SELECT (sqlite-vec's scan) when they do not fit
 * the thread's budget or the thread has none.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import * as sqliteVec from 'sqlite-vec';
import { LruMap } from '../lru-map.js';
import { type DenseRequest, DenseVectors } from './dense-vectors.js';

export interface ReadWorkerData {
  path: string;
  busyTimeoutMs: number;
  mmapSizeBytes: number;
  /** In-memory dense search; absent: every dense search is sqlite-vec's. */
  dense?: { collection: string; dimension: number; budgetBytes: number };
}

export interface ReadRequest {
  id: number;
  request: DenseRequest;
  rowsSql: string;
  fallback: { sql: string; params: Record<string, unknown> };
}

export type ReadReply =
  | { id: number; rows: unknown[] }
  | { id: number; error: { message: string; code?: string } };

/** Statements the thread keeps prepared (by SQL text). */
const THREAD_STATEMENTS = 64;

const data = workerData as ReadWorkerData;
const db = new Database(data.path, { readonly: true, fileMustExist: true, timeout: data.busyTimeoutMs });
sqliteVec.load(db);
db.pragma(`mmap_size = ${data.mmapSizeBytes}`);
const statements = new LruMap<string, Database.Statement>(THREAD_STATEMENTS);
// Created on the first dense search: the collection's tables may not exist when the thread starts.
let dense: DenseVectors | undefined;

function all(sql: string, params: Record<string, unknown>): unknown[] {
  let statement = statements.get(sql);
  if (statement === undefined) {
    statement = db.prepare(sql);
    statements.set(sql, statement);
  }
  for (const [key, value] of Object.entries(params)) {
    // Buffers arrive as plain Uint8Arrays; the driver binds Buffers as blobs.
    if (value instanceof Uint8Array && !Buffer.isBuffer(value)) {
      params[key] = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    }
  }
  return statement.all(params);
}

function answer(message: ReadRequest): unknown[] {
  if (data.dense !== undefined) {
    dense ??= new DenseVectors(db, data.dense);
    const rows = dense.rows<{ rowid: number; id: string }>(message.request, message.rowsSql);
    if (rows !== undefined) return rows;
  }
  return all(message.fallback.sql, message.fallback.params);
}

parentPort!.on('message', (message: ReadRequest) => {
  let reply: ReadReply;
  try {
    reply = { id: message.id, rows: answer(message) };
  } catch (error) {
    const { message: text, code } = (error ?? {}) as { message?: unknown; code?: unknown };
    reply = {
      id: message.id,
      error: { message: String(text), ...(typeof code === 'string' ? { code } : {}) },
    };
  }
  parentPort!.postMessage(reply);
});
