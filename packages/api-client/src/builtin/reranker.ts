import { analyze, contentTerms, normalizeText, smallSetIdf, termMatch } from './analyze.js';
import { featureCosine, lexicalFeatures } from './embedder.js';
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
}

function analyseDocument(text: string): AnalysedDocument {
  const counts = new Map<string, number>();
  const terms = contentTerms(analyze(text));
  for (const term of terms) counts.set(term.text, (counts.get(term.text) ?? 0) + 1);
  return { counts, length: terms.length, normalized: normalizeText(text) };
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
    const features = documents.map((text) => lexicalFeatures(text));
    for (let i = 0; i < n; i++) {
      let feedback = 0;
      for (const seed of seeds) {
        if (seed.index === i) continue;
        const similarity = featureCosine(features[i]!, features[seed.index]!);
        feedback = Math.max(feedback, similarity * seed.score);
      }
      combined[i] = coverage[i]! + feedbackWeight * feedback;
    }
  }

  const ranked = combined
    .map((score, index) => ({ index, relevanceScore: score / (score + SCORE_HALF_POINT) }))
    .sort((x, y) => y.relevanceScore - x.relevanceScore || x.index - y.index);
  return options.topN === undefined ? ranked : ranked.slice(0, Math.max(0, options.topN));
}
