/**
 * Query and batch payloads and results (versioned), shared by the producer SDK, the query worker
 * and the gateway.
 */
import * as z from 'zod';
import {
  AnswerCandidateSchema,
  AnswerPassageSchema,
  AnswerResultSchema,
  ContextTruncationSchema,
} from './answer.js';
import { DocumentIdSchema, MetadataSchema, TenantSchema } from './common.js';
import { MAX_CANDIDATES, MAX_CONTEXT_TOKENS, MAX_TOP_N, MAX_TOP_N_V1 } from './retrieval-limits.js';
import { payloadVersion } from './version.js';

export const QueryFilterSchema = z
  .object({
    documentIds: z.array(DocumentIdSchema).max(1000).optional(),
    metadata: MetadataSchema.optional(),
    sourceNames: z.array(z.string().min(1).max(512)).max(1000).optional(),
  })
  .strict();
export type QueryFilter = z.infer<typeof QueryFilterSchema>;

/** `candidates`: how many chunks a question retrieves before reranking. */
export const CandidatesSchema = z.number().int().min(1).max(MAX_CANDIDATES);

export const QueryOptionsSchema = z
  .object({
    /** Candidates retrieved before reranking (1–100). */
    candidates: CandidatesSchema.optional(),
    /** Passages kept after reranking (1–20). */
    topN: z.number().int().min(1).max(MAX_TOP_N_V1).optional(),
    /** Passages scoring below this after reranking are dropped (0–1). */
    minRerankScore: z.number().min(0).max(1).optional(),
    /** When reranking fails: fail the job (default) or answer from the fused retrieval order. */
    rerankFallback: z.enum(['fail', 'fused']).optional(),
  })
  .strict();
export type QueryOptions = z.infer<typeof QueryOptionsSchema>;

/** `topN` of version 2 options and evals: passages kept after reranking. */
export const TopNSchema = z.number().int().min(1).max(MAX_TOP_N);
/** `contextTokens`: token budget of the passages one answer is given. */
export const ContextTokensSchema = z.number().int().min(1).max(MAX_CONTEXT_TOKENS);
/** `include`: what a report carries per question besides its answer or figures. */
export const IncludeSchema = z
  .object({
    /** The passages the answer was given (a query's result always has them). */
    passages: z.boolean().optional(),
    /** The fused candidates before reranking (ids, scores, ranks). */
    candidates: z.boolean().optional(),
  })
  .strict();

/**
 * Version 2 of the query options: `topN` up to 50, a per-query context budget, and what a batch
 * report carries per question. A payload whose options fit version 1 is still written as version 1.
 */
export const QueryOptionsV2Schema = z
  .object({
    ...QueryOptionsSchema.shape,
    /** Passages kept after reranking (1–50); the context budget may still leave some out. */
    topN: TopNSchema.optional(),
    /**
     * Token budget of the passages given to the answer (1–32,000). Default: the worker's (3,000).
     * Passages that do not fit are left out, and the result says so (`contextTruncated`).
     */
    contextTokens: ContextTokensSchema.optional(),
    /** What the result carries besides the answer: batch reports' passages, and `preRerank`. */
    include: IncludeSchema.optional(),
  })
  .strict();
export type QueryOptionsV2 = z.infer<typeof QueryOptionsV2Schema>;

/** The oldest payload version that carries these options (see the README's versioning policy). */
export function queryOptionsVersion(options: QueryOptionsV2 | undefined): 1 | 2 {
  return options === undefined || QueryOptionsSchema.safeParse(options).success ? 1 : 2;
}

export const QuestionSchema = z
  .string()
  .trim()
  .min(1, 'question must not be empty')
  .max(4000, 'question must be at most 4000 characters');

export const QueryJobDataSchema = z
  .object({
    v: payloadVersion(1),
    tenant: TenantSchema,
    question: QuestionSchema,
    filter: QueryFilterSchema.optional(),
    options: QueryOptionsSchema.optional(),
    /** Set on the children of a batch. */
    batch: z
      .object({ id: z.string().min(1).max(128), index: z.number().int().nonnegative() })
      .strict()
      .optional(),
  })
  .strict();
export type QueryJobData = z.infer<typeof QueryJobDataSchema>;

/** Version 2 of the query payload: the options of {@link QueryOptionsV2Schema}. */
export const QueryJobDataV2Schema = z
  .object({ ...QueryJobDataSchema.shape, v: z.literal(2), options: QueryOptionsV2Schema.optional() })
  .strict();
export type QueryJobDataV2 = z.infer<typeof QueryJobDataV2Schema>;
/** A question as a producer gives it; written as the oldest payload version that carries it. */
export type QueryJobInput = Omit<QueryJobDataV2, 'v' | 'batch'>;

/** Any query payload a worker takes: version 1 or 2. */
export const QueryJobPayloadSchema = z.discriminatedUnion('v', [QueryJobDataSchema, QueryJobDataV2Schema]);
export type QueryJobPayload = z.infer<typeof QueryJobPayloadSchema>;

/** A query payload of any version as the newest: version 1 means the same with `v: 2`. */
export function upgradeQueryJob(data: QueryJobPayload): QueryJobDataV2 {
  return { ...data, v: 2 };
}

export const QueryResultSchema = AnswerResultSchema.extend({
  v: z.literal(1),
  tenant: TenantSchema,
  question: z.string(),
});
export type QueryResult = z.infer<typeof QueryResultSchema>;

export const BatchQuestionSchema = z
  .object({
    /** Your own id for the question, echoed in the report. */
    id: z.string().min(1).max(256).optional(),
    question: QuestionSchema,
  })
  .strict();
export type BatchQuestion = z.infer<typeof BatchQuestionSchema>;

export const MAX_BATCH_QUESTIONS = 10_000;

export const BatchInputSchema = z
  .object({
    tenant: TenantSchema,
    name: z.string().max(256).optional(),
    filter: QueryFilterSchema.optional(),
    options: QueryOptionsV2Schema.optional(),
    questions: z
      .array(BatchQuestionSchema)
      .min(1, 'a batch needs at least one question')
      .max(MAX_BATCH_QUESTIONS, `a batch has at most ${MAX_BATCH_QUESTIONS} questions`),
  })
  .strict();
export type BatchInput = z.infer<typeof BatchInputSchema>;

export const BatchJobDataSchema = z
  .object({
    v: payloadVersion(1),
    batchId: z.string().min(1).max(128),
    tenant: TenantSchema,
    name: z.string().max(256).optional(),
    /** What every question of the batch was asked with, so that the batch describes itself. */
    filter: QueryFilterSchema.optional(),
    options: QueryOptionsSchema.optional(),
    /** The questions in order, with the caller's ids (null where none was given). */
    questions: z.array(z.object({ id: z.string().nullable(), question: z.string() }).strict()).min(1),
  })
  .strict();
export type BatchJobData = z.infer<typeof BatchJobDataSchema>;

/** Version 2 of the batch payload: the options of {@link QueryOptionsV2Schema}. */
export const BatchJobDataV2Schema = z
  .object({ ...BatchJobDataSchema.shape, v: z.literal(2), options: QueryOptionsV2Schema.optional() })
  .strict();
export type BatchJobDataV2 = z.infer<typeof BatchJobDataV2Schema>;

/** Any batch payload a worker takes: version 1 or 2. */
export const BatchJobPayloadSchema = z.discriminatedUnion('v', [BatchJobDataSchema, BatchJobDataV2Schema]);
export type BatchJobPayload = z.infer<typeof BatchJobPayloadSchema>;

/** A batch payload of any version as the newest. */
export function upgradeBatchJob(data: BatchJobPayload): BatchJobDataV2 {
  return { ...data, v: 2 };
}

export const BatchItemSchema = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    index: z.number().int().nonnegative(),
    id: z.string().nullable(),
    question: z.string(),
    answer: z.string(),
    notFound: z.boolean(),
    reranked: z.boolean(),
    /** Why reranking failed, when the question fell back to the fused order. */
    rerankError: z.string().optional(),
    citations: AnswerResultSchema.shape.citations,
    timingsMs: AnswerResultSchema.shape.timingsMs,
    /** Set when the context budget left passages out of the answer. */
    contextTruncated: ContextTruncationSchema.optional(),
    /** With `include.passages`: the passages the answer was given, by the number it cites them by. */
    passages: z.array(AnswerPassageSchema).optional(),
    /** With `include.candidates`: the fused candidates before reranking, in fused order. */
    preRerank: z.array(AnswerCandidateSchema).optional(),
  }),
  z.object({
    ok: z.literal(false),
    index: z.number().int().nonnegative(),
    id: z.string().nullable(),
    question: z.string(),
    error: z.string(),
  }),
]);
export type BatchItem = z.infer<typeof BatchItemSchema>;

export const BatchReportSchema = z.object({
  v: z.literal(1),
  batchId: z.string(),
  tenant: TenantSchema,
  name: z.string().nullable(),
  total: z.number().int(),
  answered: z.number().int(),
  failed: z.number().int(),
  /** One item per question, in question order. */
  items: z.array(BatchItemSchema),
});
export type BatchReport = z.infer<typeof BatchReportSchema>;

/** Child job ids are derived from the batch id so a report can be assembled in question order. */
export function batchChildId(batchId: string, index: number): string {
  return `${batchId}-q${index}`;
}

export function batchChildIndex(batchId: string, childJobId: string): number | null {
  const prefix = `${batchId}-q`;
  if (!childJobId.startsWith(prefix)) return null;
  const n = Number(childJobId.slice(prefix.length));
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
}
