import { z } from 'zod';
import { QuireError } from '../errors.js';
import type { LoadLimits, LoadLimitsInput } from './types.js';

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
  parseTimeoutMs: 120_000,
  parseMaxMemoryMb: 512,
  maxInflatedBytes: 256 * 1024 * 1024,
});

const positiveInt = z.number().int().positive();

const limitsSchema = z
  .strictObject({
    maxBytes: positiveInt,
    maxPages: positiveInt,
    maxChars: positiveInt,
    parseTimeoutMs: positiveInt,
    // A sandbox child holds ~50 MiB before it parses anything.
    parseMaxMemoryMb: positiveInt.min(64),
    maxInflatedBytes: positiveInt,
    pdfTimeoutMs: positiveInt,
    pdfMaxMemoryMb: positiveInt.min(64),
  })
  .partial();

/** Merges caller limits over the defaults; a wrong value is an `invalid_input` error naming it. */
export function resolveLoadLimits(limits: LoadLimitsInput | undefined): LoadLimits {
  if (limits === undefined) return { ...DEFAULT_LOAD_LIMITS };
  const parsed = limitsSchema.safeParse(limits);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((issue) => `${issue.path.join('.') || 'limits'}: ${issue.message}`)
      .join('; ');
    throw new QuireError('invalid_input', `invalid load limits: ${problems}`);
  }
  const { pdfTimeoutMs, pdfMaxMemoryMb, ...current } = parsed.data;
  const merged: LoadLimits = { ...DEFAULT_LOAD_LIMITS };
  // The earlier PDF-only names apply to every sandboxed parse now; the new names win.
  if (pdfTimeoutMs !== undefined) merged.parseTimeoutMs = pdfTimeoutMs;
  if (pdfMaxMemoryMb !== undefined) merged.parseMaxMemoryMb = pdfMaxMemoryMb;
  for (const [key, value] of Object.entries(current) as [keyof LoadLimits, number | undefined][]) {
    if (value !== undefined) merged[key] = value;
  }
  return merged;
}
