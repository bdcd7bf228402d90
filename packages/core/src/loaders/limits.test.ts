import { describe, expect, it } from 'vitest';
import { DEFAULT_LOAD_LIMITS, resolveLoadLimits } from './limits.js';

describe('resolveLoadLimits', () => {
  it('uses the defaults when nothing is given', () => {
    expect(resolveLoadLimits(undefined)).toEqual(DEFAULT_LOAD_LIMITS);
    expect(DEFAULT_LOAD_LIMITS).toEqual({
      maxBytes: 52_428_800,
      maxPages: 2_000,
      maxChars: 5_000_000,
      parseTimeoutMs: 120_000,
      parseMaxMemoryMb: 512,
      maxInflatedBytes: 268_435_456,
    });
  });

  it('merges given limits over the defaults', () => {
    expect(resolveLoadLimits({ maxPages: 10, parseTimeoutMs: 500 })).toEqual({
      ...DEFAULT_LOAD_LIMITS,
      maxPages: 10,
      parseTimeoutMs: 500,
    });
  });

  it('reads the earlier PDF-only names as the parse-wide limits; the new names win', () => {
    expect(resolveLoadLimits({ pdfTimeoutMs: 500, pdfMaxMemoryMb: 300 })).toEqual({
      ...DEFAULT_LOAD_LIMITS,
      parseTimeoutMs: 500,
      parseMaxMemoryMb: 300,
    });
    expect(resolveLoadLimits({ pdfMaxMemoryMb: 300, parseMaxMemoryMb: 200 }).parseMaxMemoryMb).toBe(200);
  });

  it('rejects wrong values with invalid_input naming the limit', () => {
    expect(() => resolveLoadLimits({ maxBytes: -1 })).toThrow(
      expect.objectContaining({ code: 'invalid_input', message: expect.stringContaining('maxBytes') }),
    );
    expect(() => resolveLoadLimits({ parseMaxMemoryMb: 1 })).toThrow(
      expect.objectContaining({ code: 'invalid_input' }),
    );
    expect(() => resolveLoadLimits({ maxPage: 3 } as never)).toThrow(
      expect.objectContaining({ code: 'invalid_input' }),
    );
  });
});
