import { describe, expect, it } from 'vitest';
import { lexicalTokenHash, lexicalTokens, sparseVector } from './lexical.js';

describe('lexicalTokens', () => {
  it('lower-cases, splits on anything but letters and digits, and drops stopwords', () => {
    expect(lexicalTokens('The Quick-Brown fox, version 2.1 (of 2024)!')).toEqual([
      'quick',
      'brown',
      'fox',
      'version',
      '2',
      '1',
      '2024',
    ]);
  });

  it('normalises with NFKC and keeps diacritics', () => {
    expect(lexicalTokens('ﬁle ＡＢＣ１２３ Ⅻ')).toEqual(['file', 'abc123', 'xii']);
    expect(lexicalTokens('Müller naïve')).toEqual(['müller', 'naïve']);
    // Decomposed and composed forms give the same token.
    expect(lexicalTokens('Mu\u0308ller')).toEqual(lexicalTokens('Müller'));
  });

  it('turns CJK runs into character bigrams, a lone character into a unigram', () => {
    expect(lexicalTokens('東京タワー')).toEqual(['東京', '京タ', 'タワ', 'ワー']);
    expect(lexicalTokens('한국어 텍스트')).toEqual(['한국', '국어', '텍스', '스트']);
    expect(lexicalTokens('猫')).toEqual(['猫']);
    expect(lexicalTokens('abc東京def')).toEqual(['abc', '東京', 'def']);
  });

  it('keeps characters outside the BMP whole', () => {
    expect(lexicalTokens('𠀀𠀁𠀂')).toEqual(['𠀀𠀁', '𠀁𠀂']);
  });

  it('takes the runs of letters, marks and digits the pattern finds, whatever the code points', () => {
    const alphabet = [
      'a',
      'Z',
      '9',
      ' ',
      '.',
      '-',
      'é',
      'e\u0301',
      '\u0301',
      'ß',
      'İ',
      'ﬁ',
      '①',
      '²',
      'Ⅻ',
      '٣',
      'ǅ',
      'Ω',
      'ሀ',
      '‿',
      '中',
      '文',
      'カ',
      'ｱ',
      'ー',
      '々',
      '한',
      '\u200d',
      '\u200b',
      '\t',
      '\n',
      '—',
      'Ａ',
      '\ud835\udc00',
      '\ud840\udc00',
      '\ud83d\ude00',
      '\ud800',
      '\udc00',
      '\ue000',
      '\uffff',
      'the ',
      'The',
    ];
    let seed = 11;
    const next = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    for (let i = 0; i < 3000; i++) {
      const text = Array.from({ length: next(24) }, () => alphabet[next(alphabet.length)]).join('');
      const runs =
        text
          .normalize('NFKC')
          .toLowerCase()
          .match(/[\p{L}\p{M}\p{N}]+/gu) ?? [];
      expect(lexicalTokens(text), JSON.stringify(text)).toEqual(runs.flatMap((run) => lexicalTokens(run)));
    }
  });

  it('returns nothing for text without words', () => {
    expect(lexicalTokens('')).toEqual([]);
    expect(lexicalTokens(' -- !! ')).toEqual([]);
    expect(lexicalTokens('the of and is')).toEqual([]);
  });
});

describe('lexicalTokenHash', () => {
  it('is 32-bit FNV-1a over UTF-8', () => {
    // Published FNV-1a test vectors.
    expect(lexicalTokenHash('')).toBe(0x811c9dc5);
    expect(lexicalTokenHash('a')).toBe(0xe40c292c);
    expect(lexicalTokenHash('foobar')).toBe(0xbf9cf968);
    expect(lexicalTokenHash('東京')).toBeLessThan(2 ** 32);
    expect(lexicalTokenHash('東京')).toBeGreaterThanOrEqual(0);
  });
});

describe('sparseVector', () => {
  it('counts term frequencies under sorted, unique hashed indices', () => {
    const { indices, values } = sparseVector('Beer, beer and more BEER; wine.');
    const expected = new Map([
      [lexicalTokenHash('beer'), 3],
      [lexicalTokenHash('more'), 1],
      [lexicalTokenHash('wine'), 1],
    ]);
    expect(indices).toEqual([...expected.keys()].sort((a, b) => a - b));
    expect(values).toEqual(indices.map((index) => expected.get(index)));
  });

  it('is empty for text without tokens', () => {
    expect(sparseVector('the and of')).toEqual({ indices: [], values: [] });
  });
});
