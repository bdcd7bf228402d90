import { z } from 'zod';
import { QuireError } from '../errors.js';
import type { LoadLimits } from './types.js';

/**
 * Limits that keep one hostile or oversized file from taking a worker down. Each is sized for
 * ordinary documents with room to spare: a 2,000-page PDF or 5 million characters (about
 * 1.2 million tokens, a long book) pass; anything beyond fails with a clear error instead of
 * being truncated silently.
 */
export const DEFAULT_LOAD_LIMITS: Readonly<LoadLimits> = Object.freeze({
  maxBytes: 50 * 1024 * 1024,
  maxPages: 2_000,
  maxChars: 5_000_000,
  pdfTimeoutMs: 120_000,
  pdfMaxMemoryMb: 512,
});

const positiveInt = z.number().int().positive();

const limitsSchema = z
  .strictObject({
    maxBytes: positiveInt,
    maxPages: positiveInt,
    maxChars: positiveInt,
    pdfTimeoutMs: positiveInt,
    // V8 cannot start a worker with a smaller old generation than a few megabytes.
    pdfMaxMemoryMb: positiveInt.min(4),
  })
  .partial();

/** Merges caller limits over the defaults; a wrong value is an `invalid_input` error naming it. */
export function resolveLoadLimits(limits: Partial<LoadLimits> | undefined): LoadLimits {
  if (limits === undefined) return { ...DEFAULT_LOAD_LIMITS };
  const parsed = limitsSchema.safeParse(limits);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((issue) => `${issue.path.join('.') || 'limits'}: ${issue.message}`)
      .join('; ');
    throw new QuireError('invalid_input', `invalid load limits: ${problems}`);
  }
  const merged: LoadLimits = { ...DEFAULT_LOAD_LIMITS };
  for (const [key, value] of Object.entries(parsed.data) as [keyof LoadLimits, number | undefined][]) {
    if (value !== undefined) merged[key] = value;
  }
  return merged;
}
