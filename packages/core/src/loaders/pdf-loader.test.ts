import { describe, expect, it } from 'vitest';
import { cleanPageText, passwordCandidates } from './pdf-loader.js';

describe('passwordCandidates', () => {
  it('tries a non-ASCII password as UTF-8 bytes first, then as typed (pdf.js)', () => {
    expect(passwordCandidates('pässwörd')).toEqual(['pÃ¤sswÃ¶rd', 'pässwörd']);
    expect(passwordCandidates('pässwörd', 'poppler')).toEqual(['pässwörd']);
  });

  it('tries an ASCII password once and treats an empty one as none', () => {
    expect(passwordCandidates('secret')).toEqual(['secret']);
    expect(passwordCandidates('')).toEqual([]);
    expect(passwordCandidates(undefined)).toEqual([]);
  });
});

describe('cleanPageText', () => {
  it('turns column gaps into spaces and drops replacement characters', () => {
    expect(cleanPageText('from \ta \t1989 \tworkshop\n  Item 1.\u00a0\tFinancial\ufffd\n\n\n\nEnd \n')).toBe(
      'from a 1989 workshop\nItem 1. Financial\n\nEnd',
    );
  });
});
