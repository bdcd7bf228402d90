/**
 * The one tokenisation of lexical search, shared by every store so that a query matches the same
 * chunks on SQLite (FTS5 over the tokens joined by spaces) and on Qdrant (sparse vectors of hashed
 * tokens). Changing anything here changes what stored indexes mean: re-ingest after a change.
 */

/**
 * A letter, combining mark or digit, matched at a sticky position: tokens are runs of these, and
 * everything else separates them.
 */
const WORD_CHAR = /[\p{L}\p{M}\p{N}]/uy;

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
  const length = normalised.length;
  let pos = 0;
  while (pos < length) {
    // Skip to the next run, then find its end; a code unit from U+1100 (Hangul Jamo) on may be CJK.
    let code = normalised.charCodeAt(pos);
    if (!isWordChar(normalised, pos, code)) {
      pos += codeUnits(normalised, pos, code);
      continue;
    }
    const start = pos;
    let cjk = false;
    while (pos < length) {
      code = normalised.charCodeAt(pos);
      if (!isWordChar(normalised, pos, code)) break;
      if (code >= 0x1100) cjk = true;
      pos += codeUnits(normalised, pos, code);
    }
    const word = normalised.slice(start, pos);
    if (!cjk) {
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

/**
 * Whether each code point of the BMP outside the surrogates is a {@link WORD_CHAR}: 1 yes, 2 no, 0
 * not looked up yet. Runs are found a code point at a time here, where a global match of the runs
 * made a match object for each (three times the cost).
 */
const wordUnits = new Uint8Array(0x10000);

/** Code units of the code point at `pos`: 2 for a surrogate pair, else 1 (a lone surrogate too). */
function codeUnits(text: string, pos: number, code: number): number {
  if (code < 0xd800 || code > 0xdbff || pos + 1 >= text.length) return 1;
  const next = text.charCodeAt(pos + 1);
  return next >= 0xdc00 && next <= 0xdfff ? 2 : 1;
}

/** Whether the code point at `pos` (whose first code unit is `code`) is a word character. */
function isWordChar(text: string, pos: number, code: number): boolean {
  if (code < 0x80) {
    return (code >= 0x61 && code <= 0x7a) || (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a);
  }
  if (code < 0xd800 || code > 0xdfff) {
    let known = wordUnits[code]!;
    if (known === 0) {
      WORD_CHAR.lastIndex = 0;
      known = WORD_CHAR.test(String.fromCharCode(code)) ? 1 : 2;
      wordUnits[code] = known;
    }
    return known === 1;
  }
  // Surrogates: rare, asked of the pattern each time (a pair as the code point it makes).
  WORD_CHAR.lastIndex = pos;
  return WORD_CHAR.test(text);
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
