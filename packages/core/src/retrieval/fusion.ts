import type { ChunkRecord, SearchHit } from '../vector-store/types.js';

/**
 * The constant of Reciprocal Rank Fusion (Cormack, Clarke and Büttcher, SIGIR 2009): a chunk at
 * 1-based rank r in a list scores 1 / (k + r). 60 is the paper's value and the common default; a
 * large k flattens the curve, so agreement between lists counts more than the top rank of one.
 */
export const RRF_K = 60;

/** A chunk found by retrieval, with where each search placed it. */
export interface RetrievalCandidate {
  record: ChunkRecord;
  /** 1-based rank in the dense (vector) results; null when dense search did not return it. */
  denseRank: number | null;
  /** Cosine similarity from dense search; null when dense search did not return it. */
  denseScore: number | null;
  /** 1-based rank in the lexical (keyword) results; null when lexical search did not return it. */
  lexicalRank: number | null;
  /** The store's lexical relevance score; null when lexical search did not return it. */
  lexicalScore: number | null;
  /** Sum of 1 / (k + rank) over the lists that returned it; higher is better. */
  fusedScore: number;
}

export interface FuseOptions {
  /**
   * RRF constant added to every rank.
   * @default 60 ({@link RRF_K})
   */
  k?: number;
  /** Most candidates kept, best first. Default: all. */
  limit?: number;
}

/**
 * Fuses dense and lexical results with Reciprocal Rank Fusion: scores are ignored (cosine and BM25
 * are not comparable), only ranks count. A chunk is identified by `record.id`; a chunk listed twice
 * in one list keeps its better rank. Ties break by best dense rank, then best lexical rank, then
 * chunk id, so the order is deterministic.
 */
export function fuseRankings(
  dense: readonly SearchHit[],
  lexical: readonly SearchHit[],
  options: FuseOptions = {},
): RetrievalCandidate[] {
  const k = options.k ?? RRF_K;
  if (!Number.isFinite(k) || k < 0) throw new RangeError(`RRF k must be a non-negative number, got ${k}`);
  const byId = new Map<string, RetrievalCandidate>();
  const entry = (record: ChunkRecord): RetrievalCandidate => {
    let candidate = byId.get(record.id);
    if (candidate === undefined) {
      candidate = {
        record,
        denseRank: null,
        denseScore: null,
        lexicalRank: null,
        lexicalScore: null,
        fusedScore: 0,
      };
      byId.set(record.id, candidate);
    }
    return candidate;
  };

  dense.forEach((hit, i) => {
    const candidate = entry(hit.record);
    if (candidate.denseRank !== null) return;
    candidate.denseRank = i + 1;
    candidate.denseScore = hit.score;
    candidate.fusedScore += 1 / (k + i + 1);
  });
  lexical.forEach((hit, i) => {
    const candidate = entry(hit.record);
    if (candidate.lexicalRank !== null) return;
    candidate.lexicalRank = i + 1;
    candidate.lexicalScore = hit.score;
    candidate.fusedScore += 1 / (k + i + 1);
  });

  const fused = [...byId.values()].sort(
    (a, b) =>
      b.fusedScore - a.fusedScore ||
      (a.denseRank ?? Number.POSITIVE_INFINITY) - (b.denseRank ?? Number.POSITIVE_INFINITY) ||
      (a.lexicalRank ?? Number.POSITIVE_INFINITY) - (b.lexicalRank ?? Number.POSITIVE_INFINITY) ||
      compareIds(a.record.id, b.record.id),
  );
  return options.limit === undefined ? fused : fused.slice(0, options.limit);
}

/** Point ids are UUIDs (ASCII), so UTF-16 order is code-point order. */
function compareIds(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}
