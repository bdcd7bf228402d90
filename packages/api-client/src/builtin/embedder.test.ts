import { describe, expect, it } from 'vitest';
import { featureCosine, hashedEmbedding, lexicalFeatures } from './embedder.js';
import { fmix32, fnv1a32 } from './hash.js';

function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
  return dot;
}

describe('hash', () => {
  it('implements 32-bit FNV-1a', () => {
    // Published FNV-1a test vectors.
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('mixes bits with the murmur3 finaliser', () => {
    expect(fmix32(0)).toBe(0);
    expect(fmix32(1)).not.toBe(fmix32(2));
  });
});

describe('hashedEmbedding', () => {
  it('is deterministic and has the requested dimension', () => {
    const text = 'Organic skincare for sensitive skin';
    const first = hashedEmbedding(text, 384);
    expect(first).toHaveLength(384);
    expect(hashedEmbedding(text, 384)).toEqual(first);
    expect(hashedEmbedding(text, 64)).toHaveLength(64);
  });

  it('returns unit vectors rounded to float32, also for empty text', () => {
    for (const text of ['a longer sentence about lamps', '', '!!!', '東京']) {
      const vector = hashedEmbedding(text, 128);
      expect(Math.abs(cosine(vector, vector) - 1)).toBeLessThan(1e-5);
      for (const value of vector) expect(Math.fround(value)).toBe(value);
    }
  });

  it('puts related texts closer than unrelated ones', () => {
    const query = hashedEmbedding('How do I reset my password?');
    const related = hashedEmbedding('To reset a forgotten password, open the account settings.');
    const unrelated = hashedEmbedding('The quarterly revenue grew by twelve percent.');
    expect(cosine(query, related)).toBeGreaterThan(cosine(query, unrelated) + 0.1);
  });

  it('matches inflections through character n-grams', () => {
    const base = hashedEmbedding('hypoallergenic products');
    expect(cosine(base, hashedEmbedding('hypoallergen product'))).toBeGreaterThan(
      cosine(base, hashedEmbedding('bold makeup colours')),
    );
  });

  it('embeds text without spaces meaningfully', () => {
    const query = hashedEmbedding('東京の天気');
    expect(cosine(query, hashedEmbedding('今日の東京の天気は晴れです'))).toBeGreaterThan(
      cosine(query, hashedEmbedding('大阪で会議があります')) + 0.1,
    );
  });

  it('rejects a dimension that is not a positive integer', () => {
    expect(() => hashedEmbedding('x', 0)).toThrow(RangeError);
    expect(() => hashedEmbedding('x', 1.5)).toThrow(RangeError);
  });
});

describe('lexicalFeatures', () => {
  it('weighs repeated words sublinearly', () => {
    const once = lexicalFeatures('lamp');
    const thrice = lexicalFeatures('lamp lamp lamp');
    const key = 'u\u0000lamp';
    expect(thrice.get(key)).toBeCloseTo((once.get(key) ?? 0) * (1 + Math.log(3)));
  });

  it('gives identical texts a cosine of 1 and disjoint texts 0', () => {
    expect(featureCosine(lexicalFeatures('red lamp'), lexicalFeatures('red lamp'))).toBeCloseTo(1);
    expect(featureCosine(lexicalFeatures('red lamp'), lexicalFeatures('xyz qwv'))).toBe(0);
  });
});

describe('lexicalFeatures character n-grams', () => {
  const ngrams = (features: Map<string, number>) =>
    [...features.keys()].filter((key) => key.startsWith('c\u0000')).map((key) => key.slice(2));

  it('cuts 3–5-grams of the padded word, by code point outside the BMP', () => {
    expect(ngrams(lexicalFeatures('cats'))).toEqual([
      '<ca',
      'cat',
      'ats',
      'ts>',
      '<cat',
      'cats',
      'ats>',
      '<cats',
      'cats>',
    ]);
    const astral = ngrams(lexicalFeatures('𐌰𐌱𐌲𐌳'));
    expect(astral).toEqual(['<𐌰𐌱', '𐌰𐌱𐌲', '𐌱𐌲𐌳', '𐌲𐌳>', '<𐌰𐌱𐌲', '𐌰𐌱𐌲𐌳', '𐌱𐌲𐌳>', '<𐌰𐌱𐌲𐌳', '𐌰𐌱𐌲𐌳>']);
    // Gothic letters lie outside the BMP: no n-gram splits a surrogate pair.
    expect(
      astral.every(
        (gram) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(gram),
      ),
    ).toBe(true);
  });

  it('gives the same features for a word seen before, whatever was seen in between', () => {
    const text = 'harbour cranes lift containers; the harbour never sleeps';
    const first = lexicalFeatures(text);
    for (let i = 0; i < 5_000; i++) lexicalFeatures(`word${i}`);
    expect(lexicalFeatures(text)).toEqual(first);
    expect(first.get('c\u0000harb')).toBeCloseTo(0.25 * (1 + Math.log(2)), 12);
  });
});
