import { describe, expect, it } from 'vitest';
import { lexicalRerank } from './reranker.js';

const QUERY = 'Organic skincare products for sensitive skin';
const DOCUMENTS = [
  'Organic skincare for sensitive skin with aloe vera and chamomile. Clinically tested and hypoallergenic.',
  'New makeup trends focus on bold colors and innovative application techniques for a striking look.',
  'Bio-Hautpflege für empfindliche Haut mit Aloe Vera und Kamille. Klinisch getestet und hypoallergen.',
];

describe('lexicalRerank', () => {
  it('ranks the reference example: English skincare first, German second, makeup last', () => {
    const ranked = lexicalRerank(QUERY, DOCUMENTS);
    expect(ranked.map((item) => item.index)).toEqual([0, 2, 1]);
    expect(ranked[0]!.relevanceScore).toBeGreaterThan(0.5);
    expect(ranked[1]!.relevanceScore).toBeGreaterThan(ranked[2]!.relevanceScore);
  });

  it('needs the feedback step for the translated document to beat the unrelated one', () => {
    // Plain BM25 sees no query word in either; the order between them is only the tie-break.
    const plain = lexicalRerank(QUERY, DOCUMENTS, { feedbackWeight: 0 });
    expect(plain[1]!.relevanceScore).toBe(plain[2]!.relevanceScore);
  });

  it('is deterministic', () => {
    expect(lexicalRerank(QUERY, DOCUMENTS)).toEqual(lexicalRerank(QUERY, DOCUMENTS));
  });

  it('keeps scores in [0, 1) sorted descending, and respects topN', () => {
    const ranked = lexicalRerank(QUERY, DOCUMENTS, { topN: 2 });
    expect(ranked).toHaveLength(2);
    for (const item of ranked) {
      expect(item.relevanceScore).toBeGreaterThanOrEqual(0);
      expect(item.relevanceScore).toBeLessThan(1);
    }
    expect(ranked[0]!.relevanceScore).toBeGreaterThanOrEqual(ranked[1]!.relevanceScore);
  });

  it('breaks ties by index', () => {
    const ranked = lexicalRerank('lamp', ['a red lamp', 'a red lamp', 'a red lamp']);
    expect(ranked.map((item) => item.index)).toEqual([0, 1, 2]);
  });

  it('ranks a single document sensibly and matches light stems', () => {
    const [hit] = lexicalRerank('products', ['Our product range']);
    expect(hit!.relevanceScore).toBeGreaterThan(0.5);
    const [miss] = lexicalRerank('products', ['Opening hours of the shop']);
    expect(miss!.relevanceScore).toBe(0);
  });

  it('prefers the document covering more of the query, and rarer terms', () => {
    const ranked = lexicalRerank('warranty period premium lamp', [
      'The lamp is sold in three colours.',
      'The premium lamp has a warranty period of two years.',
      'Every lamp ships in a box.',
    ]);
    expect(ranked[0]!.index).toBe(1);
  });

  it('ranks text without spaces', () => {
    const ranked = lexicalRerank('東京の天気', ['大阪は雨です', '東京は晴れです']);
    expect(ranked[0]!.index).toBe(1);
  });

  it('returns nothing for no documents', () => {
    expect(lexicalRerank(QUERY, [])).toEqual([]);
  });
});
