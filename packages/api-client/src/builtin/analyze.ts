import { ENGLISH_STOPWORDS } from './stopwords.js';

/**
 * Scripts written without spaces between words (or, for Hangul, whose words are better matched in
 * pieces). Runs of them are cut into overlapping character bigrams, the usual trick of search
 * engines (Lucene's CJK bigram filter) that makes unsegmented text searchable without a dictionary.
 * `Script_Extensions` so that marks shared between scripts (the Katakana prolonged sound mark ー)
 * stay inside their run.
 */
const BIGRAM_SCRIPTS =
  '\\p{scx=Han}\\p{scx=Hiragana}\\p{scx=Katakana}\\p{scx=Hangul}\\p{scx=Thai}\\p{scx=Lao}\\p{scx=Khmer}\\p{scx=Myanmar}';

/** Letters, digits and combining marks (needed by Indic and Thai scripts even after NFKC). */
const WORD_RE = /[\p{L}\p{N}\p{M}]+/gu;
const SEGMENT_RE = new RegExp(`[${BIGRAM_SCRIPTS}]+|[^${BIGRAM_SCRIPTS}]+`, 'gu');
const BIGRAM_RUN_RE = new RegExp(`^[${BIGRAM_SCRIPTS}]`, 'u');

/** One unit of meaning: a word, or a bigram (single character for a 1-character run) of unsegmented text. */
export interface Term {
  text: string;
  /** True for units cut out of unsegmented scripts. */
  bigram: boolean;
}

/** Unicode normalisation applied before anything else: NFKC (full-width forms, ligatures) and lowercase. */
export function normalizeText(text: string): string {
  return text.normalize('NFKC').toLowerCase();
}

/** Terms of `text` in reading order. */
export function analyze(text: string): Term[] {
  return analyzeNormalized(normalizeText(text));
}

/** {@link analyze} of a text already through {@link normalizeText}. */
export function analyzeNormalized(normalized: string): Term[] {
  const terms: Term[] = [];
  for (const word of normalized.match(WORD_RE) ?? []) {
    for (const segment of word.match(SEGMENT_RE) ?? []) {
      if (!BIGRAM_RUN_RE.test(segment)) {
        terms.push({ text: segment, bigram: false });
        continue;
      }
      const chars = Array.from(segment);
      if (chars.length === 1) {
        terms.push({ text: segment, bigram: true });
        continue;
      }
      for (let i = 0; i + 1 < chars.length; i++)
        terms.push({ text: `${chars[i]}${chars[i + 1]}`, bigram: true });
    }
  }
  return terms;
}

/**
 * Japanese particles and endings (は, の, です, か) are written in hiragana, so a bigram made only of
 * hiragana is nearly always grammar, and bigrams across them ("はど", "すか") are noise.
 */
const HIRAGANA_ONLY_RE = /^[\p{Script=Hiragana}ー]+$/u;

/**
 * The terms that carry meaning: English stopwords and hiragana-only bigrams removed, unless that
 * leaves nothing (a text made only of function words still has to match itself).
 */
export function contentTerms(terms: readonly Term[]): Term[] {
  const kept = terms.filter((term) =>
    term.bigram ? !HIRAGANA_ONLY_RE.test(term.text) : !ENGLISH_STOPWORDS.has(term.text),
  );
  return kept.length > 0 ? kept : [...terms];
}

/**
 * Approximate token count used for `usage`: one per word, one per character of unsegmented
 * scripts. Real tokenisers differ; the built-in models only need a stable, plausible figure.
 */
export function countTokens(text: string): number {
  let count = 0;
  for (const word of normalizeText(text).match(WORD_RE) ?? []) {
    for (const segment of word.match(SEGMENT_RE) ?? []) {
      count += BIGRAM_RUN_RE.test(segment) ? Array.from(segment).length : 1;
    }
  }
  return count;
}

/** Minimum length of both terms for a prefix match: shorter prefixes ("car"/"cart") mislead more than they help. */
const MIN_PREFIX_LENGTH = 4;

/**
 * How well document term `candidate` matches query term `term`: 1 when equal, less for a light
 * stem match where one is a prefix of the other ("product"/"products", "hypoallergen"/
 * "hypoallergenic"), scaled by how much of the longer word is shared; 0 otherwise. Always below 1
 * for non-identical terms so that exact matches win.
 */
export function termMatch(term: string, candidate: string): number {
  if (term === candidate) return 1;
  const [shorter, longer] = term.length <= candidate.length ? [term, candidate] : [candidate, term];
  if (shorter.length < MIN_PREFIX_LENGTH || !longer.startsWith(shorter)) return 0;
  return 0.9 * (shorter.length / longer.length);
}

/**
 * Lowest IDF a term gets. With one to three documents (or sentences) a term present everywhere
 * would weigh almost nothing; the floor keeps it counting, so small sets still rank by how much of
 * the query they cover.
 */
const IDF_FLOOR = 0.2;

/**
 * BM25's IDF (the always-positive Lucene form) over a small set of `total` texts, `frequency` of
 * which contain the term. A term found nowhere is weighed like one found once: in a small set its
 * absence says little, and letting it weigh most would let one unmatched word ("how long") sink
 * every candidate.
 */
export function smallSetIdf(total: number, frequency: number): number {
  const df = Math.max(1, frequency);
  return Math.max(IDF_FLOOR, Math.log(1 + (total - df + 0.5) / (df + 0.5)));
}
