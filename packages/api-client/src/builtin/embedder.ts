import { analyze, contentTerms, type Term } from './analyze.js';
import { hashFeature } from './hash.js';

/** Default width of built-in embeddings, the size of small sentence-embedding models. */
export const DEFAULT_BUILTIN_DIMENSION = 384;

/**
 * Relative weight of each feature family. Word unigrams carry the meaning; word bigrams reward
 * matching phrases; character n-grams (many per word, hence a small weight each) let inflections,
 * compounds and cognates ("hypoallergenic"/"hypoallergen", "clinically"/"klinisch") meet.
 */
const UNIGRAM_WEIGHT = 1;
const WORD_BIGRAM_WEIGHT = 0.5;
const CHAR_NGRAM_WEIGHT = 0.25;
const MIN_CHAR_NGRAM = 3;
const MAX_CHAR_NGRAM = 5;
/** Stands in for the features of an empty text, so that it still gets a unit vector. */
const EMPTY_FEATURE = 'e\u0000';
const HASH_SEED = 0x5f3759df;

/** Words whose n-gram keys are remembered; the cache is emptied when it reaches this size. */
const NGRAM_CACHE_WORDS = 4096;
/** Longer words (base64, minified code) are cut every time: they rarely repeat and hold many keys. */
const NGRAM_CACHE_MAX_WORD = 48;
const ngramCache = new Map<string, readonly string[]>();
/** A UTF-16 surrogate: the word has characters outside the BMP and must be cut by code point. */
const SURROGATE_RE = /[\uD800-\uDFFF]/;

/**
 * Feature keys of the character 3–5-grams of `<word>`, in order. Words repeat in a text and across
 * the texts of a batch, so the keys of recent words are remembered.
 */
function charNgramKeys(word: string): readonly string[] {
  const cached = ngramCache.get(word);
  if (cached !== undefined) return cached;
  const padded = `<${word}>`;
  const keys: string[] = [];
  if (SURROGATE_RE.test(padded)) {
    const chars = Array.from(padded);
    for (let n = MIN_CHAR_NGRAM; n <= MAX_CHAR_NGRAM; n++) {
      for (let start = 0; start + n <= chars.length; start++)
        keys.push(`c\u0000${chars.slice(start, start + n).join('')}`);
    }
  } else {
    // One UTF-16 unit per character: plain slices give the same n-grams.
    for (let n = MIN_CHAR_NGRAM; n <= MAX_CHAR_NGRAM; n++) {
      for (let start = 0; start + n <= padded.length; start++)
        keys.push(`c\u0000${padded.slice(start, start + n)}`);
    }
  }
  if (word.length > NGRAM_CACHE_MAX_WORD) return keys;
  if (ngramCache.size >= NGRAM_CACHE_WORDS) ngramCache.clear();
  ngramCache.set(word, keys);
  return keys;
}

/**
 * Weighted sparse features of `text`: normalised word unigrams, word bigrams and character 3–5-grams
 * of each word (characters for unsegmented scripts), with sublinear term frequency `1 + ln(tf)`.
 * Keys are tagged by family so that a word and an n-gram with the same letters stay distinct.
 */
export function lexicalFeatures(text: string): Map<string, number> {
  return termFeatures(contentTerms(analyze(text)));
}

/** {@link lexicalFeatures} of a text already cut into its content terms. */
export function termFeatures(terms: readonly Term[]): Map<string, number> {
  // Counts first, then each count turned into its weight in place: one map per text.
  const features = new Map<string, number>();
  const add = (key: string): void => {
    features.set(key, (features.get(key) ?? 0) + 1);
  };
  for (let i = 0; i < terms.length; i++) {
    const term = terms[i]!;
    add(`u\u0000${term.text}`);
    const next = terms[i + 1];
    if (next !== undefined) add(`b\u0000${term.text} ${next.text}`);
    if (term.bigram) {
      for (const char of term.text) add(`c\u0000${char}`);
      continue;
    }
    for (const key of charNgramKeys(term.text)) add(key);
  }
  for (const [key, tf] of features) {
    const family = key[0];
    const weight = family === 'u' ? UNIGRAM_WEIGHT : family === 'b' ? WORD_BIGRAM_WEIGHT : CHAR_NGRAM_WEIGHT;
    features.set(key, weight * (1 + Math.log(tf)));
  }
  if (features.size === 0) features.set(EMPTY_FEATURE, 1);
  return features;
}

/** Cosine similarity of two sparse feature maps (0 when either is empty). */
export function featureCosine(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): number {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let dot = 0;
  for (const [key, value] of small) {
    const other = large.get(key);
    if (other !== undefined) dot += value * other;
  }
  const norm = featureNorm(a) * featureNorm(b);
  return norm === 0 ? 0 : dot / norm;
}

/** The Euclidean norm of a feature map. */
function featureNorm(features: ReadonlyMap<string, number>): number {
  let sum = 0;
  for (const value of features.values()) sum += value * value;
  return Math.sqrt(sum);
}

/**
 * Hashed lexical embedding of `text`: its {@link lexicalFeatures} folded into `dimension` buckets
 * with a sign hash (so collisions cancel out on average instead of piling up), L2-normalised and
 * rounded to float32 so that a vector survives a float32 store unchanged. Deterministic.
 */
export function hashedEmbedding(text: string, dimension: number = DEFAULT_BUILTIN_DIMENSION): number[] {
  if (!Number.isInteger(dimension) || dimension < 1) {
    throw new RangeError(`Embedding dimension must be a positive integer, got ${dimension}`);
  }
  const vector = new Float64Array(dimension);
  for (const [feature, weight] of lexicalFeatures(text)) {
    const { bucket, sign } = hashFeature(feature, HASH_SEED, dimension);
    vector[bucket] = (vector[bucket] ?? 0) + sign * weight;
  }
  let norm = 0;
  for (const value of vector) norm += value * value;
  norm = Math.sqrt(norm);
  const out = new Array<number>(dimension);
  for (let i = 0; i < dimension; i++) out[i] = norm === 0 ? 0 : Math.fround((vector[i] ?? 0) / norm);
  // Features can cancel out in a tiny dimension; keep a unit vector so cosine stays defined.
  if (norm === 0) out[0] = 1;
  return out;
}
