/** Anything with a case-insensitive `get`, i.e. `Headers`. */
export interface HeaderReader {
  get(name: string): string | null;
}

/**
 * The delay a server asked for, in milliseconds: `retry-after-ms` first (OpenAI-style, fractional
 * milliseconds), then `retry-after` as seconds or as an HTTP date. `undefined` when absent or
 * unreadable; never negative. Not capped here: callers decide what they are willing to wait.
 */
export function parseRetryAfterMs(
  headers: HeaderReader | undefined,
  now: number = Date.now(),
): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '') {
    const value = Number(ms);
    if (Number.isFinite(value) && value >= 0) return value;
  }
  const header = headers.get('retry-after');
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(header);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
