/**
 * Eval payloads (versioned), shared by the producer SDK, the query worker, the gateway and the CLI.
 * An eval is a flow: a parent `eval` job on queue `eval` whose children are first the `ingest` jobs
 * of its corpus (when it brings one), then one `eval-query` job per question on queue `query`.
 */
import * as z from 'zod';
import { DocumentIdSchema, TenantSchema } from './common.js';
import {
  CandidatesSchema,
  ContextTokensSchema,
  IncludeSchema,
  QueryFilterSchema,
  QuestionSchema,
  TopNSchema,
} from './query.js';

export const MAX_EVAL_QUESTIONS = 10_000;
export const MAX_EVAL_DOCUMENTS = 20_000;
/** Characters of one corpus document (larger ones belong in an ingest job of their own). */
export const MAX_EVAL_DOCUMENT_CHARS = 1_000_000;

export const EvalOptionsSchema = z
  .object({
    /** Candidates retrieved per search and kept after fusion (1–100). Default: the worker's. */
    candidates: CandidatesSchema.optional(),
    /** Passages given to the answer (1–50). Default: the worker's. */
    topN: TopNSchema.optional(),
    /** Passages under this rerank score are not given to the answer (0–1). */
    minRerankScore: z.number().min(0).max(1).optional(),
    /** Token budget of the answer's passages (1–32,000). Default: the worker's (3,000). */
    contextTokens: ContextTokensSchema.optional(),
    /** Generate answers (a chat call per question) and measure them. Default true. */
    answers: z.boolean().optional(),
    /** What each question's row carries besides its figures (candidates: with the reranked order). */
    include: IncludeSchema.optional(),
  })
  .strict();
export type EvalOptions = z.infer<typeof EvalOptionsSchema>;

const EvalIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,100}$/, 'evalId must be 1-100 letters, digits, "_" or "-"');

export const EvalDocumentSchema = z
  .object({
    id: DocumentIdSchema,
    text: z.string().min(1, 'document text must not be empty').max(MAX_EVAL_DOCUMENT_CHARS),
    title: z.string().max(512).optional(),
  })
  .strict();

/** The eval's fields, without the checks across them (see {@link EvalInputSchema}). */
export const EvalInputObjectSchema = z
  .object({
    /** The tenant searched; its own (e.g. `eval-…`) to keep the eval apart from real documents. */
    tenant: TenantSchema,
    name: z.string().max(256).optional(),
    /** Documents ingested into the tenant before the questions run (BEIR corpus.jsonl). Omit to use what the tenant holds. */
    corpus: z.array(EvalDocumentSchema).max(MAX_EVAL_DOCUMENTS).optional(),
    queries: z
      .array(z.object({ id: z.string().min(1).max(256), text: QuestionSchema }).strict())
      .min(1, 'an eval needs at least one question')
      .max(MAX_EVAL_QUESTIONS),
    /** Relevance judgements by document id (BEIR qrels); a question without any is unanswerable. */
    qrels: z
      .array(
        z
          .object({
            queryId: z.string(),
            documentId: DocumentIdSchema,
            grade: z.number().int().min(0).max(100),
          })
          .strict(),
      )
      .max(MAX_EVAL_QUESTIONS * 100),
    /** Gold answer strings per question (answers.jsonl). */
    answers: z
      .array(
        z
          .object({ queryId: z.string(), answers: z.array(z.string().min(1).max(4000)).min(1).max(100) })
          .strict(),
      )
      .max(MAX_EVAL_QUESTIONS)
      .optional(),
    filter: QueryFilterSchema.optional(),
    options: EvalOptionsSchema.optional(),
    /** Delete the corpus documents from the tenant once the report is made. Default false. */
    cleanup: z.boolean().optional(),
  })
  .strict();

/** An eval as callers give it: ids unique, every qrel and answer naming a known question (and corpus document). */
export const EvalInputSchema = EvalInputObjectSchema.superRefine((input, ctx) => {
  const queryIds = new Set<string>();
  input.queries.forEach((q, i) => {
    if (queryIds.has(q.id))
      ctx.addIssue({
        code: 'custom',
        path: ['queries', i, 'id'],
        message: `duplicate query id ${JSON.stringify(q.id)}`,
      });
    queryIds.add(q.id);
  });
  const documentIds = input.corpus === undefined ? null : new Set<string>();
  input.corpus?.forEach((d, i) => {
    if (documentIds?.has(d.id))
      ctx.addIssue({
        code: 'custom',
        path: ['corpus', i, 'id'],
        message: `duplicate document id ${JSON.stringify(d.id)}`,
      });
    documentIds?.add(d.id);
  });
  input.qrels.forEach((r, i) => {
    if (!queryIds.has(r.queryId)) {
      ctx.addIssue({
        code: 'custom',
        path: ['qrels', i, 'queryId'],
        message: `no query has id ${JSON.stringify(r.queryId)}`,
      });
    }
    if (documentIds !== null && !documentIds.has(r.documentId)) {
      ctx.addIssue({
        code: 'custom',
        path: ['qrels', i, 'documentId'],
        message: `no corpus document has id ${JSON.stringify(r.documentId)}`,
      });
    }
  });
  input.answers?.forEach((a, i) => {
    if (!queryIds.has(a.queryId)) {
      ctx.addIssue({
        code: 'custom',
        path: ['answers', i, 'queryId'],
        message: `no query has id ${JSON.stringify(a.queryId)}`,
      });
    }
  });
});
export type EvalInput = z.infer<typeof EvalInputSchema>;

/** Where the parent job is: waiting for its corpus, adding its questions, or making the report. */
export const EvalStepSchema = z.enum(['ingest', 'report']);

export const EvalJobDataSchema = z
  .object({
    v: z.literal(1),
    evalId: EvalIdSchema,
    tenant: TenantSchema,
    name: z.string().max(256).optional(),
    filter: QueryFilterSchema.optional(),
    options: EvalOptionsSchema,
    cleanup: z.boolean(),
    /** Ids of the corpus documents the eval ingests (child `<evalId>-d<i>` is `documents[i]`). */
    documents: z.array(DocumentIdSchema).max(MAX_EVAL_DOCUMENTS),
    questions: z
      .array(
        z
          .object({
            id: z.string().nullable(),
            question: z.string(),
            relevant: z.array(z.object({ documentId: z.string(), grade: z.number().int() }).strict()),
            answers: z.array(z.string()).nullable(),
          })
          .strict(),
      )
      .min(1)
      .max(MAX_EVAL_QUESTIONS),
    /** Set by the worker; absent means `ingest`. */
    step: EvalStepSchema.optional(),
  })
  .strict();
export type EvalJobData = z.infer<typeof EvalJobDataSchema>;

export const EvalQueryJobDataSchema = z
  .object({
    v: z.literal(1),
    tenant: TenantSchema,
    question: QuestionSchema,
    filter: QueryFilterSchema.optional(),
    options: EvalOptionsSchema.omit({ include: true, answers: true }),
    answer: z.boolean(),
    eval: z.object({ id: EvalIdSchema, index: z.number().int().nonnegative() }).strict(),
  })
  .strict();
export type EvalQueryJobData = z.infer<typeof EvalQueryJobDataSchema>;

export function evalQuestionId(evalId: string, index: number): string {
  return `${evalId}-q${index}`;
}

export function evalDocumentJobId(evalId: string, index: number): string {
  return `${evalId}-d${index}`;
}

/** The question index of a child job id (`<evalId>-q<index>`), null for another job. */
export function evalQuestionIndex(evalId: string, childJobId: string): number | null {
  const prefix = `${evalId}-q`;
  if (!childJobId.startsWith(prefix)) return null;
  const n = Number(childJobId.slice(prefix.length));
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
}

export function evalDocumentIndex(evalId: string, childJobId: string): number | null {
  const prefix = `${evalId}-d`;
  if (!childJobId.startsWith(prefix)) return null;
  const n = Number(childJobId.slice(prefix.length));
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
}
