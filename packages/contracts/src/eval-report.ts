/**
 * The result of evaluating one question (an `eval-query` job's return value), as a zod schema: the
 * eval report is built from it in another process.
 */
import * as z from 'zod';

const ms = z.number().nonnegative();
const count = z.number().int().nonnegative();

/** The retrieval stages an eval compares, in pipeline order. */
export const EVAL_MODES = ['lexical', 'dense', 'fused', 'reranked'] as const;
export type EvalMode = (typeof EVAL_MODES)[number];

/** One chunk in one stage's list. */
export const EvalHitSchema = z.object({
  documentId: z.string(),
  chunkIndex: count,
  /** The stage's own score (BM25, cosine, fused, rerank); comparable only within the list. */
  score: z.number(),
});
export type EvalHit = z.infer<typeof EvalHitSchema>;

/** A fused candidate before reranking: where each search placed it. */
export const EvalCandidateSchema = z.object({
  documentId: z.string(),
  chunkIndex: count,
  fusedRank: z.number().int().positive(),
  fusedScore: z.number(),
  denseRank: z.number().int().positive().nullable(),
  denseScore: z.number().nullable(),
  lexicalRank: z.number().int().positive().nullable(),
  lexicalScore: z.number().nullable(),
});
export type EvalCandidate = z.infer<typeof EvalCandidateSchema>;

export const EvalPassageSchema = z.object({
  /** The `[n]` the answer cites it by. */
  number: z.number().int().positive(),
  documentId: z.string(),
  chunkIndex: count,
  text: z.string(),
  rerankScore: z.number().nullable(),
});

export const EvalQuestionResultSchema = z.object({
  /** Each stage's list, best first (chunks; at most the candidate count, 20 after reranking). */
  rankings: z.object({
    lexical: z.array(EvalHitSchema),
    dense: z.array(EvalHitSchema),
    fused: z.array(EvalHitSchema),
    reranked: z.array(EvalHitSchema),
  }),
  /** The fused candidates the reranker was given, in fused order. */
  candidates: z.array(EvalCandidateSchema),
  /** False when reranking failed and `reranked` is the fused order. */
  reranked: z.boolean(),
  rerankError: z.string().optional(),
  /** The answer, when the eval asked for answers. */
  answer: z
    .object({
      text: z.string(),
      notFound: z.boolean(),
      /** Passages given to the chat model. */
      passages: z.array(EvalPassageSchema),
      /** Context tokens used, and passages the budget left out. */
      contextTokens: count,
      droppedByBudget: count,
    })
    .nullable(),
  usage: z.object({
    embeddingTokens: count,
    documentsReranked: count,
    promptTokens: count,
    completionTokens: count,
  }),
  /** Wall-clock milliseconds per stage; `lexical` and `dense` are each search alone. */
  timingsMs: z.object({
    embed: ms,
    lexical: ms,
    dense: ms,
    fuse: ms,
    rerank: ms,
    generate: ms,
  }),
});
export type EvalQuestionResult = z.infer<typeof EvalQuestionResultSchema>;

const rate = z.number().min(0).max(1);

export const RankingMetricsSchema = z.object({
  recallAt1: rate,
  recallAt5: rate,
  recallAt10: rate,
  recallAt20: rate,
  mrrAt10: rate,
  ndcgAt10: rate,
});

const LatencySchema = z.object({ mean: ms, p50: ms, p95: ms });
export const EVAL_STAGES = ['embed', 'lexical', 'dense', 'fuse', 'rerank', 'generate'] as const;

/** A share of a group of questions: how many, and the rate (null for an empty group). */
const AnswerGroupSchema = z.object({
  questions: count,
  /** Share whose answer contains a gold string; null without gold strings. */
  containment: rate.nullable(),
  notFoundRate: rate.nullable(),
});

export const EvalRowSchema = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    index: count,
    id: z.string().nullable(),
    question: z.string(),
    /** Relevant document ids from the qrels; empty for an unanswerable question. */
    relevant: z.array(z.string()),
    /** 1-based rank of the first relevant document in each stage's (document) list; null: not found. */
    firstRelevantRank: z.object({
      lexical: z.number().int().positive().nullable(),
      dense: z.number().int().positive().nullable(),
      fused: z.number().int().positive().nullable(),
      reranked: z.number().int().positive().nullable(),
    }),
    ndcgAt10: z.object({ lexical: rate, dense: rate, fused: rate, reranked: rate }),
    reranked: z.boolean(),
    rerankError: z.string().optional(),
    answer: z.string().nullable(),
    notFound: z.boolean().nullable(),
    /** Whether the answer contains a gold string; null without gold strings or answers. */
    contained: z.boolean().nullable(),
    contextTokens: count.nullable(),
    /** Passages the context budget left out of the answer's context. */
    droppedByBudget: count.nullable(),
    timingsMs: EvalQuestionResultSchema.shape.timingsMs,
    /** With `include.passages`: the passages the answer was given. */
    passages: z.array(EvalPassageSchema).optional(),
    /** With `include.candidates`: the fused candidates before reranking, and the reranked order. */
    candidates: z.array(EvalCandidateSchema).optional(),
    rerankedList: z.array(EvalHitSchema).optional(),
  }),
  z.object({
    ok: z.literal(false),
    index: count,
    id: z.string().nullable(),
    question: z.string(),
    relevant: z.array(z.string()),
    error: z.string(),
  }),
]);
export type EvalRow = z.infer<typeof EvalRowSchema>;

export const EvalReportSchema = z.object({
  v: z.literal(1),
  evalId: z.string(),
  tenant: z.string(),
  name: z.string().nullable(),
  settings: z.object({
    candidates: count,
    topN: count,
    answers: z.boolean(),
    contextTokens: count,
  }),
  /** Documents the eval ingested (0 for an already-ingested tenant), and those that failed. */
  documents: z.object({
    ingested: count,
    failed: z.array(z.object({ documentId: z.string(), error: z.string() })),
    /** Whether the eval's documents were deleted once the report was made. */
    cleanedUp: z.boolean(),
  }),
  total: count,
  evaluated: count,
  failed: count,
  /** Questions with at least one relevant document, evaluated without error: the retrieval figures' base. */
  answerable: count,
  unanswerable: count,
  /** Mean over the answerable questions, per stage. */
  retrieval: z.object({
    lexical: RankingMetricsSchema,
    dense: RankingMetricsSchema,
    fused: RankingMetricsSchema,
    reranked: RankingMetricsSchema,
  }),
  /** Null when the eval did not ask for answers. */
  answers: z
    .object({
      answerable: AnswerGroupSchema,
      /** Answerable questions whose gold passage the reranker put first. */
      goldFirst: AnswerGroupSchema,
      unanswerable: AnswerGroupSchema,
    })
    .nullable(),
  latencyMs: z.object({
    embed: LatencySchema,
    lexical: LatencySchema,
    dense: LatencySchema,
    fuse: LatencySchema,
    rerank: LatencySchema,
    generate: LatencySchema,
  }),
  usage: EvalQuestionResultSchema.shape.usage,
  /** One row per question, in question order. */
  queries: z.array(EvalRowSchema),
});
export type EvalReport = z.infer<typeof EvalReportSchema>;
