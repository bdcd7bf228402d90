/**
 * Query and batch payloads and results (versioned), shared by the producer SDK, the query worker
 * and the gateway.
 */
import { z } from 'zod';
import { AnswerResultSchema } from './answer.js';
import { DocumentIdSchema, MetadataSchema, TenantSchema } from './common.js';
import { payloadVersion } from './version.js';

export const QueryFilterSchema = z
  .object({
    documentIds: z.array(DocumentIdSchema).max(1000).optional(),
    metadata: MetadataSchema.optional(),
    sourceNames: z.array(z.string().min(1).max(512)).max(1000).optional(),
  })
  .strict();
export type QueryFilter = z.infer<typeof QueryFilterSchema>;

export const QueryOptionsSchema = z
  .object({
    /** Candidates retrieved before reranking (1–100). */
    candidates: z.number().int().min(1).max(100).optional(),
    /** Passages kept after reranking (1–20). */
    topN: z.number().int().min(1).max(20).optional(),
    /** Passages scoring below this after reranking are dropped (0–1). */
    minRerankScore: z.number().min(0).max(1).optional(),
    /** When reranking fails: fail the job (default) or answer from the fused retrieval order. */
    rerankFallback: z.enum(['fail', 'fused']).optional(),
  })
  .strict();
export type QueryOptions = z.infer<typeof QueryOptionsSchema>;

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
export type QueryJobInput = Omit<QueryJobData, 'v' | 'batch'>;

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
    options: QueryOptionsSchema.optional(),
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
