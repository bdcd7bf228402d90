import { describe, expect, it } from 'vitest';
import { cleanPageText, passwordCandidates, unsupportedFilter } from './pdf-loader.js';
import { tidyText } from './section-builder.js';

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

  it('gives what the regular expressions it stands for give, on every mix of spaces and line ends', () => {
    const reference = (text: string) =>
      tidyText(text.replace(/\uFFFD/g, '').replace(/[ \t\u00a0]+/g, ' ')).replace(/^ +/gm, '');
    const pieces = [
      'a',
      'b',
      ' ',
      '\t',
      '\u00a0',
      '\n',
      '\r',
      '\uFFFD',
      '\u0001',
      '\f',
      '\u0085',
      '\u2028',
      '\u3000',
    ];
    // Every string of up to four pieces, and some longer ones built from them.
    let texts = [''];
    for (let length = 1; length <= 4; length++) {
      texts = texts.flatMap((text) =>
        text.length === length - 1 ? pieces.map((piece) => text + piece) : [text],
      );
    }
    texts.push(
      ' \t a \uFFFD b \u0001 c\r\uFFFD\n\n\n\n  d  \u2028  e \r\r\n\u00a0',
      '\n\n  \n x \u3000 \n \n',
    );
    for (const text of texts) expect(cleanPageText(text), JSON.stringify(text)).toBe(reference(text));
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
