import { analyze, normalizeText } from './analyze.js';
import { detectLanguage, isUnspaced, stopwordsOf } from './language.js';

/**
 * A word of a question that carries meaning. `whole` words come from an unspaced script (cut by
 * `Intl.Segmenter`'s dictionary, or bigrams of scripts it does not segment) and match a text that
 * contains them; the others match a word of the text, or one sharing a long prefix with it.
 */
export interface QueryTerm {
  text: string;
  whole: boolean;
}

const UNSPACED_RUN = /[\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}]/u;
const HIRAGANA_ONLY = /^[\p{Script=Hiragana}ー]+$/u;
const segmenters = new Map<string, { words: Intl.Segmenter; sentences: Intl.Segmenter }>();

/** Word and sentence segmenters of `language` (BCP 47 primary tag), made once. */
export function segmentersOf(language: string): { words: Intl.Segmenter; sentences: Intl.Segmenter } {
  let pair = segmenters.get(language);
  if (pair === undefined) {
    pair = {
      words: new Intl.Segmenter(language, { granularity: 'word' }),
      sentences: new Intl.Segmenter(language, { granularity: 'sentence' }),
    };
    segmenters.set(language, pair);
  }
  return pair;
}

/** Options of {@link questionTerms}. */
export interface QuestionTermsOptions {
  /**
   * Function words dropped from questions in spaced scripts. Questions in Chinese and Japanese always
   * lose their language's function words (see `stopwordsOf`).
   * @defaultValue the question language's list (`stopwordsOf`)
   */
  spacedStopwords?: ReadonlySet<string>;
}

/**
 * The question's meaningful words, each once, in order: its language's function words removed
 * (wer/wann, 什么/多少, 何/いつ …, from maintained lists, see `language.ts`), words of unspaced
 * scripts kept whole, hiragana-only words (Japanese particles and endings) dropped. When that
 * leaves nothing, every word counts (a question made only of function words still asks).
 *
 * Dictionary words rather than character bigrams: a bigram across a word boundary ("長は", "了什")
 * is noise that the question's language would never write as a unit.
 */
export function questionTerms(question: string, options: QuestionTermsOptions = {}): QueryTerm[] {
  const language = detectLanguage(question);
  const stop =
    isUnspaced(language) || options.spacedStopwords === undefined
      ? stopwordsOf(language)
      : options.spacedStopwords;
  const kept: QueryTerm[] = [];
  const all: QueryTerm[] = [];
  for (const { segment, isWordLike } of segmentersOf(language).words.segment(normalizeText(question))) {
    if (!isWordLike) continue;
    if (isUnspaced(language) && UNSPACED_RUN.test(segment)) {
      all.push({ text: segment, whole: true });
      if (!stop.has(segment) && !HIRAGANA_ONLY.test(segment)) kept.push({ text: segment, whole: true });
      continue;
    }
    for (const term of analyze(segment)) {
      const unit = { text: term.text, whole: term.bigram };
      all.push(unit);
      if (!stop.has(term.text) && !(term.bigram && HIRAGANA_ONLY.test(term.text))) kept.push(unit);
    }
  }
  const chosen = kept.length > 0 ? kept : all;
  const seen = new Set<string>();
  return chosen.filter((t) => !seen.has(t.text) && seen.add(t.text));
}
