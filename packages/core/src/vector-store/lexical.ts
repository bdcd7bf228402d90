/**
 * The one tokenisation of lexical search, shared by every store so that a query matches the same
 * chunks on SQLite (FTS5 over the tokens joined by spaces) and on Qdrant (sparse vectors of hashed
 * tokens). Changing anything here changes what stored indexes mean: re-ingest after a change.
 */

/** Runs of letters, combining marks and digits; everything else separates tokens. */
const WORD_RUN = /[\p{L}\p{M}\p{N}]+/gu;

/**
 * Scripts written without spaces between words (and Hangul, whose particles attach to words):
 * indexed as overlapping character bigrams, the usual approach when no dictionary segmenter is at hand.
 */
const CJK_RUN = /([\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}ー々〆]+)/u;

/** A small English stopword list: words too common to tell chunks apart. */
const STOPWORDS: ReadonlySet<string> = new Set([
  'a',
  'an',
  'and',
  'are',
  'as',
  'at',
  'be',
  'but',
  'by',
  'for',
  'if',
  'in',
  'into',
  'is',
  'it',
  'its',
  'no',
  'not',
  'of',
  'on',
  'or',
  's',
  'such',
  't',
  'that',
  'the',
  'their',
  'then',
  'there',
  'these',
  'they',
  'this',
  'to',
  'was',
  'were',
  'will',
  'with',
]);

/** Whether a word may hold CJK characters: any code unit from U+1100 (Hangul Jamo) on. */
function mayHoldCjk(word: string): boolean {
  for (let i = 0; i < word.length; i++) if (word.charCodeAt(i) >= 0x1100) return true;
  return false;
}

function pushBigrams(run: string, out: string[]): void {
  // Spread by code point so that characters outside the BMP (CJK extension B and later) stay whole.
  const chars = Array.from(run);
  if (chars.length === 1) {
    out.push(chars[0]!);
    return;
  }
  for (let i = 0; i + 1 < chars.length; i++) {
    out.push(chars[i]! + chars[i + 1]!);
  }
}

/**
 * Splits text into lexical search tokens, in order and with repeats: NFKC-normalised, lower-cased,
 * runs of Unicode letters/marks/digits; Han, Hiragana, Katakana and Hangul runs become character
 * bigrams (a lone character stays a unigram); English stopwords are dropped. Diacritics are kept
 * ("müller" and "muller" are different tokens).
 */
export function lexicalTokens(text: string): string[] {
  const out: string[] = [];
  const normalised = text.normalize('NFKC').toLowerCase();
  for (const match of normalised.matchAll(WORD_RUN)) {
    const word = match[0];
    if (!mayHoldCjk(word)) {
      if (!STOPWORDS.has(word)) out.push(word);
      continue;
    }
    // split() with a capturing group keeps the CJK runs, at odd positions.
    const parts = word.split(CJK_RUN);
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (part === '') continue;
      if (i % 2 === 1) {
        pushBigrams(part, out);
      } else if (!STOPWORDS.has(part)) {
        out.push(part);
      }
    }
  }
  return out;
}

const encoder = new TextEncoder();

/**
 * 32-bit FNV-1a over the token's UTF-8 bytes: stable across processes, platforms and versions,
 * which a sparse index stored for months needs. Collisions merge two tokens' counts; at a few
 * hundred thousand distinct terms they are rare enough not to matter for ranking.
 */
export function lexicalTokenHash(token: string): number {
  let hash = 0x811c9dc5;
  for (const byte of encoder.encode(token)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export interface SparseVector {
  /** Hashed token ids (uint32), ascending and unique. */
  indices: number[];
  /** Term frequency of each index in the text. */
  values: number[];
}

/**
 * The sparse vector of a text: {@link lexicalTokens} hashed with {@link lexicalTokenHash}, values are
 * term frequencies. Meant for a store that applies IDF itself (Qdrant's `modifier: idf`), so the
 * same function serves documents and queries. Empty text gives empty arrays.
 */
export function sparseVector(text: string): SparseVector {
  const counts = new Map<number, number>();
  for (const token of lexicalTokens(text)) {
    const index = lexicalTokenHash(token);
    counts.set(index, (counts.get(index) ?? 0) + 1);
  }
  const indices = [...counts.keys()].sort((a, b) => a - b);
  return { indices, values: indices.map((index) => counts.get(index)!) };
}
