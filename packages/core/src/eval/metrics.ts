/**
 * Retrieval and answer metrics, as BEIR reports them (through trec_eval): every metric is computed
 * per query over a ranked list of document ids, then averaged over the queries that have at least
 * one relevant document. A document listed twice counts at its first rank only.
 */

/** Graded relevance of documents for one query: document id → grade (> 0 is relevant). */
export type Relevance = ReadonlyMap<string, number>;

/** The cut-offs every report shows. */
export const RECALL_CUTOFFS = [1, 5, 10, 20] as const;

/** A ranking with duplicates removed, first occurrence kept (chunks of one document → one entry). */
export function uniqueRanking(ranking: readonly string[]): string[] {
  return [...new Set(ranking)];
}

function relevantCount(relevance: Relevance): number {
  let count = 0;
  for (const grade of relevance.values()) if (grade > 0) count++;
  return count;
}

/** Share of the relevant documents found in the first `k`; 0 when the query has none. */
export function recallAt(ranking: readonly string[], relevance: Relevance, k: number): number {
  const total = relevantCount(relevance);
  if (total === 0) return 0;
  const found = uniqueRanking(ranking)
    .slice(0, k)
    .filter((id) => (relevance.get(id) ?? 0) > 0).length;
  return found / total;
}

/** 1 / rank of the first relevant document within the first `k`, 0 when none is there. */
export function reciprocalRankAt(ranking: readonly string[], relevance: Relevance, k: number): number {
  const rank = firstRelevantRank(ranking, relevance);
  return rank !== null && rank <= k ? 1 / rank : 0;
}

/** 1-based rank of the first relevant document, null when none is in the list. */
export function firstRelevantRank(ranking: readonly string[], relevance: Relevance): number | null {
  const index = uniqueRanking(ranking).findIndex((id) => (relevance.get(id) ?? 0) > 0);
  return index < 0 ? null : index + 1;
}

/**
 * nDCG at `k` with trec_eval's linear gain: DCG = Σ grade / log2(rank + 1) over the first `k`,
 * divided by the DCG of the ideal order (grades sorted descending). 0 when the query has no relevant
 * document.
 */
export function ndcgAt(ranking: readonly string[], relevance: Relevance, k: number): number {
  const dcg = uniqueRanking(ranking)
    .slice(0, k)
    .reduce((sum, id, i) => sum + Math.max(0, relevance.get(id) ?? 0) / Math.log2(i + 2), 0);
  const ideal = [...relevance.values()]
    .filter((grade) => grade > 0)
    .sort((a, b) => b - a)
    .slice(0, k)
    .reduce((sum, grade, i) => sum + grade / Math.log2(i + 2), 0);
  return ideal === 0 ? 0 : dcg / ideal;
}

/** The retrieval metrics of one ranking for one query. */
export interface RankingMetrics {
  recallAt1: number;
  recallAt5: number;
  recallAt10: number;
  recallAt20: number;
  mrrAt10: number;
  ndcgAt10: number;
}

export function rankingMetrics(ranking: readonly string[], relevance: Relevance): RankingMetrics {
  return {
    recallAt1: recallAt(ranking, relevance, 1),
    recallAt5: recallAt(ranking, relevance, 5),
    recallAt10: recallAt(ranking, relevance, 10),
    recallAt20: recallAt(ranking, relevance, 20),
    mrrAt10: reciprocalRankAt(ranking, relevance, 10),
    ndcgAt10: ndcgAt(ranking, relevance, 10),
  };
}

/** Mean of each metric; every field 0 for an empty list. */
export function meanMetrics(rows: readonly RankingMetrics[]): RankingMetrics {
  const mean = (pick: (row: RankingMetrics) => number) =>
    rows.length === 0 ? 0 : rows.reduce((sum, row) => sum + pick(row), 0) / rows.length;
  return {
    recallAt1: mean((r) => r.recallAt1),
    recallAt5: mean((r) => r.recallAt5),
    recallAt10: mean((r) => r.recallAt10),
    recallAt20: mean((r) => r.recallAt20),
    mrrAt10: mean((r) => r.mrrAt10),
    ndcgAt10: mean((r) => r.ndcgAt10),
  };
}

/**
 * Text compared for answer containment: NFKC, lowercase, `[n]` citation marks removed, every run of
 * whitespace and punctuation a single space. So "Two years." contains "two years" and full-width
 * forms match their ASCII twins.
 */
export function normalizeAnswerText(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/\[\d+\]/g, ' ')
    .replace(/[\p{P}\p{S}\s]+/gu, ' ')
    .trim();
}

/** Whether `answer` contains one of the gold strings (after {@link normalizeAnswerText}). */
export function containsAnswer(answer: string, gold: readonly string[]): boolean {
  const haystack = ` ${normalizeAnswerText(answer)} `;
  return gold.some((g) => {
    const needle = normalizeAnswerText(g);
    return needle !== '' && haystack.includes(needle);
  });
}

/** Nearest-rank percentile (`p` in 0..100) of `values`; 0 for an empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}
