import type { ChatMessage } from '../types.js';
import { analyze, contentTerms, smallSetIdf, termMatch } from './analyze.js';
import { extractQuestion, NOT_FOUND_ANSWER, type NumberedPassage, parsePassages } from './passages.js';

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
   * `[0, 1]`. Default 0.4: below it the best sentence is usually about something else.
   */
  minCoverage?: number;
}

/** A further sentence is quoted only if it covers the question nearly as well as the best one. */
const RELATIVE_COVERAGE = 0.6;
const segmenter = new Intl.Segmenter('und', { granularity: 'sentence' });

interface Sentence {
  passage: number;
  position: number;
  text: string;
  terms: Set<string>;
}

function splitSentences(passage: NumberedPassage): Sentence[] {
  const sentences: Sentence[] = [];
  for (const { segment } of segmenter.segment(passage.text)) {
    const text = segment.trim();
    const terms = new Set(analyze(text).map((term) => term.text));
    if (terms.size === 0) continue;
    sentences.push({ passage: passage.number, position: sentences.length, text, terms });
  }
  return sentences;
}

function bestMatch(term: string, terms: Set<string>): number {
  if (terms.has(term)) return 1;
  let best = 0;
  for (const candidate of terms) best = Math.max(best, termMatch(term, candidate));
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
  const minCoverage = options.minCoverage ?? 0.4;
  const queryTerms = [...new Set(contentTerms(analyze(question)).map((term) => term.text))];
  const sentences = passages.flatMap(splitSentences);
  if (queryTerms.length === 0 || sentences.length === 0 || maxSentences < 1) return NOT_FOUND;

  const coverage = new Array<number>(sentences.length).fill(0);
  let totalWeight = 0;
  for (const term of queryTerms) {
    const matches = sentences.map((sentence) => bestMatch(term, sentence.terms));
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
