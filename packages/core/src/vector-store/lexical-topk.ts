/**
 * Exact top-k for "any of these terms" lexical queries, without ranking every row that holds a
 * common term (MaxScore pruning, as search engines do it over posting lists).
 *
 * A query's terms are split into *required* terms (those that can add most to a row's score, mostly the
 * rarest) and *optional* ones (those that can add least, mostly the commonest).
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
const BM25_B = 0.75;

/**
 * One phrase's part of FTS5's bm25() in one row, computed operation for operation as `fts5_aux.c`
 * computes it, so that with FTS5's own IDF (its `log()`, see `TenantLexicalIndexes`) it is the very
 * same float: `tf` the phrase's weighted hits in the row, `length` the row's tokens in every column,
 * `averageLength` the index's tokens over its row count.
 */
export function bm25Part(idf: number, tf: number, length: number, averageLength: number): number {
  return idf * ((tf * (BM25_K1 + 1.0)) / (tf + BM25_K1 * (1 - BM25_B + (BM25_B * length) / averageLength)));
}

/**
 * The term frequency behind a one-term bm25() score, given the row's length: the inverse of
 * {@link bm25Part}, before rounding (callers round it and check the result).
 */
export function bm25TermFrequency(score: number, idf: number, length: number, averageLength: number): number {
  const lengthFactor = BM25_K1 * (1 - BM25_B + (BM25_B * length) / averageLength);
  return (score * lengthFactor) / (idf * (BM25_K1 + 1.0) - score);
}

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
 * `share` is the part of the counted rows the query can match: the first attempt asks for
 * proportionally more postings.
 *
 * Terms are ordered by bound, smallest first, as MaxScore orders them: every optional set is a prefix
 * of that order, and the terms that can add most to a row stay required. The first attempt requires
 * the terms of the highest bounds until their postings reach a target; its k-th score, a lower bound of
 * the full query's, then decides how many terms the second attempt can leave optional.
 */
export function exactTopK<Row extends { score: number }>(
  terms: readonly QueryTerm[],
  limit: number,
  run: RunLexical<Row>,
  share = 1,
): Row[] {
  // Smallest bound first (commonest first among equal bounds); unbounded terms last, always required.
  const sorted = [...terms].sort(
    (a, b) =>
      a.maxContribution - b.maxContribution ||
      b.documents - a.documents ||
      (a.token < b.token ? -1 : a.token > b.token ? 1 : 0),
  );
  const tokens = sorted.map((term) => term.token);
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
    // The terms of the highest bounds, until their postings reach the target, are required.
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
    // Keep optional only what cannot reach the k-th score found; the second attempt matches every row
    // the first did (its required terms include the first's), so its k-th score is at least as high
    // and it passes (checked all the same).
    let narrowed = 0;
    let bound = 0;
    while (narrowed < split && bound + sorted[narrowed]!.maxContribution < kth) {
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

/**
 * One term's rows (ascending) and what the term adds to each row's score: `palette[codes[i]]` for row
 * `rowids[i]`. Rows of equal term frequency and length score alike, so a term has far fewer distinct
 * scores than rows, and a palette keeps them in 6 bytes a row instead of 16.
 */
export interface TermImpacts {
  rowids: Uint32Array | Float64Array;
  codes: Uint16Array | Uint32Array;
  palette: Float64Array;
}

/** Whether a rowid fits a `Uint32Array`, so that a term's rowids take 4 bytes each instead of 8. */
export function fitsUint32(rowid: number): boolean {
  return rowid >= 0 && rowid <= 0xffffffff;
}

/** The rowids of a term's `(rowid, …)` rows, in 4 bytes each when they all fit. */
export function packRowids(rows: ReadonlyArray<readonly [number, number]>): TermImpacts['rowids'] {
  const small = rows.every(([rowid]) => fitsUint32(rowid));
  const rowids = small ? new Uint32Array(rows.length) : new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) rowids[i] = rows[i]![0];
  return rowids;
}

/** A term's rows, ascending, and how many times each holds it (`tf[i]` for `rowids[i]`). */
export interface TermRows {
  rowids: TermImpacts['rowids'];
  tf: Uint32Array;
}

/**
 * A term's rows and frequencies from its occurrences as fts5vocab lists them (one rowid per
 * occurrence, ascending) joined by commas in SQL (`group_concat(doc)`): one string for the whole
 * list instead of a JavaScript value per occurrence. Undefined, for the caller to read the term
 * another way, when the list is not that (a character other than a digit or a comma, an empty
 * item, rowids out of order or past 2^53) or holds other than `documents` rows.
 */
export function countOccurrences(list: string, documents: number): TermRows | undefined {
  if (!Number.isInteger(documents) || documents <= 0 || list.length === 0) return undefined;
  const rowids = new Float64Array(documents);
  const tf = new Uint32Array(documents);
  let rows = 0;
  let previous = -1;
  let value = 0;
  let digits = 0;
  let small = true;
  for (let i = 0; i <= list.length; i++) {
    const char = i < list.length ? list.charCodeAt(i) : 44;
    if (char >= 48 && char <= 57) {
      value = value * 10 + (char - 48);
      digits++;
      continue;
    }
    if (char !== 44 || digits === 0 || digits > 16 || value > Number.MAX_SAFE_INTEGER || value < previous) {
      return undefined;
    }
    if (value === previous) tf[rows - 1]!++;
    else {
      if (rows === documents) return undefined;
      if (!fitsUint32(value)) small = false;
      rowids[rows] = value;
      tf[rows++] = 1;
      previous = value;
    }
    value = 0;
    digits = 0;
  }
  if (rows !== documents) return undefined;
  return { rowids: small ? Uint32Array.from(rowids) : rowids, tf };
}

/** A term's impacts from its rows' codes into `palette`, the codes in 16 bits when the palette allows. */
export function paletteImpacts(
  rowids: TermImpacts['rowids'],
  codes: Uint32Array,
  palette: readonly number[],
): TermImpacts {
  return {
    rowids,
    codes: palette.length <= 0x10000 ? Uint16Array.from(codes) : codes,
    palette: Float64Array.from(palette),
  };
}

/** Packs a term's `(rowid, score)` rows, rowids ascending. */
export function packImpacts(rows: ReadonlyArray<readonly [number, number]>): TermImpacts {
  const index = new Map<number, number>();
  const values: number[] = [];
  const raw = new Uint32Array(rows.length);
  rows.forEach(([, score], i) => {
    let code = index.get(score);
    if (code === undefined) {
      code = values.length;
      values.push(score);
      index.set(score, code);
    }
    raw[i] = code;
  });
  return paletteImpacts(packRowids(rows), raw, values);
}

/** Bytes a term's packed impacts hold. */
export function impactBytes(impacts: TermImpacts): number {
  return impacts.rowids.byteLength + impacts.codes.byteLength + impacts.palette.byteLength;
}

/**
 * The rows of the highest summed impacts, best first: at least `limit` rows when that many hold a
 * term, and every row tied with the `limit`-th score, for the caller to order ties by its own key.
 * Each row's impacts are added in the order of `lists`, starting from 0, as FTS5's bm25() adds its
 * phrases' parts (a phrase missing from a row adds exactly 0): with `lists` in the full query's phrase
 * order, every score is the very float the full query computes.
 */
export function topByImpacts(
  lists: readonly TermImpacts[],
  limit: number,
): Array<{ rowid: number; score: number }> {
  // Document at a time: every list is in rowid order, so a merge visits each row once and adds its
  // impacts in the order of `lists`.
  const cursors = new Int32Array(lists.length);
  const heap = new Float64Array(limit);
  let size = 0;
  const kept: Array<{ rowid: number; score: number }> = [];
  for (;;) {
    let rowid = Number.POSITIVE_INFINITY;
    for (let t = 0; t < lists.length; t++) {
      const list = lists[t]!;
      const at = cursors[t]!;
      if (at < list.rowids.length && list.rowids[at]! < rowid) rowid = list.rowids[at]!;
    }
    if (rowid === Number.POSITIVE_INFINITY) break;
    let score = 0;
    for (let t = 0; t < lists.length; t++) {
      const list = lists[t]!;
      const at = cursors[t]!;
      if (at < list.rowids.length && list.rowids[at] === rowid) {
        score += list.palette[list.codes[at]!]!;
        cursors[t] = at + 1;
      }
    }
    // A min-heap of the `limit` best scores seen: its root is the k-th score so far. Rows below it
    // cannot enter the result; rows tied with it are kept until a better k-th score drops them.
    if (size < limit) {
      let i = size++;
      heap[i] = score;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (heap[parent]! <= heap[i]!) break;
        [heap[parent], heap[i]] = [heap[i]!, heap[parent]!];
        i = parent;
      }
      kept.push({ rowid, score });
    } else if (score >= heap[0]!) {
      if (score > heap[0]!) {
        heap[0] = score;
        let i = 0;
        for (;;) {
          const left = 2 * i + 1;
          const right = left + 1;
          let smallest = i;
          if (left < size && heap[left]! < heap[smallest]!) smallest = left;
          if (right < size && heap[right]! < heap[smallest]!) smallest = right;
          if (smallest === i) break;
          [heap[smallest], heap[i]] = [heap[i]!, heap[smallest]!];
          i = smallest;
        }
      }
      kept.push({ rowid, score });
      // Keep the list short: drop what fell below the k-th score once it has doubled.
      if (kept.length > 2 * limit + 64) {
        const kth = heap[0]!;
        let w = 0;
        for (const row of kept) if (row.score >= kth) kept[w++] = row;
        kept.length = w;
      }
    }
  }
  const kth = size < limit ? Number.NEGATIVE_INFINITY : heap[0]!;
  return kept.filter((row) => row.score >= kth).sort((a, b) => b.score - a.score || a.rowid - b.rowid);
}
