import {
  type BuildEvalReportInput,
  buildEvalReport,
  DEFAULT_CONTEXT_TOKENS,
  type EvalOutcome,
  EvalQuestionResultSchema,
  type EvalReport,
  evaluateQuestion,
  type VectorStore,
} from '@quire/core';
import {
  describeZodError,
  type EvalJobData,
  EvalJobDataSchema,
  EvalQueryJobDataSchema,
  evalDocumentIndex,
  evalQuestionId,
  evalQuestionIndex,
  JOB_NAMES,
} from '@quire/jobs';
import { type Job, type JobsOptions, type Queue, UnrecoverableError, WaitingChildrenError } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { QueryDeps } from './processor.js';

export function createEvalQueryProcessor(deps: QueryDeps) {
  return async function processEvalQueryJob(job: Job, _token?: string, signal?: AbortSignal) {
    const parsed = EvalQueryJobDataSchema.safeParse(job.data);
    if (!parsed.success)
      throw new UnrecoverableError(`invalid eval question: ${describeZodError(parsed.error)}`);
    const data = parsed.data;
    const minScore = data.options.minRerankScore ?? deps.defaults.minRerankScore;
    const result = await evaluateQuestion(
      { store: deps.store, models: deps.models, modelNames: deps.modelNames },
      {
        tenant: data.tenant,
        question: data.question,
        ...(data.filter ? { filter: data.filter } : {}),
        candidates: data.options.candidates ?? deps.defaults.candidates,
        topN: data.options.topN ?? deps.defaults.topN,
        ...(minScore === undefined ? {} : { minScore }),
        contextTokens: data.options.contextTokens ?? deps.defaults.contextTokens,
        answer: data.answer,
        ...(signal ? { signal } : {}),
      },
    );
    for (const [stage, ms] of Object.entries(result.timingsMs)) {
      deps.metrics.stageDuration('eval', stage, ms / 1000);
    }
    return result;
  };
}

/** What the eval processor reads of and does to its job (a BullMQ `Job`). */
export interface EvalParentJob {
  id?: string | undefined;
  name: string;
  data: unknown;
  getChildrenValues(): Promise<Record<string, unknown>>;
  getIgnoredChildrenFailures(): Promise<Record<string, string>>;
  updateData(data: EvalJobData): Promise<void>;
  updateProgress(progress: object): Promise<void>;
  moveToWaitingChildren(token: string): Promise<boolean>;
  /** The parent reference its children are added with. */
  readonly queueQualifiedName: string;
}

export interface EvalDeps {
  store: VectorStore;
  /** Where eval-query children go: the `query` queue. */
  queryQueue: Queue;
  /** The connection of `queryQueue`, to check which questions exist. */
  redis: Redis;
  jobOptions: JobsOptions;
  defaults: { candidates: number; topN: number; contextTokens: number };
  logger: Logger;
  /** Questions added per round trip. @default 500 */
  chunkSize?: number;
}

export function createEvalProcessor(deps: EvalDeps) {
  const chunkSize = deps.chunkSize ?? 500;
  return async function processEvalJob(job: EvalParentJob, token: string): Promise<EvalReport> {
    if (job.name !== JOB_NAMES.eval) {
      throw new UnrecoverableError(`unknown job name ${JSON.stringify(job.name)} on the eval queue`);
    }
    const parsed = EvalJobDataSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid eval job: ${describeZodError(parsed.error)}`);
    const data = parsed.data;
    const logger = deps.logger.child({
      jobId: job.id,
      queue: 'eval',
      tenant: data.tenant,
      evalId: data.evalId,
    });

    if ((data.step ?? 'ingest') === 'ingest') {
      await job.updateProgress({ stage: 'questions' });
      await addQuestions(deps, job, data, chunkSize);
      await job.updateData({ ...data, step: 'report' });
      logger.info({ questions: data.questions.length }, 'eval questions enqueued');
      // False when every question has finished already: the report is made now.
      if (await job.moveToWaitingChildren(token)) throw new WaitingChildrenError();
    }

    await job.updateProgress({ stage: 'report' });
    const [values, failures] = await Promise.all([job.getChildrenValues(), job.getIgnoredChildrenFailures()]);
    const outcomes: (EvalOutcome | undefined)[] = new Array(data.questions.length);
    const failedDocuments: { documentId: string; error: string }[] = [];
    const childId = (key: string) => key.slice(key.lastIndexOf(':') + 1);
    for (const [key, value] of Object.entries(values)) {
      const index = evalQuestionIndex(data.evalId, childId(key));
      if (index === null || index >= data.questions.length) continue;
      const result = EvalQuestionResultSchema.safeParse(value);
      outcomes[index] = result.success
        ? { ok: true, result: result.data }
        : {
            ok: false,
            error: `the result recorded for this question is invalid: ${describeZodError(result.error)}`,
          };
    }
    for (const [key, reason] of Object.entries(failures)) {
      const id = childId(key);
      const question = evalQuestionIndex(data.evalId, id);
      if (question !== null && question < data.questions.length) {
        outcomes[question] = { ok: false, error: String(reason) };
        continue;
      }
      const document = evalDocumentIndex(data.evalId, id);
      const documentId = document === null ? undefined : data.documents[document];
      if (documentId !== undefined) failedDocuments.push({ documentId, error: String(reason) });
    }

    let cleanedUp = false;
    if (data.cleanup && data.documents.length > 0) {
      for (const documentId of data.documents) await deps.store.deleteDocument(data.tenant, documentId);
      cleanedUp = true;
      logger.info({ documents: data.documents.length }, 'eval corpus deleted');
    }
    const input: BuildEvalReportInput = {
      evalId: data.evalId,
      tenant: data.tenant,
      name: data.name ?? null,
      settings: {
        candidates: data.options.candidates ?? deps.defaults.candidates,
        topN: data.options.topN ?? deps.defaults.topN,
        answers: data.options.answers ?? true,
        contextTokens: data.options.contextTokens ?? deps.defaults.contextTokens ?? DEFAULT_CONTEXT_TOKENS,
      },
      documents: {
        ingested: data.documents.length - failedDocuments.length,
        failed: failedDocuments.sort((a, b) => (a.documentId < b.documentId ? -1 : 1)),
        cleanedUp,
      },
      questions: data.questions,
      outcomes,
      include: data.options.include ?? {},
    };
    const report = buildEvalReport(input);
    logger.info({ total: report.total, evaluated: report.evaluated }, 'eval report ready');
    return report;
  };
}

/** Adds the questions not added yet, in chunks, as children of the eval. */
async function addQuestions(deps: EvalDeps, job: EvalParentJob, data: EvalJobData, chunkSize: number) {
  const parent = { id: data.evalId, queue: job.queueQualifiedName };
  const answer = data.options.answers ?? true;
  const { include: _include, answers: _answers, ...options } = data.options;
  for (let start = 0; start < data.questions.length; start += chunkSize) {
    const chunk = data.questions.slice(start, start + chunkSize).map((q, i) => ({
      name: JOB_NAMES.evalQuery,
      data: {
        v: 1 as const,
        tenant: data.tenant,
        question: q.question,
        ...(data.filter ? { filter: data.filter } : {}),
        options,
        answer,
        eval: { id: data.evalId, index: start + i },
      },
      opts: {
        ...deps.jobOptions,
        jobId: evalQuestionId(data.evalId, start + i),
        parent,
        ignoreDependencyOnFailure: true,
      },
    }));
    // A question added by an earlier try is left alone (adding it again would make the eval wait
    // for it a second time when it has failed).
    const exists = await Promise.all(
      chunk.map((c) => deps.redis.exists(deps.queryQueue.toKey(c.opts.jobId))),
    );
    const missing = chunk.filter((_, i) => exists[i] === 0);
    if (missing.length > 0) await deps.queryQueue.addBulk(missing);
  }
}
