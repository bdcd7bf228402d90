import { describe, expect, it } from 'vitest';
import type { SearchHit } from '../vector-store/types.js';
import { chunkRecord } from './__tests__/fakes.js';
import { fuseRankings, RRF_K } from './fusion.js';

const A = chunkRecord({ documentId: 'a', text: 'alpha' });
const B = chunkRecord({ documentId: 'b', text: 'beta' });
const C = chunkRecord({ documentId: 'c', text: 'gamma' });
const D = chunkRecord({ documentId: 'd', text: 'delta' });

function hits(...entries: [typeof A, number][]): SearchHit[] {
  return entries.map(([record, score]) => ({ record, score }));
}

describe('fuseRankings', () => {
  const dense = hits([A, 0.9], [B, 0.8], [C, 0.7]);
  const lexical = hits([C, 12], [A, 9], [D, 4]);

  it('sums 1 / (k + rank) over both lists with k = 60', () => {
    expect(RRF_K).toBe(60);
    const fused = fuseRankings(dense, lexical);
    expect(fused.map((c) => c.record.documentId)).toEqual(['a', 'c', 'b', 'd']);
    const [a, c, b, d] = fused;
    expect(a!.fusedScore).toBeCloseTo(1 / 61 + 1 / 62, 12);
    expect(c!.fusedScore).toBeCloseTo(1 / 63 + 1 / 61, 12);
    expect(b!.fusedScore).toBeCloseTo(1 / 62, 12);
    expect(d!.fusedScore).toBeCloseTo(1 / 63, 12);
  });

  it('keeps each list rank and score, null where a list missed the chunk', () => {
    const byId = new Map(fuseRankings(dense, lexical).map((c) => [c.record.documentId, c]));
    expect(byId.get('a')).toMatchObject({ denseRank: 1, denseScore: 0.9, lexicalRank: 2, lexicalScore: 9 });
    expect(byId.get('b')).toMatchObject({
      denseRank: 2,
      denseScore: 0.8,
      lexicalRank: null,
      lexicalScore: null,
    });
    expect(byId.get('d')).toMatchObject({
      denseRank: null,
      denseScore: null,
      lexicalRank: 3,
      lexicalScore: 4,
    });
  });

  it('uses the k it is given', () => {
    const fused = fuseRankings(dense, lexical, { k: 0 });
    expect(fused.map((c) => [c.record.documentId, c.fusedScore])).toEqual([
      ['a', 1 + 1 / 2],
      ['c', 1 / 3 + 1],
      ['b', 1 / 2],
      ['d', 1 / 3],
    ]);
  });

  it('counts a chunk once per list, at its best rank, and once overall', () => {
    const fused = fuseRankings(hits([A, 0.9], [A, 0.5], [B, 0.4]), hits([A, 3]));
    expect(fused).toHaveLength(2);
    expect(fused[0]).toMatchObject({ denseRank: 1, denseScore: 0.9, lexicalRank: 1 });
    expect(fused[0]!.fusedScore).toBeCloseTo(2 / 61, 12);
    expect(fused[1]).toMatchObject({ denseRank: 3 });
  });

  it('breaks ties by dense rank, then lexical rank', () => {
    // B is first in dense only, A first in lexical only: equal RRF scores.
    expect(fuseRankings(hits([B, 0.9]), hits([A, 5])).map((c) => c.record.documentId)).toEqual(['b', 'a']);
    expect(fuseRankings(hits([A, 0.9]), hits([B, 5])).map((c) => c.record.documentId)).toEqual(['a', 'b']);
  });

  it('keeps the best `limit` and handles empty lists', () => {
    expect(fuseRankings(dense, lexical, { limit: 2 }).map((c) => c.record.documentId)).toEqual(['a', 'c']);
    expect(fuseRankings([], [])).toEqual([]);
    expect(fuseRankings([], lexical).map((c) => c.lexicalRank)).toEqual([1, 2, 3]);
  });
});
