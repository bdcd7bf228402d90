/**
 * The result of answering one question: a job result, read back by the producer SDK, the gateway
 * and the CLI.
 */
import { z } from 'zod';

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
  /** 1-based; the answer cites this passage as `[rank]`. */
  rank: z.number().int().positive(),
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

export const AnswerResultSchema = z.object({
  /** The answer with its `[n]` citations, or exactly `NOT_FOUND_ANSWER`. */
  answer: z.string(),
  /** No answer in the documents: nothing retrieved, nothing above the rerank threshold, or the model said so. */
  notFound: z.boolean(),
  /** Whether the chat model was called. */
  generated: z.boolean(),
  /** Passages cited, by ascending number; `citations[i].number` is a `passages[].rank`. */
  citations: z.array(CitationSchema),
  /** Passages given to the model, in rank order. */
  passages: z.array(AnswerPassageSchema),
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
