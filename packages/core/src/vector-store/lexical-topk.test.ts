import { seededRandom } from '@quire/testkit';
import { describe, expect, it } from 'vitest';
import {
  bm25TermBound,
  countOccurrences,
  exactTopK,
  packImpacts,
  type QueryTerm,
  topByImpacts,
} from './lexical-topk.js';

interface Row {
  id: string;
  score: number;
}

/**
 * A small index: each document holds some terms, each adding a contribution no larger than its
 * term's bound. Common terms are many and weak, rare ones few and strong, as under BM25.
 */
function makeIndex(seed: number, documents: number, vocabulary: number) {
  const random = seededRandom(seed);
  const bounds = new Map<string, number>();
  const docs = Array.from({ length: documents }, (_, d) => ({
    id: `doc-${String(d).padStart(5, '0')}`,
    terms: new Map<string, number>(),
  }));
  for (let t = 0; t < vocabulary; t++) {
    const token = `term${t}`;
    // Zipf-like: term t is in about documents / (t + 1) documents.
    const share = 1 / (t + 1);
    const bound = Math.log(1 + (t + 1) * 2);
    bounds.set(token, bound);
    for (const doc of docs) {
      if (random() < share) doc.terms.set(token, bound * (0.05 + 0.95 * random()));
    }
  }
  const counts = new Map<string, number>();
  for (const doc of docs)
    for (const token of doc.terms.keys()) counts.set(token, (counts.get(token) ?? 0) + 1);
  const calls: Array<{ required: readonly string[]; optional: readonly string[]; matched: number }> = [];
  const runFor =
    (limit: number) =>
    (required: readonly string[], optional: readonly string[]): Row[] => {
      // Summed in one order whatever the split, so that equal sets of terms give equal floats.
      const scoring = [...required, ...optional].sort();
      const matched = docs.filter((doc) => required.some((token) => doc.terms.has(token)));
      calls.push({ required, optional, matched: matched.length });
      return matched
        .map((doc) => ({
          id: doc.id,
          score: scoring.reduce((sum, token) => sum + (doc.terms.get(token) ?? 0), 0),
        }))
        .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1))
        .slice(0, limit);
    };
  const termsOf = (tokens: string[]): QueryTerm[] =>
    tokens.map((token) => ({
      token,
      documents: counts.get(token) ?? 0,
      maxContribution: bounds.get(token) ?? 0,
    }));
  return { runFor, termsOf, calls, random };
}

describe('exactTopK', () => {
  it('returns exactly the full query’s rows, scores and order, ranking fewer rows', () => {
    const index = makeIndex(7, 4_000, 400);
    let pruned = 0;
    let matchedPruned = 0;
    let matchedFull = 0;
    for (let q = 0; q < 300; q++) {
      const limit = [1, 5, 30, 100][q % 4]!;
      const length = 1 + Math.floor(index.random() * 12);
      // Half the words from the commonest terms, half from anywhere.
      const tokens = [
        ...new Set(
          Array.from({ length }, (_, i) =>
            i % 2 === 0
              ? `term${Math.floor(index.random() * 10)}`
              : `term${Math.floor(index.random() * 400)}`,
          ),
        ),
      ];
      const run = index.runFor(limit);
      const expected = run(tokens, []);
      const before = index.calls.length;
      const actual = exactTopK(index.termsOf(tokens), limit, run);
      expect(actual).toEqual(expected);
      const calls = index.calls.slice(before);
      const last = calls.at(-1)!;
      if (last.optional.length > 0) {
        pruned++;
        matchedPruned += last.matched;
        matchedFull += index.calls[before - 1]!.matched;
      }
    }
    // Pruning happened often and ranked far fewer rows than the full queries did.
    expect(pruned).toBeGreaterThan(100);
    expect(matchedPruned).toBeLessThan(matchedFull / 2);
  });

  it('runs the full query for one term, and when rows with required terms are fewer than asked', () => {
    const index = makeIndex(3, 500, 50);
    const run = index.runFor(10);
    const one = exactTopK(index.termsOf(['term0']), 10, run);
    expect(index.calls.at(-1)).toMatchObject({ required: ['term0'], optional: [] });
    expect(one).toEqual(run(['term0'], []));
    // term49 is in about 10 of 500 documents and term0 in all: a limit of 400 cannot be met by term49.
    const before = index.calls.length;
    const many = exactTopK(index.termsOf(['term0', 'term49']), 400, index.runFor(400));
    expect(many).toEqual(index.runFor(400)(['term0', 'term49'], []));
    expect(index.calls.slice(before).at(-2)).toMatchObject({ optional: [] });
  });

  it('never leaves a term with an unbounded contribution optional', () => {
    const calls: Array<{ required: readonly string[]; optional: readonly string[] }> = [];
    const rows = [
      { score: 9, id: 'a' },
      { score: 8, id: 'b' },
      { score: 7, id: 'c' },
    ];
    const result = exactTopK(
      [
        // The commonest term would be the first one made optional, were its bound finite.
        { token: 'common', documents: 1_000_000, maxContribution: Number.POSITIVE_INFINITY },
        { token: 'mid', documents: 100, maxContribution: 2 },
        { token: 'rare', documents: 3, maxContribution: 5 },
      ],
      2,
      (required, optional) => {
        calls.push({ required, optional });
        return rows.slice(0, 2);
      },
    );
    expect(result).toEqual(rows.slice(0, 2));
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every((call) => !call.optional.includes('common'))).toBe(true);
    // With a finite bound the same terms are pruned: the check above is not vacuous.
    const finite: Array<readonly string[]> = [];
    exactTopK(
      [
        { token: 'common', documents: 1_000_000, maxContribution: 0.001 },
        { token: 'mid', documents: 100, maxContribution: 2 },
        { token: 'rare', documents: 3, maxContribution: 5 },
      ],
      2,
      (_required, optional) => {
        finite.push(optional);
        return rows.slice(0, 2);
      },
    );
    expect(finite[0]).toContain('common');
  });
});

describe('bm25TermBound', () => {
  it('is (k1 + 1) times FTS5’s IDF, at least, and tiny for terms in most rows', () => {
    const idf = Math.log((100_000 - 212 + 0.5) / (212 + 0.5));
    expect(bm25TermBound(100_000, 212)).toBeGreaterThanOrEqual(2.2 * idf);
    expect(bm25TermBound(100_000, 212)).toBeLessThan(2.2 * idf * 1.01);
    expect(bm25TermBound(100_000, 60_000)).toBeLessThan(1e-5);
    expect(bm25TermBound(10, 0)).toBeGreaterThan(0);
  });
});

describe('topByImpacts', () => {
  it('ranks as adding every term’s impacts per row in list order, keeping rows tied with the last place', () => {
    const random = seededRandom(21);
    for (let round = 0; round < 200; round++) {
      const terms = 1 + Math.floor(random() * 8);
      const limit = [1, 3, 10, 30][round % 4]!;
      // Few distinct scores, so that ties are common.
      const lists = Array.from({ length: terms }, () => {
        const rows: Array<[number, number]> = [];
        for (let rowid = 1; rowid < 400; rowid++) {
          if (random() < 0.2) rows.push([rowid * 7919, Math.floor(random() * 5) / 4 + 0.1]);
        }
        return rows;
      });
      const totals = new Map<number, number>();
      for (const rows of lists)
        for (const [rowid, score] of rows) totals.set(rowid, (totals.get(rowid) ?? 0) + score);
      const all = [...totals].map(([rowid, score]) => ({ rowid, score }));
      all.sort((a, b) => b.score - a.score || a.rowid - b.rowid);
      const kth = all.length > limit ? all[limit - 1]!.score : Number.NEGATIVE_INFINITY;
      const expected = all.filter((row) => row.score >= kth);
      expect(topByImpacts(lists.map(packImpacts), limit)).toEqual(expected);
    }
  });

  it('packs rowids beyond 32 bits and more than 65,536 distinct scores without loss', () => {
    const rows: Array<[number, number]> = Array.from({ length: 70_000 }, (_, i) => [2 ** 40 + i, i / 3]);
    const packed = packImpacts(rows);
    expect(packed.rowids).toBeInstanceOf(Float64Array);
    expect(packed.codes).toBeInstanceOf(Uint32Array);
    expect(topByImpacts([packed], 2)).toEqual([
      { rowid: 2 ** 40 + 69_999, score: 69_999 / 3 },
      { rowid: 2 ** 40 + 69_998, score: 69_998 / 3 },
    ]);
    const small = packImpacts([
      [5, 0.5],
      [9, 0.5],
    ]);
    expect(small.rowids).toBeInstanceOf(Uint32Array);
    expect(small.palette).toEqual(Float64Array.of(0.5));
  });
});

describe('countOccurrences', () => {
  it('counts each row’s occurrences from the comma-joined list', () => {
    const rows = countOccurrences('3,3,7,12,12,12,4294967296', 4);
    expect(rows).toBeDefined();
    expect(Array.from(rows!.rowids)).toEqual([3, 7, 12, 4294967296]);
    expect(rows!.rowids).toBeInstanceOf(Float64Array);
    expect(Array.from(rows!.tf)).toEqual([2, 1, 3, 1]);
    const small = countOccurrences('1,2,2', 2)!;
    expect(small.rowids).toBeInstanceOf(Uint32Array);
    expect(Array.from(small.tf)).toEqual([1, 2]);
  });

  it('matches counting the occurrences one by one on a long list', () => {
    const random = seededRandom(5);
    const occurrences: number[] = [];
    let rowid = 0;
    for (let i = 0; i < 20_000; i++) {
      rowid += 1 + Math.floor(random() * 40);
      const times = 1 + Math.floor(random() * random() * 9);
      for (let j = 0; j < times; j++) occurrences.push(rowid);
    }
    const expected = new Map<number, number>();
    for (const id of occurrences) expected.set(id, (expected.get(id) ?? 0) + 1);
    const rows = countOccurrences(occurrences.join(','), expected.size)!;
    expect(Array.from(rows.rowids)).toEqual([...expected.keys()]);
    expect(Array.from(rows.tf)).toEqual([...expected.values()]);
  });

  it('is undefined for a list it cannot take as it is, for the term to be read another way', () => {
    for (const [list, documents] of [
      ['1,2,3', 2], // more rows than FTS5 counts
      ['1,2', 3], // fewer
      ['2,1', 2], // out of order
      ['1,,2', 2], // an empty item
      ['1,2,', 2],
      ['-1,2', 2], // not a digit
      ['1, 2', 2],
      ['1.5,2', 2],
      ['', 1],
      ['12345678901234567,12345678901234568', 2], // more digits than 2^53 has
      ['9007199254740993', 1], // past 2^53
      ['1', 0],
    ] as const) {
      expect(countOccurrences(list, documents), list).toBeUndefined();
    }
  });
});
