/**
 * The result of answering one question: a job result, read back by the producer SDK, the gateway
 * and the CLI.
 */
import * as z from 'zod';
import { EvalCandidateSchema } from './eval-report.js';

const count = z.number().int().nonnegative();
const page = z.number().int().positive().nullable();
const ms = z.number().nonnegative();

export const CitationSchema = z.object({
  /** The `[n]` the answer cites it by. */
  number: z.number().int().positive(),
  documentId: z.string(),
  sourceName: z.string(),
  /** 1-based page range; null for formats without pages. */
  pageStart: page,
  pageEnd: page,
  chunkIndex: count,
  /** The passage's first ~200 characters, cut at a word boundary. */
  excerpt: z.string(),
});
export type Citation = z.infer<typeof CitationSchema>;

export const AnswerPassageSchema = z.object({
  /**
   * 1-based; the answer cites this passage as `[rank]`. Cited passages come first, numbered in the
   * order the answer first cites them, then the others in `contextRank` order.
   */
  rank: z.number().int().positive(),
  /** 1-based position in the reranked list the model was given (absent from older workers). */
  contextRank: z.number().int().positive().optional(),
  documentId: z.string(),
  sourceName: z.string(),
  pageStart: page,
  pageEnd: page,
  chunkIndex: count,
  /** The text the model was given (shortened only when it alone exceeded the context budget). */
  text: z.string(),
  /** Reciprocal Rank Fusion score of dense and lexical retrieval. */
  retrievalScore: z.number(),
  /** The reranker's relevance score; null when reranking failed and the fused order was used. */
  rerankScore: z.number().nullable(),
});
export type AnswerPassage = z.infer<typeof AnswerPassageSchema>;

export const AnswerUsageSchema = z.object({
  /** Tokens of the question's embedding. */
  embeddingTokens: count,
  /** Candidates the reranker scored (0 when it failed or had nothing to score). */
  documentsReranked: count,
  /** Prompt and completion tokens of the chat call (0 when the model was not called). */
  promptTokens: count,
  completionTokens: count,
});
export type AnswerUsage = z.infer<typeof AnswerUsageSchema>;

/**
 * Wall-clock milliseconds per stage; `generate` includes building the context. `search` is what the
 * searches added after the embedding call: the lexical search runs during that call.
 */
export const AnswerTimingsSchema = z.object({
  embed: ms,
  search: ms,
  rerank: ms,
  generate: ms,
  total: ms,
});
export type AnswerTimings = z.infer<typeof AnswerTimingsSchema>;

/** What the context budget left out: present only when it dropped or shortened a passage. */
export const ContextTruncationSchema = z.object({
  /** The budget, in tokens. */
  budget: count,
  /** Tokens of the passages given. */
  tokens: count,
  /** Passages given to the model. */
  kept: count,
  /** Passages the reranker kept that did not fit the budget. */
  dropped: count,
  /** Whether the one passage given was shortened to fit (it alone exceeded the budget). */
  shortened: z.boolean(),
});
export type ContextTruncation = z.infer<typeof ContextTruncationSchema>;

/** A fused candidate before reranking: where each search placed it (ids, scores, ranks). */
export const AnswerCandidateSchema = EvalCandidateSchema;
export type AnswerCandidate = z.infer<typeof AnswerCandidateSchema>;

export const AnswerResultSchema = z.object({
  /** The answer with its `[n]` citations, or exactly `NOT_FOUND_ANSWER`. */
  answer: z.string(),
  /** No answer in the documents: nothing retrieved, nothing above the rerank threshold, or the model said so. */
  notFound: z.boolean(),
  /** Whether the chat model was called. */
  generated: z.boolean(),
  /**
   * Passages cited, by ascending number (1..n in the order the answer first cites them, no gaps);
   * `citations[i].number` is a `passages[].rank`.
   */
  citations: z.array(CitationSchema),
  /** Passages given to the model, by `rank`: the cited ones first. */
  passages: z.array(AnswerPassageSchema),
  /** Set when the context budget left passages out or shortened the only one given. */
  contextTruncated: ContextTruncationSchema.optional(),
  /** With `include.candidates`: the fused candidates the reranker was given, in fused order. */
  preRerank: z.array(AnswerCandidateSchema).optional(),
  /** False when the rerank call failed and the fused order was used (see `rerankError`), or nothing was reranked. */
  reranked: z.boolean(),
  rerankError: z.string().optional(),
  /** Passage numbers the model cited that do not exist; removed from `answer`. */
  removedCitations: z.array(z.number().int()),
  usage: AnswerUsageSchema,
  timingsMs: AnswerTimingsSchema,
  /** Candidates retrieved (after fusion), before reranking. */
  candidates: count,
  /** Version of the prompts the answer was generated with. */
  promptVersion: z.string(),
});
export type AnswerResult = z.infer<typeof AnswerResultSchema>;
