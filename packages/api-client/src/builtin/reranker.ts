import {
  analyzeNormalized,
  contentTerms,
  normalizeText,
  smallSetIdf,
  type Term,
  termMatch,
} from './analyze.js';
import { termFeatures } from './embedder.js';
import { fmix32, fnv1a32 } from './hash.js';
import { type QueryTerm, questionTerms } from './query-terms.js';
import { ENGLISH_STOPWORDS } from './stopwords.js';

/** Tuning of {@link lexicalRerank}; the defaults suit passages of a few sentences. */
export interface LexicalRerankOptions {
  /** Keep the best n results. Default: all. */
  topN?: number;
  /** BM25 term-frequency saturation. Default 1.2. */
  k1?: number;
  /** BM25 length normalisation (0 = none, 1 = full). Default 0.75. */
  b?: number;
  /**
   * Weight of pseudo-relevance feedback: how much a document gains by resembling the documents
   * that match the query best. Default 0.3; 0 gives plain BM25.
   */
  feedbackWeight?: number;
  /**
   * Share of the query-coverage score given to the Han characters of the query's words, in
   * `[0, 1]`; the rest goes to the words. Only for queries with Han characters (Chinese, Japanese
   * kanji). Default 0.3; 0 matches whole words only.
   */
  characterWeight?: number;
}

/** One ranked document. */
export interface LexicalRerankItem {
  index: number;
  /** In `[0, 1)`; comparable across calls, not a probability. */
  relevanceScore: number;
}

/** Documents that seed the pseudo-relevance feedback. */
const FEEDBACK_DOCUMENTS = 3;
/** Half-saturation of the final `s / (s + k)` mapping into `[0, 1)`. */
const SCORE_HALF_POINT = 0.25;
/** A Han character: a morpheme on its own, unlike a kana (a syllable). */
const HAN_RE = /\p{Script=Han}/u;

interface AnalysedDocument {
  counts: Map<string, number>;
  length: number;
  /** The text normalised as the query is, where whole words of unspaced scripts are looked for. */
  normalized: string;
  /** Content terms, kept until the features are made from them. */
  terms: readonly Term[] | undefined;
  /** Lexical features for the feedback step, made when first needed. */
  features: CompactFeatures | undefined;
  /** The text it is cached under, when it is. */
  key: string | undefined;
  /** Bytes it holds, about: its share of the cache's budget. */
  bytes: number;
}

/**
 * A document's lexical features ({@link termFeatures}) as two arrays: each feature's key hashed to
 * 53 bits (two independent 32-bit hashes: a collision between two of a few thousand features is
 * about as likely as 2^-30), and its weight: far less memory than the map, and nothing for the
 * garbage collector to trace.
 */
interface CompactFeatures {
  keys: Float64Array;
  weights: Float64Array;
  norm: number;
}

const KEY_SEED_HIGH = 0x2545f491;
const KEY_SEED_LOW = 0x6c078965;

function featureKey(feature: string): number {
  // 32 bits, then 21 more: exact in a double.
  return fmix32(fnv1a32(feature, KEY_SEED_HIGH)) * 2 ** 21 + (fmix32(fnv1a32(feature, KEY_SEED_LOW)) >>> 11);
}

function compactFeatures(features: ReadonlyMap<string, number>): CompactFeatures {
  const keys = new Float64Array(features.size);
  const weights = new Float64Array(features.size);
  let i = 0;
  let sum = 0;
  for (const [feature, weight] of features) {
    keys[i] = featureKey(feature);
    weights[i] = weight;
    sum += weight * weight;
    i++;
  }
  return { keys, weights, norm: Math.sqrt(sum) };
}

/**
 * Documents analysed lately, by text: the same passages come back as candidates of many questions
 * (a batch over one document set most of all), and their analysis is most of a rerank's work.
 * Least recently used first, bounded by the bytes they hold (about).
 */
const analysed = new Map<string, AnalysedDocument>();
const ANALYSED_BUDGET_BYTES = 32 * 1024 * 1024;
/** Longer texts are analysed every time: they would crowd the others out. */
const ANALYSED_MAX_TEXT = 32_768;
/** Bytes of a cached document besides its maps' entries and strings (objects, tables, buffers). */
const DOCUMENT_BYTES = 768;
/** Bytes of one entry of a document's term counts (key, value, table), about. */
const COUNT_ENTRY_BYTES = 48;
/** Bytes of one of its terms kept for the features, about. */
const TERM_BYTES = 80;
let analysedBytes = 0;

function analyseDocument(text: string): AnalysedDocument {
  const cached = analysed.get(text);
  if (cached !== undefined) {
    analysed.delete(text);
    analysed.set(text, cached);
    return cached;
  }
  const normalized = normalizeText(text);
  const terms = contentTerms(analyzeNormalized(normalized));
  const counts = new Map<string, number>();
  for (const term of terms) counts.set(term.text, (counts.get(term.text) ?? 0) + 1);
  const doc: AnalysedDocument = {
    counts,
    length: terms.length,
    normalized,
    terms,
    features: undefined,
    key: undefined,
    bytes:
      DOCUMENT_BYTES +
      counts.size * COUNT_ENTRY_BYTES +
      terms.length * TERM_BYTES +
      2 * (text.length + normalized.length),
  };
  if (text.length <= ANALYSED_MAX_TEXT) {
    doc.key = text;
    analysed.set(text, doc);
    grow(doc.bytes);
  }
  return doc;
}

function featuresOf(doc: AnalysedDocument): CompactFeatures {
  if (doc.features !== undefined) return doc.features;
  const terms = doc.terms ?? [];
  const features = compactFeatures(termFeatures(terms));
  doc.features = features;
  doc.terms = undefined;
  if (doc.key !== undefined && analysed.get(doc.key) === doc) {
    const bytes = features.keys.byteLength + features.weights.byteLength - terms.length * TERM_BYTES;
    doc.bytes += bytes;
    grow(bytes);
  }
  return features;
}

/** Adds `bytes` to the cache's size, then drops the least recently used documents while over budget. */
function grow(bytes: number): void {
  analysedBytes += bytes;
  for (const [key, doc] of analysed) {
    if (analysedBytes <= ANALYSED_BUDGET_BYTES) break;
    analysed.delete(key);
    doc.key = undefined;
    analysedBytes -= doc.bytes;
  }
}

/** Non-overlapping occurrences of `needle` in `haystack`. */
function occurrences(haystack: string, needle: string): number {
  let count = 0;
  for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + needle.length)) count++;
  return count;
}

/**
 * Term frequency of `term` in a document: occurrences of a whole word of an unspaced script, or
 * of a word, counting light prefix matches fractionally.
 */
function matchedFrequency(term: QueryTerm, doc: AnalysedDocument): number {
  if (term.whole) return occurrences(doc.normalized, term.text);
  const exact = doc.counts.get(term.text);
  if (exact !== undefined) return exact;
  let tf = 0;
  for (const [candidate, count] of doc.counts) tf += count * termMatch(term.text, candidate);
  return tf;
}

/**
 * BM25 of each document for `terms` (IDF from the documents themselves, see `smallSetIdf`), divided
 * by the score of a document holding every term once, so that it reads as the share of the query
 * covered.
 */
function queryCoverage(
  terms: readonly QueryTerm[],
  docs: readonly AnalysedDocument[],
  k1: number,
  b: number,
): number[] {
  const n = docs.length;
  const averageLength = docs.reduce((sum, doc) => sum + doc.length, 0) / n || 1;
  const direct = new Array<number>(n).fill(0);
  let maxScore = 0;
  for (const term of terms) {
    const frequencies = docs.map((doc) => matchedFrequency(term, doc));
    const documentFrequency = frequencies.filter((tf) => tf > 0).length;
    const weight = smallSetIdf(n, documentFrequency);
    maxScore += weight;
    for (let i = 0; i < n; i++) {
      const tf = frequencies[i]!;
      if (tf === 0) continue;
      const lengthNorm = 1 - b + (b * docs[i]!.length) / averageLength;
      direct[i]! += (weight * (tf * (k1 + 1))) / (tf + k1 * lengthNorm);
    }
  }
  return direct.map((score) => (maxScore === 0 ? 0 : score / maxScore));
}

/** The distinct Han characters of the whole words among `words`, each a term matched where it occurs. */
function hanCharacters(words: readonly QueryTerm[]): QueryTerm[] {
  const characters = new Set<string>();
  for (const word of words) {
    if (!word.whole) continue;
    for (const char of word.text) if (HAN_RE.test(char)) characters.add(char);
  }
  return [...characters].map((text) => ({ text, whole: true }));
}

function combine(first: readonly number[], second: readonly number[], secondWeight: number): number[] {
  return first.map((score, i) => (1 - secondWeight) * score + secondWeight * second[i]!);
}

/**
 * Ranks `documents` against `query` using nothing but the documents themselves:
 *
 * 1. Query coverage: BM25 over the given set (IDF from the set, with floors: see `smallSetIdf`),
 *    divided by the score of a document holding every query term once. The query's terms are
 *    those of `questionTerms`. In Chinese and Japanese they are dictionary words (`Intl.Segmenter`)
 *    without the language's question and function words, each counted where a document contains
 *    it: the overlapping character bigrams of the store's lexical index add units that straddle
 *    word boundaries ("長は", "了什") and keep the question words. The Han characters of those
 *    words count too, with `characterWeight`: words that share a morpheme (梦里/梦中, 房里/房中)
 *    then meet, as words sharing a prefix do in spaced scripts, and the words of a name the
 *    dictionary does not know, which it cuts into characters, are matched however it cut them.
 *    Other languages lose the English function words only (light prefix stemming as before):
 *    their words are already units, the set's IDF discounts function words found in most
 *    documents, and longer lists hold numerals and ordinals ("sieben", "erste") a question may
 *    turn on.
 * 2. Pseudo-relevance feedback (Rocchio-style): each document gains a share of the best documents'
 *    scores in proportion to its lexical similarity to them (words and character n-grams). A
 *    document that shares little with the query wording but much with the documents that match it
 *    — a translation, a paraphrase — then ranks above one that shares neither.
 * 3. `s / (s + k)` maps the result into `[0, 1)`; sorted best first, ties by index.
 *
 * Deterministic. Not a cross-encoder: it finds overlapping words, not meaning.
 */
export function lexicalRerank(
  query: string,
  documents: readonly string[],
  options: LexicalRerankOptions = {},
): LexicalRerankItem[] {
  const k1 = options.k1 ?? 1.2;
  const b = options.b ?? 0.75;
  const feedbackWeight = options.feedbackWeight ?? 0.3;
  const characterWeight = Math.min(1, Math.max(0, options.characterWeight ?? 0.3));
  if (documents.length === 0) return [];

  const words = questionTerms(query, { spacedStopwords: ENGLISH_STOPWORDS });
  const docs = documents.map(analyseDocument);
  const n = docs.length;

  const wordCoverage = queryCoverage(words, docs, k1, b);
  const characters = hanCharacters(words);
  const coverage =
    characters.length === 0 || characterWeight === 0
      ? wordCoverage
      : combine(wordCoverage, queryCoverage(characters, docs, k1, b), characterWeight);

  const combined = [...coverage];
  const best = Math.max(...coverage);
  if (feedbackWeight > 0 && best > 0 && n > 1) {
    const seeds = coverage
      .map((score, index) => ({ score, index }))
      .filter((entry) => entry.score > 0)
      .sort((x, y) => y.score - x.score || x.index - y.index)
      .slice(0, FEEDBACK_DOCUMENTS);
    // Each document meets every seed in one pass over its features: the seeds' weights by feature.
    const seedFeatures = seeds.map((seed) => featuresOf(docs[seed.index]!));
    const seedWeights = new Map<number, Float64Array>();
    seedFeatures.forEach(({ keys, weights }, s) => {
      for (let k = 0; k < keys.length; k++) {
        let byKey = seedWeights.get(keys[k]!);
        if (byKey === undefined) {
          byKey = new Float64Array(seeds.length);
          seedWeights.set(keys[k]!, byKey);
        }
        byKey[s]! += weights[k]!;
      }
    });
    const dots = new Float64Array(seeds.length);
    for (let i = 0; i < n; i++) {
      const { keys, weights, norm } = featuresOf(docs[i]!);
      dots.fill(0);
      for (let k = 0; k < keys.length; k++) {
        const byKey = seedWeights.get(keys[k]!);
        if (byKey === undefined) continue;
        for (let s = 0; s < byKey.length; s++) dots[s]! += weights[k]! * byKey[s]!;
      }
      let feedback = 0;
      seeds.forEach((seed, s) => {
        if (seed.index === i) return;
        const both = norm * seedFeatures[s]!.norm;
        const similarity = both === 0 ? 0 : dots[s]! / both;
        feedback = Math.max(feedback, similarity * seed.score);
      });
      combined[i] = coverage[i]! + feedbackWeight * feedback;
    }
  }

  const ranked = combined
    .map((score, index) => ({ index, relevanceScore: score / (score + SCORE_HALF_POINT) }))
    .sort((x, y) => y.relevanceScore - x.relevanceScore || x.index - y.index);
  return options.topN === undefined ? ranked : ranked.slice(0, Math.max(0, options.topN));
}
