import { get_encoding, type Tiktoken } from 'tiktoken';
import { pieceEnd } from './pieces.js';
import { cutAtOrAfter, cutAtOrBefore } from './text.js';

/**
 * The encoding chunk sizes are counted in. Part of what makes two chunkings of a document equal:
 * record it next to the chunker options wherever they are compared.
 *
 * cl100k_base is the encoding of OpenAI's embedding models (text-embedding-3-*, ada-002), whose
 * per-input and per-request token limits are the hard ones a chunk meets. For other models it is
 * an estimate that errs towards smaller chunks in non-Latin scripts (1.31 tokens per Chinese
 * character, against 0.93 with o200k_base). It also loads faster and in half the memory.
 */
export const CHUNKER_ENCODING = 'cl100k_base';

/**
 * tiktoken (OpenAI's own BPE, compiled to WebAssembly) rather than a JavaScript port: it is the
 * reference the provider counts with (a port can disagree, e.g. on a byte-order mark), and 3–4×
 * faster on the long letter runs of CJK text. One encoder per process, made on first use and kept:
 * its tables are the cost, not the calls.
 */
let encoder: Tiktoken | undefined;

/**
 * Tokens of each piece seen, so that BPE runs once per distinct piece: the chunker counts every
 * part of a text two or three times (units, then chunks, then overlaps), and words recur. Bounded:
 * emptied when full; long pieces (base64, CJK runs) are not kept.
 */
const pieceTokens = new Map<string, number>();
const MAX_CACHED_PIECES = 100_000;
const MAX_CACHED_PIECE_LENGTH = 64;

/**
 * Loads the encoder now (its tables: ~0.3 s of CPU, ~10 MB) rather than in the first document's
 * chunking, e.g. when a worker starts.
 */
export function loadChunkerEncoding(): void {
  encoder ??= get_encoding(CHUNKER_ENCODING);
}

function tokensOfPiece(piece: string): number {
  const cached = pieceTokens.get(piece);
  if (cached !== undefined) return cached;
  const tokens = encodedTokens(piece);
  cachePiece(piece, tokens);
  return tokens;
}

function encodedTokens(text: string): number {
  encoder ??= get_encoding(CHUNKER_ENCODING);
  // Documents may contain strings such as "<|endoftext|>": `encode_ordinary` counts them as the
  // text they are and never throws on them.
  return encoder.encode_ordinary(text).length;
}

/** Tokens of piece `k` of `text` when it is in the cache. */
function knownTokens(text: string, starts: readonly number[], k: number): number | undefined {
  const start = starts[k]!;
  const length = starts[k + 1]! - start;
  return length <= MAX_CACHED_PIECE_LENGTH && !wideScript(text, start, length)
    ? pieceTokens.get(text.slice(start, start + length))
    : undefined;
}

/**
 * Whether a piece is of a script written without spaces (CJK ideographs, kana, Hangul, their
 * punctuation and full-width forms, all from U+2E80 on), judged by its first two characters. Its
 * pieces run between punctuation and rarely recur: `index` neither looks them up nor caches them,
 * so that their runs are encoded in blocks as if there were no cache.
 */
function wideScript(text: string, start: number, length: number): boolean {
  return text.charCodeAt(start) >= 0x2e80 || (length > 1 && text.charCodeAt(start + 1) >= 0x2e80);
}

/** Longest string V8 copies when sliced; a longer slice keeps the whole text it was cut from alive. */
const MAX_COPIED_SLICE = 12;

function cachePiece(piece: string, tokens: number): void {
  if (piece.length > MAX_CACHED_PIECE_LENGTH) return;
  if (pieceTokens.size >= MAX_CACHED_PIECES) pieceTokens.clear();
  // A key of its own, not a view of the document's text (a cache entry must not hold a document).
  const key = piece.length > MAX_COPIED_SLICE ? Buffer.from(piece, 'utf16le').toString('utf16le') : piece;
  pieceTokens.set(key, tokens);
}

/** Tokens in `text` under {@link CHUNKER_ENCODING}, the count `Chunk.tokenCount` and `chunkSize` use. */
export function countTokens(text: string): number {
  let tokens = 0;
  for (let pos = 0; pos < text.length; ) {
    const end = pieceEnd(text, pos);
    tokens += tokensOfPiece(text.slice(pos, end));
    pos = end;
  }
  return tokens;
}

/** Tokens in `text` when at most `limit`, else `false`; stops counting once past the limit. */
export function countTokensWithin(text: string, limit: number): number | false {
  let tokens = 0;
  for (let pos = 0; pos < text.length; ) {
    const end = pieceEnd(text, pos);
    tokens += tokensOfPiece(text.slice(pos, end));
    if (tokens > limit) return false;
    pos = end;
  }
  return tokens;
}

/**
 * White_Space code points (Unicode's property, as the pieces pattern reads `\p{White_Space}`). Not
 * `isWhitespace` of `text.ts`, which is JavaScript's `\s` (U+FEFF in, U+0085 out) for trimming.
 */
function isWhiteSpace(code: number): boolean {
  return (
    (code >= 0x09 && code <= 0x0d) ||
    code === 0x20 ||
    code === 0x85 ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000
  );
}

function splitsPair(text: string, pos: number): boolean {
  const code = text.charCodeAt(pos);
  if (pos === 0 || code < 0xdc00 || code > 0xdfff) return false;
  const before = text.charCodeAt(pos - 1);
  return before >= 0xd800 && before <= 0xdbff;
}

/** Index of the first element of `sorted` that is ≥ `value` (its length when there is none). */
function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Exact counts of ranges of one text, each piece of the whole text counted once.
 *
 * The chunker counts the same text many times over (units, chunk candidates, overlaps, the
 * search for a cut), and each count of a slice re-runs the pieces pattern over it. Here the whole
 * text is cut into pieces once, with a running sum of their tokens, so that a range's count is
 * a difference of two sums plus its edges:
 *
 * - The pattern has no look-behind, so cutting a slice from a piece boundary of the whole text
 *   gives the whole text's pieces from there on, until the slice's end makes a difference. The end
 *   can only change a piece that reaches it, or, through the whitespace rule's look-ahead, a piece
 *   in the run of whitespace the slice ends with. Pieces that end before that run are therefore
 *   the slice's own, and the rest (at most the last piece and the trailing whitespace) is counted
 *   as a slice.
 * - A range that starts inside a piece is cut as a slice from its start until one of its pieces
 *   ends on a piece boundary of the whole text; from there on the two agree.
 *
 * Counts equal {@link countTokens} of the slice (tested on random ranges of mixed scripts).
 */
export class TextTokens {
  /** Start of every piece of the text, then the text's length. */
  private starts: number[] | undefined;
  /** Tokens of the pieces before piece i. */
  private before: number[] | undefined;

  constructor(readonly text: string) {}

  /** Tokens of `text.slice(start, end)`. */
  count(start: number, end: number): number {
    const { text } = this;
    // A start inside a surrogate pair reads as a lone surrogate in the slice, but the pattern
    // cannot be started there on the whole text (the chunker never cuts there).
    if (end - start <= SHORT_RANGE_CHARS || splitsPair(text, start))
      return countTokens(text.slice(start, end));
    const starts = this.index();
    const before = this.before!;
    // Pieces of the whole text can be taken as the slice's up to `safeEnd`: the slice's end, or
    // the start of the whitespace it ends with.
    let safeEnd = end;
    while (safeEnd > start && isWhiteSpace(text.charCodeAt(safeEnd - 1))) safeEnd--;
    let tokens = 0;
    let pos = start;
    let i = lowerBound(starts, pos);
    // Until the slice's pieces meet a boundary of the whole text's.
    while (pos < safeEnd && starts[i] !== pos) {
      const next = pieceEnd(text, pos);
      if (next > safeEnd) break;
      tokens += tokensOfPiece(text.slice(pos, next));
      pos = next;
      while (starts[i]! < pos) i++;
    }
    if (starts[i] === pos) {
      const last = lowerBound(starts, safeEnd + 1) - 1;
      if (last > i) {
        tokens += before[last]! - before[i]!;
        pos = starts[last]!;
      }
    }
    if (pos < end) tokens += countTokens(text.slice(pos, end));
    return tokens;
  }

  /** Tokens of `text.slice(start, end)` when at most `limit`, else `false`. */
  countWithin(start: number, end: number, limit: number): number | false {
    if (end - start <= SHORT_RANGE_CHARS) return countTokensWithin(this.text.slice(start, end), limit);
    const tokens = this.count(start, end);
    return tokens <= limit ? tokens : false;
  }

  private index(): number[] {
    if (this.starts !== undefined) return this.starts;
    const { text } = this;
    const starts: number[] = [];
    for (let pos = 0; pos < text.length; pos = pieceEnd(text, pos)) starts.push(pos);
    starts.push(text.length);
    const before = new Array<number>(starts.length);
    before[0] = 0;
    const pieces = starts.length - 1;
    // Pieces seen before are counted from the cache; a run of pieces not seen is encoded in one
    // call into the encoder (which costs about twenty lookups): words recur, so in most scripts a
    // run is a piece or two, while text whose pieces rarely recur (CJK, see `wideScript`) makes
    // long runs, each a block of at least BLOCK_CHARS. A text whose pieces keep missing the cache
    // all the same (base64, say: a known digit between unknown letters) is encoded in blocks from
    // then on, neither looked up nor cached.
    let known = knownTokens(text, starts, 0);
    let calls = 0;
    let blocksOnly = false;
    for (let k = 0; k < pieces; ) {
      if (known !== undefined) {
        before[k + 1] = before[k]! + known;
        k++;
        known = k < pieces ? knownTokens(text, starts, k) : undefined;
        continue;
      }
      if (!blocksOnly && k >= MISSES_JUDGED_AFTER && calls * MISSES_PER_CALL > k) blocksOnly = true;
      // The run ends before a piece seen before, or after a block's length, on a boundary with no
      // whitespace on its left: there the run is cut into the same pieces on its own as within
      // the text (see {@link TextTokens}).
      let last = k + 1;
      known = undefined;
      while (last < pieces && isWhiteSpace(text.charCodeAt(starts[last]! - 1))) last++;
      // A run of CJK goes on over pieces that start with white space (line breaks, known
      // everywhere): they would end it at every line.
      const wide = wideScript(text, starts[k]!, starts[k + 1]! - starts[k]!);
      while (last < pieces && starts[last]! - starts[k]! < BLOCK_CHARS) {
        if (!blocksOnly && last - k < LOOKUP_RUN && !(wide && isWhiteSpace(text.charCodeAt(starts[last]!)))) {
          known = knownTokens(text, starts, last);
          if (known !== undefined) break;
        }
        last++;
        while (last < pieces && isWhiteSpace(text.charCodeAt(starts[last]! - 1))) last++;
      }
      calls++;
      if (last > k + 1) countBlock(text, starts, k, last, before, !blocksOnly);
      else {
        const piece = text.slice(starts[k], starts[last]);
        const tokens = encodedTokens(piece);
        if (!wideScript(text, starts[k]!, piece.length)) cachePiece(piece, tokens);
        before[last] = before[k]! + tokens;
      }
      k = last;
      if (known === undefined && k < pieces && !blocksOnly) known = knownTokens(text, starts, k);
    }
    this.starts = starts;
    this.before = before;
    return starts;
  }
}

/**
 * Characters per block of pieces (at least; a block ends on a safe boundary). A block encoded in
 * one call bounds the encoder's memory by the block, not the document.
 */
const BLOCK_CHARS = 16_384;

/**
 * Pieces of a run after which it stops looking for a known piece to end at and goes on to a block's
 * length (a cold cache, a stretch of new words).
 */
const LOOKUP_RUN = 16;

/**
 * A text is encoded in blocks only once, past its first MISSES_JUDGED_AFTER pieces, it has needed
 * an encoder call for fewer than every MISSES_PER_CALL pieces: the corpus's prose needed one for
 * every 4–5 pieces while the cache filled (one for every 10–20 once warm), base64 one for every 2–3.
 */
const MISSES_JUDGED_AFTER = 512;
const MISSES_PER_CALL = 3;

/** UTF-8 bytes of `text[start, end)` as the encoder sees it (a lone surrogate becomes U+FFFD). */
function utf8Length(text: string, start: number, end: number): number {
  let bytes = 0;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < end) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** Bytes of each token id seen so far (0: not looked up yet). */
let tokenBytes = new Uint8Array(0);

function bytesOfToken(id: number): number {
  if (id >= tokenBytes.length) {
    const grown = new Uint8Array(Math.max(id + 1, tokenBytes.length * 2, 1 << 17));
    grown.set(tokenBytes);
    tokenBytes = grown;
  }
  let bytes = tokenBytes[id]!;
  if (bytes === 0) {
    bytes = encoder!.decode_single_token_bytes(id).length;
    tokenBytes[id] = bytes;
  }
  return bytes;
}

/**
 * Fills `before[first + 1 ..= last]` with running token sums, from one encoding of pieces
 * [first, last). The encoder cuts the same pieces and no token crosses a piece, so each piece's
 * tokens are the ones whose bytes it spans; should the two ever disagree on a cut, the block is
 * counted piece by piece instead. With `cache`, the pieces are cached too (see `index`).
 */
function countBlock(
  text: string,
  starts: readonly number[],
  first: number,
  last: number,
  before: number[],
  cache: boolean,
): void {
  encoder ??= get_encoding(CHUNKER_ENCODING);
  const ids = encoder.encode_ordinary(text.slice(starts[first], starts[last]));
  let t = 0;
  let total = before[first]!;
  for (let k = first; k < last; k++) {
    const pieceBytes = utf8Length(text, starts[k]!, starts[k + 1]!);
    let bytes = 0;
    let tokens = 0;
    while (bytes < pieceBytes && t < ids.length) {
      bytes += bytesOfToken(ids[t]!);
      t++;
      tokens++;
    }
    if (bytes !== pieceBytes) {
      countPieces(text, starts, first, last, before);
      return;
    }
    total += tokens;
    before[k + 1] = total;
  }
  if (t !== ids.length) {
    countPieces(text, starts, first, last, before);
    return;
  }
  if (!cache) return;
  for (let k = first; k < last; k++) {
    const length = starts[k + 1]! - starts[k]!;
    if (length <= MAX_CACHED_PIECE_LENGTH && !wideScript(text, starts[k]!, length))
      cachePiece(text.slice(starts[k], starts[k + 1]), before[k + 1]! - before[k]!);
  }
}

function countPieces(
  text: string,
  starts: readonly number[],
  first: number,
  last: number,
  before: number[],
): void {
  let total = before[first]!;
  for (let k = first; k < last; k++) {
    total += tokensOfPiece(text.slice(starts[k], starts[k + 1]));
    before[k + 1] = total;
  }
}

/** Ranges up to this long are counted as slices: a piece or two, cheaper than the index's edges. */
const SHORT_RANGE_CHARS = 8;

/** No token of the encoding is longer than this many characters (a run of spaces). */
export const MAX_CHARS_PER_TOKEN = 128;

/** A guess of characters per token to start searching from; the search corrects it. */
const CHARS_PER_TOKEN_GUESS = 4;

export interface Fit {
  /** Where the kept text ends (prefix) or starts (suffix). */
  cut: number;
  tokens: number;
}

/**
 * Longest kept length in [0, maxLength] whose count (by `measure`) is within `budget`, searched
 * by guessing, growing, then interpolating between a fitting and a non-fitting length. Counts
 * are not monotonic in length under BPE, so the answer is a fitting length close to the longest,
 * not necessarily the longest. `clean` moves a length to a nearby cut that keeps characters whole.
 */
function longestWithin(
  maxLength: number,
  budget: number,
  measure: (length: number) => number,
  clean: (length: number, min: number) => number,
  firstGuess: number,
): { length: number; tokens: number } {
  // Stopping a little short of the budget saves several counts for a chunk that is full anyway.
  const tolerance = Math.floor(budget / 64);
  let lo = 0;
  let loTokens = 0;
  let hi = Number.POSITIVE_INFINITY;
  let hiTokens = Number.POSITIVE_INFINITY;
  let guess = Math.min(maxLength, firstGuess);
  for (let step = 0; step < 64; step++) {
    const upper = Math.min(maxLength, hi - 1);
    const length = clean(Math.max(lo + 1, Math.min(guess, upper)), lo);
    if (length <= lo || length > upper) break;
    const tokens = measure(length);
    if (tokens <= budget) {
      lo = length;
      loTokens = tokens;
      if (length === maxLength || tokens >= budget - tolerance) break;
    } else {
      hi = length;
      hiTokens = tokens;
    }
    if (hi === Number.POSITIVE_INFINITY) {
      // Only fitting lengths seen so far: grow in proportion to the tokens still free.
      guess = Math.ceil(lo * Math.min(4, Math.max(1.1, budget / Math.max(1, loTokens))));
    } else if (step % 2 === 0) {
      const ratio = (budget - loTokens) / Math.max(1, hiTokens - loTokens);
      guess = lo + Math.max(1, Math.floor((hi - lo) * ratio));
    } else {
      // Every other step bisects, so a poor interpolation cannot stall the search.
      guess = lo + Math.floor((hi - lo) / 2);
    }
  }
  return { length: lo, tokens: loTokens };
}

/**
 * The longest-ish prefix of `text[start, end)` within `budget` tokens, cut between whole
 * characters. Never empty: when even one character is over the budget it is kept anyway (budgets
 * here are at least 16 tokens and a character is at most 4). `guessLength`, when known (the
 * length of the previous part of the same text), saves most of the search.
 */
export function fitPrefix(
  counts: TextTokens,
  start: number,
  end: number,
  budget: number,
  guessLength = budget * CHARS_PER_TOKEN_GUESS,
): Fit {
  const { text } = counts;
  const { length, tokens } = longestWithin(
    end - start,
    budget,
    (n) => counts.count(start, start + n),
    (n, min) => cutAtOrBefore(text, start + n, start + min) - start,
    guessLength,
  );
  if (length > 0) return { cut: start + length, tokens };
  const cut = cutAtOrAfter(text, start + 1, end);
  return { cut, tokens: counts.count(start, cut) };
}

/**
 * The longest-ish suffix of `text[start, end)` within `budget` tokens, cut between whole
 * characters; `cut === end` when not even one character fits.
 */
export function fitSuffix(counts: TextTokens, start: number, end: number, budget: number): Fit {
  const { text } = counts;
  const { length, tokens } = longestWithin(
    end - start,
    budget,
    (n) => counts.count(end - n, end),
    (n, min) => end - cutAtOrAfter(text, end - n, end - min),
    budget * CHARS_PER_TOKEN_GUESS,
  );
  return { cut: end - length, tokens };
}
