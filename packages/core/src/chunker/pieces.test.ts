import { describe, expect, it } from 'vitest';
import { PIECES, pieceEnd } from './pieces.js';

/** The pieces as the pattern cuts them. */
function byPattern(text: string): string[] {
  return [...text.matchAll(PIECES)].map((match) => match[0]);
}

function byPieceEnd(text: string): string[] {
  const pieces: string[] = [];
  for (let pos = 0; pos < text.length; ) {
    const end = pieceEnd(text, pos);
    pieces.push(text.slice(pos, end));
    pos = end;
  }
  return pieces;
}

/** A deterministic generator (a linear congruential one), so that a failure can be replayed. */
function random(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state % n;
  };
}

describe('pieceEnd', () => {
  it('cuts as the pattern does at every kind of boundary', () => {
    for (const text of [
      "It's a test: they'RE here, we'll see 'em. 'Twas (not) 'LL 'x",
      '12345 6789x a1b2 3.14159 1,000,000',
      'word  two   three\tfour\n\nfive \n six\r\n\r\nseven  \n',
      'trailing   ',
      ' \t\u000b\u000cx\u000b(y)',
      '...!!\n\n?? (a) [b] {c} <d> "e" #f @g $1 %2 ^3 &4 *5',
      "' '' ''' 's 'S 't 'RE 've 'Ll 'm 'd 'q",
      'tab\there, space (paren), new\nline',
      '',
      ' ',
      '\n',
      'a',
      "'",
      'Café naïve résumé — “quoted” 日本語の文、テスト。 ٣٤٥ digits ١٢',
      'emoji 😀😀 x\u00a0\u00a0y \u2028z \u3000w \ufeffv é\u0301',
      'word\u00e9 x\u00a0 (\u2014) 12\u0663',
    ]) {
      expect(byPieceEnd(text), JSON.stringify(text)).toEqual(byPattern(text));
    }
  });

  it('cuts random text as the pattern does', () => {
    const alphabet = [
      ...'abcXYZsStTrReEvVlLmMdD0123456789',
      ...' !"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~',
      ' ',
      ' ',
      ' ',
      '\t',
      '\n',
      '\r',
      '\u000b',
      '\u000c',
      '\u0000',
      '\u007f',
      "'s",
      "'re",
      "'ll",
      'é',
      'ü',
      '日',
      '٣',
      '\u00a0',
      '\u2028',
      '\u3000',
      '\u0085',
      '—',
      '“',
      '😀',
      '\u0301',
      '\ud800',
    ];
    const next = random(42);
    for (let i = 0; i < 20_000; i++) {
      let text = '';
      const length = next(24);
      for (let j = 0; j < length; j++) text += alphabet[next(alphabet.length)];
      expect(byPieceEnd(text), JSON.stringify(text)).toEqual(byPattern(text));
    }
  });
});
