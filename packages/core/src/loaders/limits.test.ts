import { describe, expect, it } from 'vitest';
import { DEFAULT_LOAD_LIMITS, resolveLoadLimits } from './limits.js';

describe('resolveLoadLimits', () => {
  it('uses the defaults when nothing is given', () => {
    expect(resolveLoadLimits(undefined)).toEqual(DEFAULT_LOAD_LIMITS);
    expect(DEFAULT_LOAD_LIMITS).toEqual({
      maxBytes: 52_428_800,
      maxPages: 2_000,
      maxChars: 5_000_000,
      pdfTimeoutMs: 120_000,
      pdfMaxMemoryMb: 512,
    });
  });

  it('merges given limits over the defaults', () => {
    expect(resolveLoadLimits({ maxPages: 10, pdfTimeoutMs: 500 })).toEqual({
      ...DEFAULT_LOAD_LIMITS,
      maxPages: 10,
      pdfTimeoutMs: 500,
    });
  });

  it('rejects wrong values with invalid_input naming the limit', () => {
    expect(() => resolveLoadLimits({ maxBytes: -1 })).toThrow(
      expect.objectContaining({ code: 'invalid_input', message: expect.stringContaining('maxBytes') }),
    );
    expect(() => resolveLoadLimits({ pdfMaxMemoryMb: 1 })).toThrow(
      expect.objectContaining({ code: 'invalid_input' }),
    );
    expect(() => resolveLoadLimits({ maxPage: 3 } as never)).toThrow(
      expect.objectContaining({ code: 'invalid_input' }),
    );
  });
});
