import { describe, expect, it } from 'vitest';
import { featureCosine, lexicalFeatures } from './embedder.js';
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

  it("gives each document its most similar seed's share, by the cosine of their lexical features", () => {
    const texts = [
      ...DOCUMENTS,
      'Sensitive skin needs gentle products: organic oils, no perfume.',
      'Aloe vera gel soothes skin after sun; chamomile calms redness.',
      'Hypoallergen und klinisch getestet: Pflege für empfindliche Haut.',
      'Bold colors dominate this season of makeup and nail art.',
      'Organic cotton towels, gentle on sensitive skin, tested by dermatologists.',
    ];
    const plain = lexicalRerank(QUERY, texts, { feedbackWeight: 0 });
    const full = lexicalRerank(QUERY, texts, { feedbackWeight: 0.3 });
    // Scores are s / (s + 0.25): back to s.
    const raw = (score: number) => (0.25 * score) / (1 - score);
    const coverage = new Map(plain.map((item) => [item.index, raw(item.relevanceScore)]));
    const seeds = [...coverage]
      .filter(([, score]) => score > 0)
      .sort((x, y) => y[1] - x[1] || x[0] - y[0])
      .slice(0, 3);
    const features = texts.map((text) => lexicalFeatures(text));
    let fed = 0;
    for (const item of full) {
      let feedback = 0;
      for (const [seed, score] of seeds) {
        if (seed === item.index) continue;
        feedback = Math.max(feedback, featureCosine(features[item.index]!, features[seed]!) * score);
      }
      if (feedback > 0.01) fed++;
      expect(raw(item.relevanceScore)).toBeCloseTo(coverage.get(item.index)! + 0.3 * feedback, 9);
    }
    expect(fed).toBeGreaterThan(4);
  });

  it('ranks documents analysed before as it ranks them fresh, whatever was reranked in between', () => {
    const texts = [...DOCUMENTS, 'Sensitive skin needs gentle products: organic oils, no perfume.'];
    // First without the feedback step, so the cached analyses have no features yet.
    const plainFirst = lexicalRerank(QUERY, texts, { feedbackWeight: 0 });
    const first = lexicalRerank(QUERY, texts);
    const words = ['harbour', 'crane', 'ledger', 'orbit', 'violin', 'glacier', 'quartz', 'meadow'];
    const others = (round: number) =>
      Array.from({ length: 5 }, (_, d) =>
        Array.from(
          { length: 120 },
          (_, w) => `${words[(round + d + w) % words.length]}${round * 5 + d}x${w}`,
        ).join(' '),
      );
    // Many other passages, with one of ours among them now and then: ours stay cached.
    for (let round = 0; round < 40; round++) {
      lexicalRerank('harbour crane orbit', [texts[round % texts.length]!, ...others(round)]);
    }
    // A trailing space changes no term: the same texts, never seen, so analysed afresh.
    const fresh = lexicalRerank(
      QUERY,
      texts.map((t) => `${t} `),
    );
    expect(first).toEqual(fresh);
    expect(lexicalRerank(QUERY, texts)).toEqual(fresh);
    // Many more without ours: they leave the cache and are analysed again.
    for (let round = 40; round < 300; round++) lexicalRerank('harbour crane orbit', others(round));
    expect(lexicalRerank(QUERY, texts)).toEqual(fresh);
    expect(lexicalRerank(QUERY, texts, { feedbackWeight: 0 })).toEqual(plainFirst);
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

  it('matches Chinese questions by their words, not by question words or bigrams across words', () => {
    // The first document holds 什么 and the bigrams 玉喝, 喝了, 了什 of the question, the second its
    // words 宝玉, 喝了 and 汤: only the second answers it.
    const documents = ['宝玉喝了什么？他说什么了什么都不知道。', '众人端上桂圆汤来，宝玉喝了两口。'];
    expect(lexicalRerank('宝玉喝了什么汤？', documents)[0]!.index).toBe(1);
    expect(lexicalRerank('宝玉喝了什么汤？', [...documents].reverse())[0]!.index).toBe(0);
  });

  it('lets words sharing a Han character meet (梦里 / 梦中), with the character share only', () => {
    const documents = ['宝玉在房中哭了。', '宝玉在梦中哭了。'];
    const ranked = lexicalRerank('宝玉梦里哭了吗？', documents);
    expect(ranked[0]!.index).toBe(1);
    expect(ranked[0]!.relevanceScore).toBeGreaterThan(ranked[1]!.relevanceScore);
    const wordsOnly = lexicalRerank('宝玉梦里哭了吗？', documents, { characterWeight: 0 });
    expect(wordsOnly[0]!.relevanceScore).toBe(wordsOnly[1]!.relevanceScore);
  });

  it('keeps the numerals of questions in spaced languages', () => {
    // German stopword lists hold numerals; "sieben" is what this question turns on.
    const ranked = lexicalRerank('Was warf Sieben hin?', [
      'Fünf warf den Pinsel hin.',
      'Sieben warf den Pinsel hin.',
    ]);
    expect(ranked[0]!.index).toBe(1);
  });

  it('returns nothing for no documents', () => {
    expect(lexicalRerank(QUERY, [])).toEqual([]);
  });
});
