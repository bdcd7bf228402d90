import { get_encoding, type Tiktoken } from 'tiktoken';
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
 * cl100k_base's pre-tokenizer, as tiktoken defines it: its `(?i:…)` spelled out (JavaScript lacks
 * it) and its `\s` as Unicode's White_Space, as in Rust (JavaScript's `\s` also takes U+FEFF). BPE
 * never merges across the pieces it cuts, so a text's count is the sum of its pieces'.
 */
const PIECES =
  /'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD]|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\p{White_Space}\p{L}\p{N}]+[\r\n]*|\p{White_Space}*[\r\n]+|\p{White_Space}+(?!\P{White_Space})|\p{White_Space}+/gu;

/**
 * Tokens of each piece seen, so that BPE runs once per distinct piece: the chunker counts every
 * part of a text two or three times (units, then chunks, then overlaps), and words recur. Bounded:
 * emptied when full; long pieces (base64, CJK runs) are not kept.
 */
const pieceTokens = new Map<string, number>();
const MAX_CACHED_PIECES = 100_000;
const MAX_CACHED_PIECE_LENGTH = 64;

function tokensOfPiece(piece: string): number {
  const cached = pieceTokens.get(piece);
  if (cached !== undefined) return cached;
  encoder ??= get_encoding(CHUNKER_ENCODING);
  // Documents may contain strings such as "<|endoftext|>": `encode_ordinary` counts them as the
  // text they are and never throws on them.
  const tokens = encoder.encode_ordinary(piece).length;
  if (piece.length <= MAX_CACHED_PIECE_LENGTH) {
    if (pieceTokens.size >= MAX_CACHED_PIECES) pieceTokens.clear();
    pieceTokens.set(piece, tokens);
  }
  return tokens;
}

/** Tokens in `text` under {@link CHUNKER_ENCODING}, the count `Chunk.tokenCount` and `chunkSize` use. */
export function countTokens(text: string): number {
  let tokens = 0;
  for (const match of text.matchAll(PIECES)) tokens += tokensOfPiece(match[0]);
  return tokens;
}

/** Tokens in `text` when at most `limit`, else `false`; stops counting once past the limit. */
export function countTokensWithin(text: string, limit: number): number | false {
  let tokens = 0;
  for (const match of text.matchAll(PIECES)) {
    tokens += tokensOfPiece(match[0]);
    if (tokens > limit) return false;
  }
  return tokens;
}

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
  text: string,
  start: number,
  end: number,
  budget: number,
  guessLength = budget * CHARS_PER_TOKEN_GUESS,
): Fit {
  const { length, tokens } = longestWithin(
    end - start,
    budget,
    (n) => countTokens(text.slice(start, start + n)),
    (n, min) => cutAtOrBefore(text, start + n, start + min) - start,
    guessLength,
  );
  if (length > 0) return { cut: start + length, tokens };
  const cut = cutAtOrAfter(text, start + 1, end);
  return { cut, tokens: countTokens(text.slice(start, cut)) };
}

/**
 * The longest-ish suffix of `text[start, end)` within `budget` tokens, cut between whole
 * characters; `cut === end` when not even one character fits.
 */
export function fitSuffix(text: string, start: number, end: number, budget: number): Fit {
  const { length, tokens } = longestWithin(
    end - start,
    budget,
    (n) => countTokens(text.slice(end - n, end)),
    (n, min) => end - cutAtOrAfter(text, end - n, end - min),
    budget * CHARS_PER_TOKEN_GUESS,
  );
  return { cut: end - length, tokens };
}
