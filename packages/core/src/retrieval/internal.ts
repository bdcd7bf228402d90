/** Helpers shared by the retrieval stages; not exported from the package. */
import { setImmediate } from 'node:timers/promises';
import { QuireError } from '../errors.js';

/**
 * Tokens of `text` for budgeting the context: the chunker's count (see `CHUNKER_ENCODING`), so that
 * a budget and a chunk size mean the same unit. Special-token strings count as plain text.
 */
export { countTokens } from '../chunker/index.js';

/**
 * Event-loop turns, after a model request is handed to the HTTP client, before work that holds the
 * thread (a synchronous store's search, counting tokens) starts beside it. Node's fetch (undici 6)
 * needs two to write a request on a kept-alive connection; with fewer, the work still runs, only
 * before the request is written instead of beside it. A turn costs microseconds.
 */
export const REQUEST_TURNS = 4;

export async function yieldTurns(turns: number): Promise<void> {
  for (let i = 0; i < turns; i++) await setImmediate();
}

/** Milliseconds since `start` (a `performance.now()` reading), to a hundredth of a millisecond. */
export function elapsedMs(start: number): number {
  return Math.round((performance.now() - start) * 100) / 100;
}

/** `value` if it is an integer in `[min, max]`, `fallback` if undefined; else an `invalid_input` error. */
export function boundedInteger(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new QuireError('invalid_input', `${name} must be an integer in ${min}..${max}, got ${value}`);
  }
  return value;
}

/** Rejects at once when the caller has already given up, with the signal's reason as the stores do. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  signal?.throwIfAborted();
}

/** White-space runs that folding to one space changes: two or more characters, or one that is not a space. */
const FOLDED_WHITE_SPACE = /\s{2,}|[^\S ]/g;

/**
 * Collapses whitespace, the way `formatPassages` shows a passage to the model: the result of
 * `replace(/\s+/g, ' ')`, with no replacement made for the single spaces prose is mostly made of.
 */
export function oneLine(text: string): string {
  return text.replace(FOLDED_WHITE_SPACE, ' ').trim();
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
