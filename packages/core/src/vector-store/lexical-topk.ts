/**
 * Exact top-k for "any of these terms" lexical queries, without ranking every row that holds a
 * common term (MaxScore pruning, as search engines do it over posting lists).
 *
 * A query's terms are split into *required* terms (the rarest) and *optional* ones (the commonest).
 * The pruned query matches only rows holding a required term, but still scores every row with all
 * the terms. Each term adds at most `maxContribution` to a row's score, so a row holding optional
 * terms alone scores at most the sum of their bounds. When the pruned query's k-th score is above
 * that sum, no row it skipped could have entered the top k: its result is the full query's result,
 * rows, scores (up to the rounding of a sum taken in another order) and order. Otherwise the split is narrowed to what the k-th score allows, or the full
 * query runs.
 */

export interface QueryTerm {
  token: string;
  /** Rows holding the term, which orders terms from common to rare. */
  documents: number;
  /** The most the term can add to one row's score; `Infinity` keeps it required. */
  maxContribution: number;
}

/**
 * Runs the query for rows holding any `required` term, scored with `required` and `optional`
 * terms together; rows ordered by score descending (ties broken as the full query breaks them),
 * at most `limit`. With `optional` empty it is the full query.
 */
export type RunLexical<Row extends { score: number }> = (
  required: readonly string[],
  optional: readonly string[],
) => Row[];

/** Postings the first attempt's required terms should reach, per row asked for. */
const POSTINGS_PER_RESULT = 32;
/** How much the posting target grows when the required terms matched fewer rows than asked for. */
const TARGET_GROWTH = 16;
const MAX_ATTEMPTS = 3;

/** bm25's constants in SQLite FTS5 (`k1` 1.2, `b` 0.75; not configurable there). */
const BM25_K1 = 1.2;

/**
 * The most one term can add to an FTS5 `bm25()` score with column weight `weight`: its IDF times
 * `(k1 + 1)`, since `tf·(k1+1) / (tf + k1·D)` stays under `k1 + 1` for any length factor `D > 0`. IDF as
 * FTS5 computes it (`ln((N − n + 0.5) / (n + 0.5))`, floored at 1e-6). `totalRows` must be FTS5's own
 * N (see `fts5RowCount`); it is taken a little generously, so that a count a little off can only
 * raise the bound.
 */
export function bm25TermBound(totalRows: number, documents: number, weight = 1): number {
  const rows = totalRows + Math.ceil(totalRows / 100) + 16;
  const idf = Math.log((rows - documents + 0.5) / (documents + 0.5));
  return Math.max(1e-6, idf) * (BM25_K1 + 1) * weight * (1 + 1e-9) + 1e-12;
}

/**
 * The top `limit` rows of the full query, computed with as few rows ranked as the bounds allow.
 * `share` is the part of the counted rows the query can match (a tenant's part of the index, whose
 * term counts cover every tenant): the first attempt asks for proportionally more postings.
 */
export function exactTopK<Row extends { score: number }>(
  terms: readonly QueryTerm[],
  limit: number,
  run: RunLexical<Row>,
  share = 1,
): Row[] {
  // Commonest first, so that every split is a prefix (optional) and the rest (required).
  const sorted = [...terms].sort((a, b) => b.documents - a.documents || (a.token < b.token ? -1 : 1));
  const tokens = sorted.map((term) => term.token);
  // Optional terms are a prefix of `sorted` that stops before the first term without a finite bound.
  const unbounded = sorted.findIndex((term) => !Number.isFinite(term.maxContribution));
  const maxSplit = unbounded === -1 ? sorted.length : unbounded;
  const full = () => run(tokens, []);
  const attempt = (split: number) => {
    const optional = tokens.slice(0, split);
    const bound = sorted.slice(0, split).reduce((sum, term) => sum + term.maxContribution, 0);
    return { rows: run(tokens.slice(split), optional), bound };
  };
  const kthScore = (rows: Row[]) => (rows.length >= limit ? rows[limit - 1]!.score : undefined);

  let target = (POSTINGS_PER_RESULT * limit) / Math.min(1, Math.max(share, 1e-6));
  for (let round = 0; round < MAX_ATTEMPTS; round++) {
    // The rarest terms, until their postings reach the target, are required.
    let split = sorted.length;
    let postings = 0;
    while (split > 0 && postings < target) {
      split--;
      postings += sorted[split]!.documents;
    }
    split = Math.min(split, maxSplit);
    if (split === 0) return full();
    const first = attempt(split);
    const kth = kthScore(first.rows);
    if (kth === undefined) {
      // Too few rows hold a required term: rows with optional terms alone may belong to the top k.
      target *= TARGET_GROWTH;
      continue;
    }
    if (kth > first.bound) return first.rows;
    // Keep optional only what cannot reach the k-th score found; the k-th score of a larger match
    // set is at least as high, so this attempt passes (checked all the same).
    let narrowed = 0;
    let bound = 0;
    while (narrowed < sorted.length && bound + sorted[narrowed]!.maxContribution < kth) {
      bound += sorted[narrowed]!.maxContribution;
      narrowed++;
    }
    if (narrowed === 0) return full();
    const second = attempt(narrowed);
    const secondKth = kthScore(second.rows);
    return secondKth !== undefined && secondKth > second.bound ? second.rows : full();
  }
  return full();
}
