import type { ChatMessage } from '../types.js';
import { analyze, normalizeText, smallSetIdf, termMatch } from './analyze.js';
import { detectLanguage, isUnspaced } from './language.js';
import { stripMarkup } from './markup.js';
import { extractQuestion, NOT_FOUND_ANSWER, type NumberedPassage, parsePassages } from './passages.js';
import { type QueryTerm, questionTerms, segmentersOf } from './query-terms.js';

/** What the extractive answerer produced. */
export interface ExtractiveAnswer {
  /** The answer text: quoted sentences followed by their `[n]` citations, or {@link NOT_FOUND_ANSWER}. */
  content: string;
  /** Passage numbers cited, ascending; empty when nothing was found. */
  citations: number[];
  found: boolean;
}

/** Tuning of {@link extractiveAnswer}. */
export interface ExtractiveAnswerOptions {
  /** Most sentences quoted. Default 3. */
  maxSentences?: number;
  /**
   * Share of the question's (IDF-weighted) terms a sentence must contain to be quoted at all, in
   * `[0, 1]`. Default 0.4, and 0.3 for Chinese and Japanese questions, whose dictionary words split
   * names into single characters that every sentence of a story shares: below it the best sentence
   * is usually about something else.
   */
  minCoverage?: number;
  /**
   * Also quote the sentence after the best one (same passage). A sentence that repeats the
   * question's words often only leads up to the answer ("…for two reasons." → "First, …").
   * Default true.
   */
  followingSentence?: boolean;
}

/** A further sentence is quoted only if it covers the question nearly as well as the best one. */
const RELATIVE_COVERAGE = 0.6;

interface Sentence {
  passage: number;
  position: number;
  text: string;
  /** Words (and bigrams of unspaced scripts) of the sentence. */
  terms: Set<string>;
  /** The sentence normalised as the question is, for the words of unspaced scripts. */
  normalized: string;
  /** Words of the normalised sentence as the segmenter cuts them; empty unless asked for. */
  words: Set<string>;
}

/** `withWords`: also cut each sentence into words (for one-character question words). */
function splitSentences(passage: NumberedPassage, language: string, withWords: boolean): Sentence[] {
  const sentences: Sentence[] = [];
  for (const { segment } of segmentersOf(language).sentences.segment(stripMarkup(passage.text))) {
    const text = segment.replace(/\s+/g, ' ').trim();
    const terms = new Set(analyze(text).map((term) => term.text));
    if (terms.size === 0) continue;
    const normalized = normalizeText(text);
    sentences.push({
      passage: passage.number,
      position: sentences.length,
      text,
      terms,
      normalized,
      words: withWords
        ? new Set(
            [...segmentersOf(language).words.segment(normalized)]
              .filter((w) => w.isWordLike)
              .map((w) => w.segment),
          )
        : new Set(),
    });
  }
  return sentences;
}

function bestMatch(term: QueryTerm, sentence: Sentence): number {
  if (term.whole) {
    // One character inside a longer word is another word (日 in 今日 "today", 年 in 年来 "for
    // years"): it counts where the segmenter cuts it as a word, or where the run of one-character
    // words it belongs to in the question is written (a name, which the segmenter may cut otherwise
    // there: 贾|芸道). Longer words rarely occur by accident.
    if (Array.from(term.text).length === 1) {
      if (term.run !== undefined && sentence.normalized.includes(term.run)) return 1;
      return sentence.words.has(term.text) ? 1 : 0;
    }
    return sentence.normalized.includes(term.text) ? 1 : 0;
  }
  if (sentence.terms.has(term.text)) return 1;
  let best = 0;
  for (const candidate of sentence.terms) best = Math.max(best, termMatch(term.text, candidate));
  return best;
}

const NOT_FOUND: ExtractiveAnswer = { content: NOT_FOUND_ANSWER, citations: [], found: false };

/**
 * Answers `question` by quoting the 1–3 sentences of `passages` that share the most (IDF-weighted)
 * words with it, each group followed by its passage's `[n]`. When no sentence covers enough of the
 * question — or there are no passages — the answer is {@link NOT_FOUND_ANSWER}. Deterministic; it
 * never writes a word that is not in the passages.
 */
export function extractiveAnswer(
  question: string,
  passages: readonly NumberedPassage[],
  options: ExtractiveAnswerOptions = {},
): ExtractiveAnswer {
  const maxSentences = options.maxSentences ?? 3;
  const language = detectLanguage(question);
  const minCoverage = options.minCoverage ?? (isUnspaced(language) ? 0.3 : 0.4);
  const queryTerms = questionTerms(question);
  const withWords = queryTerms.some((term) => term.whole && Array.from(term.text).length === 1);
  const sentences = passages.flatMap((passage) => splitSentences(passage, language, withWords));
  if (queryTerms.length === 0 || sentences.length === 0 || maxSentences < 1) return NOT_FOUND;

  const coverage = new Array<number>(sentences.length).fill(0);
  let totalWeight = 0;
  for (const term of queryTerms) {
    const matches = sentences.map((sentence) => bestMatch(term, sentence));
    const frequency = matches.filter((match) => match > 0).length;
    const idf = smallSetIdf(sentences.length, frequency);
    totalWeight += idf;
    for (let i = 0; i < sentences.length; i++) coverage[i]! += idf * matches[i]!;
  }

  const ranked = sentences
    .map((sentence, i) => ({ sentence, score: coverage[i]! / totalWeight }))
    .sort(
      (x, y) =>
        y.score - x.score ||
        x.sentence.passage - y.sentence.passage ||
        x.sentence.position - y.sentence.position,
    );
  const best = ranked[0];
  if (best === undefined || best.score < minCoverage) return NOT_FOUND;

  const bar = Math.max(minCoverage, RELATIVE_COVERAGE * best.score);
  const picked: Sentence[] = [];
  const seen = new Set<string>();
  for (const { sentence, score } of ranked) {
    if (picked.length >= maxSentences || score < bar) break;
    if (seen.has(sentence.text)) continue;
    seen.add(sentence.text);
    picked.push(sentence);
  }
  const next = sentences.find(
    (s) => s.passage === best.sentence.passage && s.position === best.sentence.position + 1,
  );
  if ((options.followingSentence ?? true) && next !== undefined && !seen.has(next.text)) picked.push(next);
  picked.sort((x, y) => x.passage - y.passage || x.position - y.position);

  // Consecutive quotes from one passage share a single citation.
  const parts: string[] = [];
  let group: string[] = [];
  for (let i = 0; i < picked.length; i++) {
    const sentence = picked[i]!;
    group.push(sentence.text);
    if (picked[i + 1]?.passage !== sentence.passage) {
      parts.push(`${group.join(' ')} [${sentence.passage}]`);
      group = [];
    }
  }
  const citations = [...new Set(picked.map((sentence) => sentence.passage))];
  return { content: parts.join(' '), citations, found: true };
}

/**
 * Runs {@link extractiveAnswer} on a chat conversation: passages are read from every system and
 * user message (see `formatPassages`), the question from the last user message.
 */
export function answerFromMessages(
  messages: readonly ChatMessage[],
  options: ExtractiveAnswerOptions = {},
): ExtractiveAnswer {
  const passages = messages
    .filter((message) => message.role !== 'assistant')
    .flatMap((message) => parsePassages(message.content));
  const lastUser = [...messages].reverse().find((message) => message.role === 'user');
  if (lastUser === undefined) return NOT_FOUND;
  return extractiveAnswer(extractQuestion(lastUser.content), passages, options);
}
