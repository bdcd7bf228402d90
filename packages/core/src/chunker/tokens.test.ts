import { get_encoding } from 'tiktoken';
import { describe, expect, it } from 'vitest';
import { int, pick, prng } from './__tests__/fixtures.js';
import {
  CHUNKER_ENCODING,
  countTokens,
  countTokensWithin,
  fitPrefix,
  fitSuffix,
  TextTokens,
} from './tokens.js';

function splitsPair(text: string, pos: number): boolean {
  const code = text.charCodeAt(pos);
  return pos > 0 && pos < text.length && code >= 0xdc00 && code <= 0xdfff;
}

describe('countTokens', () => {
  it('counts with cl100k_base', () => {
    expect(CHUNKER_ENCODING).toBe('cl100k_base');
    expect(countTokens('')).toBe(0);
    expect(countTokens('hello world')).toBe(2);
    expect(countTokens('<|endoftext|>')).toBeGreaterThan(1);
  });

  it('agrees with tiktoken counting the whole text at once, piece cache or not', () => {
    const encoder = get_encoding('cl100k_base');
    const pieces = [
      'a',
      'The',
      ' word',
      "'s",
      "'LL",
      "'Re",
      "n't",
      ' ',
      '  ',
      '\t',
      '\n',
      '\r\n',
      '\n\n',
      ' \n ',
      '12345',
      '3.14',
      '東京',
      '紅樓夢。',
      'Größe',
      'e\u0301',
      '😀',
      '\uFEFF',
      '<|endoftext|>',
      '...',
      '!?',
      '-',
      '_x_',
      'ـعربي',
      'ĳ',
      '\u00a0',
    ];
    const random = prng(7);
    try {
      for (let i = 0; i < 300; i++) {
        const text = Array.from({ length: int(random, 1, 400) }, () => pick(random, pieces)).join('');
        const expected = encoder.encode_ordinary(text).length;
        expect(countTokens(text)).toBe(expected);
        // Again, now from the cache.
        expect(countTokens(text)).toBe(expected);
        expect(countTokensWithin(text, expected)).toBe(expected);
        if (expected > 0) expect(countTokensWithin(text, expected - 1)).toBe(false);
      }
    } finally {
      encoder.free();
    }
  });

  it('stops at a limit', () => {
    expect(countTokensWithin('hello world', 2)).toBe(2);
    expect(countTokensWithin('hello world', 1)).toBe(false);
    expect(countTokensWithin('', 0)).toBe(0);
  });
});

describe('TextTokens', () => {
  // Pieces chosen for the pattern's edge cases: contractions, digit runs cut in threes, runs of
  // punctuation that take line breaks, whitespace before a word or a line break, scripts without
  // spaces, marks, surrogate pairs, a byte-order mark and Unicode spaces.
  const pieces = [
    'a',
    'The',
    ' word',
    "'s",
    "'",
    'LL',
    "n't",
    ' ',
    '  ',
    '\t',
    '\n',
    '\r\n',
    '\n\n',
    ' \n ',
    '1',
    '12345',
    '.',
    '...',
    '!\n',
    '東京',
    '紅樓夢。',
    'Größe',
    'e\u0301',
    '\u0301',
    '😀',
    '\uFEFF',
    '\u3000',
    '\u00a0',
    '\u2028',
    'ـعربي',
  ];

  it('counts every range as countTokens counts the slice', () => {
    const random = prng(23);
    for (let t = 0; t < 40; t++) {
      const text = Array.from({ length: int(random, 20, 600) }, () => pick(random, pieces)).join('');
      const counts = new TextTokens(text);
      for (let r = 0; r < 150; r++) {
        let start = int(random, 0, text.length);
        let end = int(random, 0, text.length);
        if (start > end) [start, end] = [end, start];
        const expected = countTokens(text.slice(start, end));
        expect(counts.count(start, end), `${JSON.stringify(text)} [${start}, ${end})`).toBe(expected);
        expect(counts.countWithin(start, end, expected)).toBe(expected);
        if (expected > 0) expect(counts.countWithin(start, end, expected - 1)).toBe(false);
      }
    }
  });

  it('counts text of pieces seen before and never seen, in runs of any length, as tiktoken does', () => {
    // Pieces never seen before are encoded in runs, ended by a piece seen before or after a
    // block's length, and cached only from short runs: runs of every length, with whitespace
    // around them, over block lengths.
    const encoder = get_encoding('cl100k_base');
    const random = prng(31);
    const letters = (from: number, to: number, length: number) =>
      String.fromCodePoint(...Array.from({ length }, () => int(random, from, to)));
    const fresh = (): string =>
      pick(random, [
        () => ` ${letters(0x61, 0x7a, int(random, 3, 9))}`,
        () => letters(0x4e00, 0x9fff, int(random, 1, 14)),
        () => `${letters(0x3041, 0x3096, int(random, 2, 6))}、`,
        () => `${letters(0xe0, 0xff, int(random, 2, 7))}  `,
        () => String(int(random, 0, 99_999)),
        () => `\n${letters(0x430, 0x44f, int(random, 2, 8))}`,
      ])();
    try {
      for (let t = 0; t < 16; t++) {
        const length = int(random, 50, t < 4 ? 40_000 : 3_000);
        let text = '';
        while (text.length < length) {
          const run = int(random, 0, 3) === 0 ? int(random, 15, 80) : int(random, 1, 4);
          for (let i = 0; i < run; i++) text += fresh();
          for (let i = int(random, 0, 4); i > 0; i--) text += pick(random, pieces);
        }
        const counts = new TextTokens(text);
        expect(counts.count(0, text.length)).toBe(encoder.encode_ordinary(text).length);
        for (let r = 0; r < 40; r++) {
          let start = int(random, 0, text.length);
          let end = int(random, 0, text.length);
          if (start > end) [start, end] = [end, start];
          if (splitsPair(text, start) || splitsPair(text, end)) continue;
          expect(counts.count(start, end), `[${start}, ${end})`).toBe(
            encoder.encode_ordinary(text.slice(start, end)).length,
          );
        }
      }
    } finally {
      encoder.free();
    }
  });

  it('counts text whose pieces keep missing the cache (base64, CJK by lines) as tiktoken does', () => {
    const encoder = get_encoding('cl100k_base');
    const random = prng(37);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const base64 = Array.from({ length: 600 }, () =>
      Array.from({ length: 76 }, () => alphabet[int(random, 0, 63)]).join(''),
    ).join('\n');
    const cjk = Array.from(
      { length: 400 },
      () =>
        `${String.fromCodePoint(...Array.from({ length: int(random, 5, 40) }, () => int(random, 0x4e00, 0x9fff)))}。\n`,
    ).join('');
    try {
      // Digits, line breaks and common words seen before, as in a worker after a few documents.
      countTokens(`${Array.from({ length: 1000 }, (_, i) => i).join(' ')}\n\n the of and 。\n`);
      for (const text of [base64, `${base64}\n${pieces.join(' ')} prose after it`, cjk, `${cjk}${base64}`]) {
        const counts = new TextTokens(text);
        expect(counts.count(0, text.length)).toBe(encoder.encode_ordinary(text).length);
        for (let r = 0; r < 20; r++) {
          const start = int(random, 0, text.length - 1);
          const end = int(random, start, text.length);
          expect(counts.count(start, end)).toBe(encoder.encode_ordinary(text.slice(start, end)).length);
        }
      }
    } finally {
      encoder.free();
    }
  });

  it('counts ranges that end in whitespace before a word, where the whole text cuts differently', () => {
    const text = `${'word '.repeat(20)}a  \\n  b${'  \\t'.repeat(12)}c`;
    const counts = new TextTokens(text);
    for (let start = 0; start < 30; start++) {
      for (let end = text.length - 60; end <= text.length; end++) {
        expect(counts.count(start, end)).toBe(countTokens(text.slice(start, end)));
      }
    }
  });
});

describe('fitPrefix and fitSuffix', () => {
  const pieces = ['a', 'Größe', '東京', '😀', 'e\u0301', ' ', 'xyz', '1', '=', '/'];
  const random = prng(41);
  const texts = Array.from({ length: 40 }, () =>
    Array.from({ length: int(random, 50, 3000) }, () => pick(random, pieces)).join(''),
  );

  it('keep a prefix within the budget, close to it, between whole characters', () => {
    for (const text of texts) {
      const budget = int(random, 16, 300);
      const { cut, tokens } = fitPrefix(new TextTokens(text), 0, text.length, budget);
      expect(tokens).toBe(countTokens(text.slice(0, cut)));
      expect(tokens).toBeLessThanOrEqual(budget);
      expect(splitsPair(text, cut)).toBe(false);
      if (cut < text.length) expect(tokens).toBeGreaterThanOrEqual(budget - 8);
      else expect(tokens).toBe(countTokens(text));
    }
  });

  it('keep a suffix within the budget, close to it, between whole characters', () => {
    for (const text of texts) {
      const budget = int(random, 16, 300);
      const { cut, tokens } = fitSuffix(new TextTokens(text), 0, text.length, budget);
      expect(tokens).toBe(countTokens(text.slice(cut)));
      expect(tokens).toBeLessThanOrEqual(budget);
      expect(splitsPair(text, cut)).toBe(false);
      if (cut > 0) expect(tokens).toBeGreaterThanOrEqual(budget - 8);
    }
  });

  it('keep one character when even that is over the budget (prefix) or nothing (suffix)', () => {
    const text = '😀😀';
    expect(countTokens('😀')).toBeGreaterThan(1);
    expect(fitPrefix(new TextTokens(text), 0, text.length, 1).cut).toBe(2);
    expect(fitSuffix(new TextTokens(text), 0, text.length, 1).cut).toBe(text.length);
  });

  it('use a guess without changing what fits', () => {
    const text = 'abc '.repeat(500);
    const guessed = fitPrefix(new TextTokens(text), 0, text.length, 64, 250);
    expect(guessed.tokens).toBeLessThanOrEqual(64);
    expect(guessed.tokens).toBe(countTokens(text.slice(0, guessed.cut)));
  });
});
