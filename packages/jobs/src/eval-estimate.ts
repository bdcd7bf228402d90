import { DEFAULT_CANDIDATES, DEFAULT_CONTEXT_TOKENS, DEFAULT_TOP_N } from '@quire/contracts';
import type { EvalInput } from './eval-schemas.js';

/** What an eval will ask of the model API, roughly (see {@link estimateEvalTokens}). */
export interface EvalTokenEstimate {
  /** Embedding the corpus and the questions. */
  embedding: number;
  /** Question plus every candidate, per question. */
  rerank: number;
  /** Prompt and answer of each chat call (0 without answers). */
  chat: number;
  total: number;
}

/**
 * Tokens of `text`, over- rather than under-counted: one per three characters of alphabetic text
 * and one per character of CJK text (where tokenisers give about one or more per character).
 */
export function roughTokens(text: string): number {
  let cjk = 0;
  for (const ch of text) if (/[\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}\p{scx=Hangul}]/u.test(ch)) cjk++;
  return cjk + Math.ceil((text.length - cjk) / 3);
}

/** Tokens of a chunk when the corpus does not say: the chunker's default size. */
const CHUNK_TOKENS = 512;
/** Tokens of the answer prompt's instructions and of an answer. */
const PROMPT_TOKENS = 200;
const ANSWER_TOKENS = 300;

/**
 * An upper-leaning estimate of the tokens an eval sends to the model API: every corpus document
 * and question embedded once; per question, the question and `candidates` passages reranked, and
 * (with answers) `topN` passages of at most `contextTokens` in the chat prompt plus an answer.
 * Passages are taken at the corpus's mean document size, capped at a chunk.
 */
export function estimateEvalTokens(
  input: Pick<EvalInput, 'corpus' | 'queries' | 'options'>,
  defaults: { candidates: number; topN: number; contextTokens: number } = {
    candidates: DEFAULT_CANDIDATES,
    topN: DEFAULT_TOP_N,
    contextTokens: DEFAULT_CONTEXT_TOKENS,
  },
): EvalTokenEstimate {
  const corpusTokens = (input.corpus ?? []).reduce((sum, d) => sum + roughTokens(d.text), 0);
  const docs = input.corpus?.length ?? 0;
  const passage = docs === 0 ? CHUNK_TOKENS : Math.min(CHUNK_TOKENS, Math.ceil(corpusTokens / docs));
  const candidates = input.options?.candidates ?? defaults.candidates;
  const topN = input.options?.topN ?? defaults.topN;
  const context = Math.min(input.options?.contextTokens ?? defaults.contextTokens, topN * passage);
  const answers = input.options?.answers ?? true;
  let embedding = corpusTokens;
  let rerank = 0;
  let chat = 0;
  for (const q of input.queries) {
    const question = roughTokens(q.text);
    embedding += question;
    rerank += question + candidates * passage;
    if (answers) chat += PROMPT_TOKENS + question + context + ANSWER_TOKENS;
  }
  return { embedding, rerank, chat, total: embedding + rerank + chat };
}
