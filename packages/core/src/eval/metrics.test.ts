import { describe, expect, it } from 'vitest';
import {
  containsAnswer,
  firstRelevantRank,
  meanMetrics,
  ndcgAt,
  percentile,
  rankingMetrics,
  recallAt,
  reciprocalRankAt,
} from './metrics.js';

// Hand-computed cases: every expected figure below was worked out on paper from the definitions.
const one = new Map([['d3', 1]]);
const two = new Map([
  ['d1', 1],
  ['d4', 1],
]);
const graded = new Map([
  ['a', 3],
  ['b', 2],
  ['c', 1],
]);

describe('recall, MRR and first rank', () => {
  it('counts relevant documents in the first k', () => {
    const ranking = ['d2', 'd3', 'd5'];
    expect(recallAt(ranking, one, 1)).toBe(0);
    expect(recallAt(ranking, one, 2)).toBe(1);
    // d1 at 3, d4 missing: 1 of 2.
    expect(recallAt(['d9', 'd8', 'd1'], two, 5)).toBe(0.5);
    expect(recallAt(['d4', 'd1'], two, 1)).toBe(0.5);
  });

  it('counts a document found twice (two chunks) once, at its first rank', () => {
    // Unique order: d2, d3 → d3 at rank 2.
    expect(recallAt(['d2', 'd2', 'd3'], one, 2)).toBe(1);
    expect(firstRelevantRank(['d2', 'd2', 'd3'], one)).toBe(2);
    expect(reciprocalRankAt(['d2', 'd2', 'd3'], one, 10)).toBe(0.5);
  });

  it('gives 0 past the cut-off and for queries without relevant documents', () => {
    const ranking = Array.from({ length: 11 }, (_, i) => (i === 10 ? 'd3' : `x${i}`));
    expect(reciprocalRankAt(ranking, one, 10)).toBe(0);
    expect(reciprocalRankAt(ranking, one, 11)).toBeCloseTo(1 / 11, 12);
    expect(firstRelevantRank(['x'], one)).toBeNull();
    expect(recallAt(['d3'], new Map(), 1)).toBe(0);
  });
});

describe('nDCG', () => {
  it('is 1 for the ideal order and less for a worse one', () => {
    expect(ndcgAt(['a', 'b', 'c'], graded, 10)).toBeCloseTo(1, 12);
    // DCG(c, b, a) = 1/1 + 2/log2(3) + 3/2 = 3.761859507; IDCG = 3 + 2/log2(3) + 1/2 = 4.761859507.
    expect(ndcgAt(['c', 'b', 'a'], graded, 10)).toBeCloseTo(3.761859507 / 4.761859507, 8);
  });

  it('cuts both the ranking and the ideal list at k', () => {
    // k = 1: DCG = grade of b = 2, IDCG = 3.
    expect(ndcgAt(['b', 'a'], graded, 1)).toBeCloseTo(2 / 3, 12);
    // Binary, relevant at rank 3: 1/log2(4) = 0.5 over IDCG 1.
    expect(ndcgAt(['x', 'y', 'd3'], one, 10)).toBeCloseTo(0.5, 12);
  });
});

describe('rankingMetrics and meanMetrics', () => {
  it('computes all six figures for one query and averages them', () => {
    // Relevant d1 (rank 2) and d4 (rank 7) among 8.
    const ranking = ['x1', 'd1', 'x2', 'x3', 'x4', 'x5', 'd4', 'x6'];
    const m = rankingMetrics(ranking, two);
    expect(m).toMatchObject({ recallAt1: 0, recallAt5: 0.5, recallAt10: 1, recallAt20: 1, mrrAt10: 0.5 });
    // DCG = 1/log2(3) + 1/log2(8) = 0.630929754 + 0.333333333; IDCG = 1 + 1/log2(3) = 1.630929754.
    expect(m.ndcgAt10).toBeCloseTo(0.964263087 / 1.630929754, 8);

    const perfect = rankingMetrics(['d3'], one);
    const mean = meanMetrics([m, perfect]);
    expect(mean.recallAt1).toBe(0.5);
    expect(mean.recallAt5).toBe(0.75);
    expect(mean.mrrAt10).toBe(0.75);
    expect(meanMetrics([]).ndcgAt10).toBe(0);
  });
});

describe('answer containment', () => {
  it('ignores case, punctuation, citation marks and width', () => {
    expect(containsAnswer('The warranty lasts Two Years. [2]', ['two years'])).toBe(true);
    expect(containsAnswer('Sie fiel in Salzwasser [1]', ['in Salzwasser'])).toBe(true);
    expect(containsAnswer('月給は４０円だ。', ['月給は40円'])).toBe(true);
    expect(containsAnswer('貴様は駄目だ [1]', ['十八岁'])).toBe(false);
    expect(containsAnswer('anything', [''])).toBe(false);
    expect(containsAnswer('ten years', ['two years', 'ten years'])).toBe(true);
  });
});

describe('percentile', () => {
  it('takes the nearest rank', () => {
    expect(percentile([5, 1, 4, 2, 3], 50)).toBe(3);
    expect(percentile([5, 1, 4, 2, 3], 95)).toBe(5);
    expect(percentile([7], 50)).toBe(7);
    expect(percentile([], 50)).toBe(0);
  });
});
