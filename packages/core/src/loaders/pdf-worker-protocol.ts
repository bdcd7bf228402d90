/**
 * Messages between the parser pool (`pdf-parser-pool.ts`) and its long-lived threads
 * (`pdf-worker.mjs`). The pool posts one `PdfParseJob` at a time to a thread; the thread posts
 * `opened` once the document is open, one `page` per page in order, and ends every job with exactly
 * one terminal message: `done`, `failed` (the document cannot be read at all) or `stopped` (it gave
 * up on a limit the pool has already reported). Then it waits for the next job.
 */

export interface PdfParseJob {
  type: 'parse';
  /** The PDF's bytes (a copy transferred to the thread). */
  data: Uint8Array;
  /** Passwords to try in order; empty when none was given. */
  passwords: string[];
  /** The thread stops after `opened` when the document has more pages (the pool fails the load). */
  maxPages: number;
  /** The thread stops after the page whose text takes the total past this (the pool fails the load). */
  maxChars: number;
}

/** Document problems the thread recognises itself; crashes, timeouts and memory are seen from outside. */
export type PdfWorkerFailureCode = 'encrypted' | 'wrong_password' | 'corrupt';

/** The thread's V8 heap once a job is over, so the pool can replace a thread that has grown. */
export interface PdfWorkerHeap {
  /** Heap committed by V8 (`total_heap_size`), in megabytes. */
  heapMb: number;
}

export type PdfWorkerMessage =
  | { type: 'opened'; pageCount: number; title: string | null }
  | { type: 'page'; page: number; text: string }
  | { type: 'page'; page: number; text: null; error: string }
  | ({ type: 'done' } & PdfWorkerHeap)
  | ({ type: 'failed'; code: PdfWorkerFailureCode; reason: string } & PdfWorkerHeap)
  | ({ type: 'stopped' } & PdfWorkerHeap);
