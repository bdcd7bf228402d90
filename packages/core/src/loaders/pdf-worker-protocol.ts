/**
 * Messages between `pdf-loader.ts` and its worker thread (`pdf-worker.mjs`). The worker reads
 * `PdfWorkerData`, posts `opened` once the document is open, one `page` per page in order, then
 * `done`; or `failed` when the document cannot be read at all.
 */

export interface PdfWorkerData {
  /** The PDF's bytes (a copy transferred to the worker). */
  data: Uint8Array;
  /** Passwords to try in order; empty when none was given. */
  passwords: string[];
}

/** Document problems the worker recognises itself; crashes, timeouts and memory are seen from outside. */
export type PdfWorkerFailureCode = 'encrypted' | 'wrong_password' | 'corrupt';

export type PdfWorkerMessage =
  | { type: 'opened'; pageCount: number; title: string | null }
  | { type: 'page'; page: number; text: string }
  | { type: 'page'; page: number; text: null; error: string }
  | { type: 'done' }
  | { type: 'failed'; code: PdfWorkerFailureCode; reason: string };
