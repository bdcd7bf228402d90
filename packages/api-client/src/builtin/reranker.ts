import { analyze, contentTerms, smallSetIdf, termMatch } from './analyze.js';
import { featureCosine, lexicalFeatures } from './embedder.js';

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

interface AnalysedDocument {
  counts: Map<string, number>;
  length: number;
}

function analyseDocument(text: string): AnalysedDocument {
  const counts = new Map<string, number>();
  const terms = contentTerms(analyze(text));
  for (const term of terms) counts.set(term.text, (counts.get(term.text) ?? 0) + 1);
  return { counts, length: terms.length };
}

/** Term frequency of `term` in a document, counting light prefix matches fractionally. */
function matchedFrequency(term: string, doc: AnalysedDocument): number {
  const exact = doc.counts.get(term);
  if (exact !== undefined) return exact;
  let tf = 0;
  for (const [candidate, count] of doc.counts) tf += count * termMatch(term, candidate);
  return tf;
}

/**
 * Ranks `documents` against `query` using nothing but the documents themselves:
 *
 * 1. BM25 over the given set (IDF from the set, with floors: see `smallSetIdf`; light prefix stemming), divided by the score of a
 *    document holding every query term once, so it reads as query coverage.
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
  if (documents.length === 0) return [];

  const queryCounts = new Map<string, number>();
  for (const term of contentTerms(analyze(query)))
    queryCounts.set(term.text, (queryCounts.get(term.text) ?? 0) + 1);
  const docs = documents.map(analyseDocument);
  const n = docs.length;
  const averageLength = docs.reduce((sum, doc) => sum + doc.length, 0) / n || 1;

  const direct = new Array<number>(n).fill(0);
  let maxScore = 0;
  for (const [term, queryTf] of queryCounts) {
    const frequencies = docs.map((doc) => matchedFrequency(term, doc));
    const documentFrequency = frequencies.filter((tf) => tf > 0).length;
    const idf = smallSetIdf(n, documentFrequency);
    const weight = (1 + Math.log(queryTf)) * idf;
    maxScore += weight;
    for (let i = 0; i < n; i++) {
      const tf = frequencies[i]!;
      if (tf === 0) continue;
      const lengthNorm = 1 - b + (b * docs[i]!.length) / averageLength;
      direct[i]! += (weight * (tf * (k1 + 1))) / (tf + k1 * lengthNorm);
    }
  }
  const coverage = direct.map((score) => (maxScore === 0 ? 0 : score / maxScore));

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
