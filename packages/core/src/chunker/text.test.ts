import { describe, expect, it } from 'vitest';
import { paragraph, prng, sentence } from './__tests__/fixtures.js';
import {
  Break,
  cutAtOrAfter,
  cutAtOrBefore,
  isWhitespace,
  lineBreaks,
  sentenceBreaks,
  skipWhitespace,
  trimEnd,
  wordBreaks,
  wordStarts,
} from './text.js';

/** Content ends before each segment start of one unwindowed pass: what the windows must reproduce. */
function directBreaks(text: string, granularity: 'sentence' | 'word'): number[] {
  const segmenter = new Intl.Segmenter('en', { granularity });
  const out: number[] = [];
  for (const { index } of segmenter.segment(text)) {
    const pos = trimEnd(text, 0, index);
    if (pos > 0 && pos !== out[out.length - 1]) out.push(pos);
  }
  return out;
}

describe('whitespace', () => {
  it('agrees with \\s on every BMP code point', () => {
    for (let code = 0; code <= 0xffff; code++) {
      expect(isWhitespace(code), code.toString(16)).toBe(/\s/.test(String.fromCharCode(code)));
    }
  });

  it('skips and trims within bounds', () => {
    const text = '  ab \n ';
    expect(skipWhitespace(text, 0, text.length)).toBe(2);
    expect(trimEnd(text, 0, text.length)).toBe(4);
    expect(skipWhitespace(text, 4, 6)).toBe(6);
    expect(trimEnd(text, 0, 2)).toBe(0);
  });
});

describe('lineBreaks', () => {
  it('tells paragraph breaks from line breaks and puts them where the content ends', () => {
    const text = 'a\nb\n\nc\r\n\r\nd  \n  e\ff\r\ng\u2029h';
    expect(lineBreaks(text, 0, text.length)).toEqual([
      { pos: 1, level: Break.Line },
      { pos: 3, level: Break.Paragraph },
      { pos: 6, level: Break.Paragraph },
      { pos: 11, level: Break.Line },
      { pos: 17, level: Break.Paragraph },
      { pos: 19, level: Break.Line },
      { pos: 22, level: Break.Paragraph },
    ]);
  });

  it('counts a blank line holding spaces as a paragraph break', () => {
    const text = 'one\n   \t\ntwo';
    expect(lineBreaks(text, 0, text.length)).toEqual([{ pos: 3, level: Break.Paragraph }]);
  });
});

describe('sentenceBreaks', () => {
  it('ignores line breaks inside a sentence', () => {
    const text = 'One two\nthree four. Five\nsix.';
    expect(sentenceBreaks(text, 0, text.length)).toEqual([19]);
  });

  it('finds "。" ends without spaces', () => {
    const text = '吾輩は猫である。名前はまだ無い。';
    expect(sentenceBreaks(text, 0, text.length)).toEqual([8]);
  });

  it('finds in windows what one pass over the whole text finds', () => {
    const random = prng(31);
    const text = Array.from({ length: 120 }, () => paragraph(random)).join(' ');
    expect(text.length).toBeGreaterThan(20_000);
    expect(sentenceBreaks(text, 0, text.length)).toEqual(directBreaks(text, 'sentence'));
  });

  it('reports nothing inside a sentence longer than a window, and moves on', () => {
    const long = `${'word '.repeat(2000)}end.`;
    const text = `${long} ${sentence(prng(32))}`;
    expect(sentenceBreaks(text, 0, text.length)).toEqual([long.length]);
  });
});

describe('wordBreaks and wordStarts', () => {
  it('find in windows what one pass finds, for Latin and CJK text', () => {
    const random = prng(33);
    const latin = Array.from({ length: 60 }, () => sentence(random)).join(' ');
    const cjk = '甄士隐梦幻识通灵贾雨村风尘怀闺秀吾輩は猫である名前はまだ無い'.repeat(40);
    for (const text of [latin, cjk]) {
      expect(text.length).toBeGreaterThan(1000);
      expect(wordBreaks(text, 0, text.length)).toEqual(directBreaks(text, 'word'));
    }
  });

  it('gives starts of words, never of whitespace', () => {
    const text = 'alpha  beta, gamma';
    expect(wordStarts(text, 0, text.length)).toEqual([7, 11, 13]);
  });
});

describe('cuts', () => {
  it('never separates a surrogate pair', () => {
    const text = 'a😀b';
    expect(cutAtOrBefore(text, 2, 0)).toBe(1);
    expect(cutAtOrAfter(text, 2, text.length)).toBe(3);
  });

  it('keeps combining marks with their letter when it can', () => {
    const text = 'xe\u0301\u0302y';
    expect(cutAtOrBefore(text, 3, 0)).toBe(1);
    expect(cutAtOrAfter(text, 3, text.length)).toBe(4);
    // Nothing but one cluster in reach: a code point boundary will do.
    expect(cutAtOrBefore(text, 3, 1)).toBe(3);
  });

  it('keeps emoji sequences whole', () => {
    const text = 'a👨\u200d👩\u200d👧👍🏽🇩🇪b';
    // Family (ZWJ), thumbs up with skin tone, flag: one cluster each.
    const clusters = [0, 1, 9, 13, 17, 18];
    for (let pos = 1; pos < text.length; pos++) {
      expect(cutAtOrBefore(text, pos, 0)).toBe(Math.max(...clusters.filter((c) => c <= pos)));
      expect(cutAtOrAfter(text, pos, text.length)).toBe(Math.min(...clusters.filter((c) => c >= pos)));
    }
  });
});
