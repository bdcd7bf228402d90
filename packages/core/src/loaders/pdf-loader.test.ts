import { describe, expect, it } from 'vitest';
import { cleanPageText, passwordCandidates, unsupportedFilter } from './pdf-loader.js';

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

describe('unsupportedFilter', () => {
  const pdf = (body: string) => Buffer.from(`%PDF-1.7\n${body}\n%%EOF\n`, 'latin1');

  it('names a stream filter outside the standard, alone or in an array', () => {
    expect(unsupportedFilter(pdf('<< /Length 5 /Filter /BrotliDecode >>'))).toBe('BrotliDecode');
    expect(unsupportedFilter(pdf('<< /Filter [/ASCII85Decode /ZstdDecode] >>'))).toBe('ZstdDecode');
  });

  it('knows the standard filters, their short names and the encryption handler', () => {
    const standard =
      '<< /Filter /FlateDecode >> << /Filter [/AHx /Fl] >> << /Filter /DCTDecode >> << /Filter /Standard /V 5 >>';
    expect(unsupportedFilter(pdf(standard))).toBeUndefined();
  });
});
