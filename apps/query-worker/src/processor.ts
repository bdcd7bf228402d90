/**
 * Query and batch processors: plain functions with their services passed in.
 *
 * query: one question → retrieve candidates inside the tenant → rerank → answer with citations.
 * batch: the parent of a BullMQ flow whose children are `query` jobs; it runs once every child has
 * finished (children that failed are ignored by the flow, not fatal) and gathers their results
 * and failures into one report, in question order.
 */
import type { ModelApi } from '@quire/api-client';
import { answerQuestion, type VectorStore } from '@quire/core';
import {
  type BatchItem,
  BatchJobPayloadSchema,
  type BatchReport,
  batchChildIndex,
  describeZodError,
  JOB_NAMES,
  QueryJobPayloadSchema,
  type QueryResult,
  QueryResultSchema,
  upgradeBatchJob,
  upgradeQueryJob,
} from '@quire/jobs';
import type { Metrics } from '@quire/runtime';
import { type Job, UnrecoverableError } from 'bullmq';
import type { Logger } from 'pino';

export interface QueryDeps {
  store: VectorStore;
  models: ModelApi;
  modelNames: { embedding: string; rerank: string; chat: string };
  defaults: { candidates: number; topN: number; minRerankScore: number | undefined; contextTokens: number };
  maxRerankDocuments: number;
  logger: Logger;
  metrics: Metrics;
}

export function createQueryProcessor(deps: QueryDeps) {
  return async function processQueryJob(
    job: Job,
    _token?: string,
    signal?: AbortSignal,
  ): Promise<QueryResult> {
    if (job.name !== JOB_NAMES.query) {
      throw new UnrecoverableError(`unknown job name ${JSON.stringify(job.name)} on the query queue`);
    }
    const parsed = QueryJobPayloadSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid query job: ${describeZodError(parsed.error)}`);
    const data = upgradeQueryJob(parsed.data);
    const logger = deps.logger.child({ jobId: job.id, queue: 'query', tenant: data.tenant });
    const options = data.options ?? {};
    const result = await answerQuestion(
      { store: deps.store, models: deps.models, modelNames: deps.modelNames, logger },
      {
        tenant: data.tenant,
        question: data.question,
        ...(data.filter ? { filter: data.filter } : {}),
        candidates: options.candidates ?? deps.defaults.candidates,
        topN: options.topN ?? deps.defaults.topN,
        ...((options.minRerankScore ?? deps.defaults.minRerankScore) !== undefined
          ? { minScore: options.minRerankScore ?? deps.defaults.minRerankScore }
          : {}),
        rerankFallback: options.rerankFallback ?? 'fail',
        maxRerankDocumentsPerRequest: deps.maxRerankDocuments,
        contextTokens: options.contextTokens ?? deps.defaults.contextTokens,
        includeCandidates: options.include?.candidates === true,
        ...(signal ? { signal } : {}),
      },
    );
    for (const [stage, ms] of Object.entries(result.timingsMs)) {
      if (stage !== 'total') deps.metrics.stageDuration('query', stage, ms / 1000);
    }
    return { ...result, v: 1, tenant: data.tenant, question: data.question };
  };
}

/** What the batch processor reads of its job (a BullMQ `Job`): the parent of a flow. */
export interface BatchParentJob {
  id?: string | undefined;
  name: string;
  data: unknown;
  /** Results of the children that completed, by child job key. */
  getChildrenValues(): Promise<Record<string, unknown>>;
  /** Reasons of the children that failed for good, by child job key. */
  getIgnoredChildrenFailures(): Promise<Record<string, string>>;
}

/** Gathers a finished batch's children into its report. */
export function createBatchProcessor(deps: { logger: Logger }) {
  return async function processBatchJob(job: BatchParentJob): Promise<BatchReport> {
    if (job.name !== JOB_NAMES.batch) {
      throw new UnrecoverableError(`unknown job name ${JSON.stringify(job.name)} on the batch queue`);
    }
    const parsed = BatchJobPayloadSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid batch job: ${describeZodError(parsed.error)}`);
    const data = upgradeBatchJob(parsed.data);
    const include = data.options?.include ?? {};
    const [values, failures] = await Promise.all([job.getChildrenValues(), job.getIgnoredChildrenFailures()]);
    const items: (BatchItem | undefined)[] = new Array(data.questions.length);
    const indexOf = (key: string) => batchChildIndex(data.batchId, key.slice(key.lastIndexOf(':') + 1));

    for (const [key, value] of Object.entries(values)) {
      const index = indexOf(key);
      const question = index === null ? undefined : data.questions[index];
      if (index === null || !question) continue;
      // Written by whatever answered the child: checked like any other input.
      const parsedResult = QueryResultSchema.safeParse(value);
      if (!parsedResult.success) {
        items[index] = {
          ok: false,
          index,
          id: question.id,
          question: question.question,
          error: `the answer recorded for this question is invalid: ${describeZodError(parsedResult.error)}`,
        };
        continue;
      }
      const result = parsedResult.data;
      items[index] = {
        ok: true,
        index,
        id: question.id,
        question: question.question,
        answer: result.answer,
        notFound: result.notFound,
        reranked: result.reranked,
        ...(result.rerankError === undefined ? {} : { rerankError: result.rerankError }),
        citations: result.citations,
        timingsMs: result.timingsMs,
        ...(result.contextTruncated === undefined ? {} : { contextTruncated: result.contextTruncated }),
        ...(include.passages === true ? { passages: result.passages } : {}),
        ...(include.candidates === true && result.preRerank !== undefined
          ? { preRerank: result.preRerank }
          : {}),
      };
    }
    for (const [key, reason] of Object.entries(failures)) {
      const index = indexOf(key);
      const question = index === null ? undefined : data.questions[index];
      if (index === null || !question) continue;
      items[index] = {
        ok: false,
        index,
        id: question.id,
        question: question.question,
        error: String(reason),
      };
    }
    // A child removed before the parent ran (e.g. by hand) still gets a line in the report.
    const complete = data.questions.map(
      (q, index): BatchItem =>
        items[index] ?? {
          ok: false,
          index,
          id: q.id,
          question: q.question,
          error: 'no result was recorded for this question',
        },
    );
    const answered = complete.filter((i) => i.ok).length;
    deps.logger.info(
      { jobId: job.id, batchId: data.batchId, total: complete.length, answered },
      'batch report ready',
    );
    return {
      v: 1,
      batchId: data.batchId,
      tenant: data.tenant,
      name: data.name ?? null,
      total: complete.length,
      answered,
      failed: complete.length - answered,
      items: complete,
    };
  };
}
