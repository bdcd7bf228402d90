import { describe, expect, it } from 'vitest';
import { analyze, contentTerms, countTokens, termMatch } from './analyze.js';

describe('analyze', () => {
  it('normalises with NFKC and lowercase and splits on non-letters', () => {
    expect(analyze('Ｆｕｌｌ-Width ﬁle, CAFÉ!').map((t) => t.text)).toEqual([
      'full',
      'width',
      'file',
      'café',
    ]);
  });

  it('cuts unsegmented scripts into character bigrams', () => {
    expect(analyze('東京タワー').map((t) => t.text)).toEqual(['東京', '京タ', 'タワ', 'ワー']);
    expect(analyze('Tokyo東京 is big')).toEqual([
      { text: 'tokyo', bigram: false },
      { text: '東京', bigram: true },
      { text: 'is', bigram: false },
      { text: 'big', bigram: false },
    ]);
  });

  it('keeps a single unsegmented character as a term of its own', () => {
    expect(analyze('猫').map((t) => t.text)).toEqual(['猫']);
  });

  it('drops English stopwords and hiragana-only bigrams, unless nothing would remain', () => {
    expect(contentTerms(analyze('the price of the lamp')).map((t) => t.text)).toEqual(['price', 'lamp']);
    expect(contentTerms(analyze('to be or not to be')).map((t) => t.text)).toHaveLength(6);
    expect(contentTerms(analyze('首都はどこですか')).map((t) => t.text)).toEqual(['首都', '都は']);
  });

  it('counts one token per word and per unsegmented character', () => {
    expect(countTokens('Hello, world!')).toBe(2);
    expect(countTokens('東京 tower')).toBe(3);
    expect(countTokens('')).toBe(0);
  });

  it('matches light stems below exact matches and ignores short prefixes', () => {
    expect(termMatch('product', 'product')).toBe(1);
    expect(termMatch('products', 'product')).toBeGreaterThan(0.7);
    expect(termMatch('products', 'product')).toBeLessThan(1);
    expect(termMatch('hypoallergenic', 'hypoallergen')).toBeGreaterThan(0.7);
    expect(termMatch('car', 'cart')).toBe(0);
    expect(termMatch('skin', 'makeup')).toBe(0);
  });
});
