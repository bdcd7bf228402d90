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
  /**
   * For a one-character word of an unspaced script that stands next to other one-character words
   * of the question (贾|琏: most often a name the dictionary does not know, cut into characters),
   * those words written together.
   */
  run?: string;
}

const UNSPACED_RUN = /[\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}]/u;
const HIRAGANA_ONLY = /^[\p{Script=Hiragana}ー]+$/u;
const HAN_CHAR = /^\p{Script=Han}$/u;
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
  // The one-character words of the current run, as pushed to `all` and `kept`.
  let run: QueryTerm[] = [];
  const endRun = (): void => {
    const text = run.map((term) => term.text).join('');
    if (run.length > 1) for (const term of run) term.run = text;
    run = [];
  };
  for (const { segment, isWordLike } of segmentersOf(language).words.segment(normalizeText(question))) {
    if (!isWordLike) {
      endRun();
      continue;
    }
    if (isUnspaced(language) && UNSPACED_RUN.test(segment)) {
      const term: QueryTerm = { text: segment, whole: true };
      all.push(term);
      const meaningful = !stop.has(segment) && !HIRAGANA_ONLY.test(segment);
      if (meaningful) kept.push(term);
      if (meaningful && HAN_CHAR.test(segment)) run.push(term);
      else endRun();
      continue;
    }
    endRun();
    for (const term of analyze(segment)) {
      const unit = { text: term.text, whole: term.bigram };
      all.push(unit);
      if (!stop.has(term.text) && !(term.bigram && HIRAGANA_ONLY.test(term.text))) kept.push(unit);
    }
  }
  endRun();
  const chosen = kept.length > 0 ? kept : all;
  const seen = new Set<string>();
  return chosen.filter((t) => !seen.has(t.text) && seen.add(t.text));
}
