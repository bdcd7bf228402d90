/**
 * The producer SDK: what other services import to enqueue document jobs and follow them.
 */

import { randomUUID } from 'node:crypto';
import { type IngestSource, sourceShapeProblem } from '@quire/contracts';
import { FlowProducer, type Job, type JobsOptions, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  addBatchFlow,
  BATCH_GATE_QUEUE,
  DEFAULT_BATCH_CHUNK_SIZE,
  type EnqueueBatchOptions,
  isGateClosed,
} from './batch-flow.js';
import { blockingOptionsOf, connectRedis, type RedisConnection } from './connection.js';
import { nextDocumentSeq } from './document-order.js';
import { estimateEvalTokens } from './eval-estimate.js';
import { addEvalFlow } from './eval-flow.js';
import {
  type EvalInput,
  EvalInputSchema,
  type EvalJobData,
  EvalJobDataSchema,
  type EvalReport,
  EvalReportSchema,
} from './eval-schemas.js';
import { type DefaultJobOptionsOptions, defaultJobOptions } from './job-options.js';
import { DEFAULT_PREFIX, JOB_NAMES, type JobState, JobStateSchema, QUEUES, type QueueName } from './names.js';
import {
  type BatchInput,
  BatchInputSchema,
  type BatchJobPayload,
  BatchJobPayloadSchema,
  type BatchReport,
  BatchReportSchema,
  MAX_BATCH_QUESTIONS,
  type QueryJobInput,
  type QueryJobPayload,
  QueryJobPayloadSchema,
  type QueryResult,
  QueryResultSchema,
  queryOptionsVersion,
} from './query-schemas.js';
import {
  type DeleteJobData,
  DeleteJobDataSchema,
  type DeleteJobInput,
  describeZodError,
  IngestJobDataSchema,
  type IngestJobInput,
  type IngestJobPayload,
  IngestOcrSchema,
} from './schemas.js';
import { sealIngestJob } from './sealed-ingest.js';
import { SecretKeyError, SecretKeyring } from './secrets.js';

export class JobInputError extends Error {
  override name = 'JobInputError';
}

export class JobFailedError extends Error {
  override name = 'JobFailedError';
  constructor(
    readonly jobId: string,
    readonly reason: string,
  ) {
    super(`job ${jobId} failed: ${reason}`);
  }
}

/**
 * A job finished with a result that is not what its queue's contract says (written by another
 * client, or by a worker of another version); `reason` names the wrong fields.
 */
export class JobResultError extends Error {
  override name = 'JobResultError';
  constructor(
    readonly jobId: string,
    readonly reason: string,
  ) {
    super(`job ${jobId} finished with an invalid result: ${reason}`);
  }
}

export class JobTimeoutError extends Error {
  override name = 'JobTimeoutError';
  constructor(
    readonly jobId: string,
    readonly timeoutMs: number,
  ) {
    super(`job ${jobId} did not finish within ${timeoutMs} ms (it may still finish later)`);
  }
}

export interface JobStatus {
  id: string;
  queue: QueueName;
  name: string;
  state: JobState;
  tenant: string | null;
  progress: unknown;
  result: unknown;
  failedReason: string | null;
  attemptsMade: number;
  createdAt: number;
  processedAt: number | null;
  finishedAt: number | null;
}

export interface BatchStatus {
  batchId: string;
  tenant: string;
  name: string | null;
  state: JobState;
  total: number;
  answered: number;
  failed: number;
  /** Questions neither answered nor failed yet (including any not enqueued yet). */
  pending: number;
  /**
   * Whether every question is enqueued. False while `enqueueBatch` is still adding them, or after
   * it was cut short: the batch then waits (it never completes with part of its questions) until
   * `enqueueBatch` is called again with its id.
   */
  enqueued: boolean;
  failedReason: string | null;
  /** Present once the batch is complete. */
  report: BatchReport | null;
}

export interface EvalStatus {
  evalId: string;
  tenant: string;
  name: string | null;
  state: JobState;
  /** `ingest`: the corpus is being ingested; `report`: the questions are running (or the report is made). */
  step: 'ingest' | 'report';
  documents: number;
  questions: number;
  /** Corpus documents and questions finished so far (failed ones included). */
  documentsDone: number;
  questionsDone: number;
  /** Whether every corpus document is enqueued (see `EnqueueBatchOptions.batchId` for resuming). */
  enqueued: boolean;
  failedReason: string | null;
  /** Present once the eval is complete. */
  report: EvalReport | null;
}

/** Evals remembered per tenant for {@link Producer.listEvals}. */
export const EVAL_INDEX_SIZE = 1000;

/** The sorted set of a tenant's eval ids, scored by enqueue time. */
export function evalIndexKey(prefix: string, tenant: string): string {
  return `${prefix}:evals:${Buffer.from(tenant).toString('base64url')}`;
}

export interface EnqueueEvalOptions extends Omit<EnqueueBatchOptions, 'batchId'> {
  /** Your own eval id: 1–100 letters, digits, `_` or `-`; enqueueing again resumes one cut short. Default: a random UUID. */
  evalId?: string;
  /**
   * Refuse the eval when its token estimate (`estimateEvalTokens`) is above this. Set it whenever
   * the workers use a paid model API. Default: no cap.
   */
  maxTokens?: number;
}

export interface ProducerOptions {
  connection: RedisConnection;
  /** Key prefix of every queue. Default `{quire}`. */
  prefix?: string;
  /**
   * More checks of a source at enqueue time, beyond its shape (which is always checked): throw to
   * refuse the job, e.g. with the worker's roots, size limit and address policy. The worker checks
   * everything again with its own settings. Default: none.
   */
  checkSource?: (source: IngestSource) => void;
  /**
   * Keys that seal a job's secrets (a PDF password, a source URL with credentials or a query)
   * before it is enqueued: a keyring, or the text of `QUIRE_SECRET_KEYS` (`id:base64key,…`, the
   * first seals). The ingest workers need the same keys to open them. Default none: a job with
   * a secret is refused, since it would be stored in clear.
   */
  secretKeys?: SecretKeyring | string;
  jobOptions?: DefaultJobOptionsOptions;
  /**
   * Questions of a batch added to Redis per round trip. Bigger chunks enqueue a little faster but
   * keep Redis busy longer at a time (about 50 ms per 500 questions).
   * Default 500; an integer in 1..10,000.
   */
  batchChunkSize?: number;
}

export interface EnqueueOptions {
  /** Your own job id: enqueueing twice with one id gives one job. */
  jobId?: string;
  priority?: number;
}

export class Producer {
  readonly prefix: string;
  readonly #redis: Redis;
  readonly #ownsRedis: boolean;
  readonly #connection: RedisConnection;
  readonly #queues = new Map<QueueName, Queue>();
  readonly #events = new Map<QueueName, QueueEvents>();
  readonly #jobOptions: JobsOptions;
  readonly #checkSource: ((source: IngestSource) => void) | undefined;
  readonly #keyring: SecretKeyring | null;
  #flowProducer: FlowProducer | undefined;
  #gateQueue: Queue | undefined;
  readonly #batchChunkSize: number;

  constructor(options: ProducerOptions) {
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
    this.#connection = options.connection;
    // Given a URL or options, the producer waits for Redis while it reconnects, as a library user
    // expects; a service that must fail fast passes its own request-role client (the gateway does).
    this.#redis = connectRedis(options.connection, 'blocking');
    this.#ownsRedis = this.#redis !== options.connection;
    this.#jobOptions = defaultJobOptions(options.jobOptions);
    this.#checkSource = options.checkSource;
    this.#keyring =
      typeof options.secretKeys === 'string'
        ? SecretKeyring.fromSetting(options.secretKeys)
        : (options.secretKeys ?? null);
    this.#batchChunkSize = options.batchChunkSize ?? DEFAULT_BATCH_CHUNK_SIZE;
    if (
      !Number.isInteger(this.#batchChunkSize) ||
      this.#batchChunkSize < 1 ||
      this.#batchChunkSize > MAX_BATCH_QUESTIONS
    ) {
      throw new RangeError(
        `batchChunkSize must be an integer in 1..${MAX_BATCH_QUESTIONS}, got ${options.batchChunkSize}`,
      );
    }
  }

  queue(name: QueueName): Queue {
    let queue = this.#queues.get(name);
    if (!queue) {
      queue = new Queue(name, {
        connection: this.#redis,
        prefix: this.prefix,
        defaultJobOptions: this.#jobOptions,
      });
      // Every concurrent wait listens on the queue: many at once are expected, not a leak.
      queue.setMaxListeners(0);
      this.#queues.set(name, queue);
    }
    return queue;
  }

  /** Enqueues the ingestion of one document; a later job for the same document wins. */
  async enqueueIngest(input: IngestJobInput, options: EnqueueOptions = {}): Promise<{ jobId: string }> {
    const { force, ...fields } = input;
    if (force !== undefined && typeof force !== 'boolean') {
      throw new JobInputError('invalid ingest job: force: must be true or false');
    }
    const parsed = IngestJobDataSchema.extend({ ocr: IngestOcrSchema.optional() }).safeParse({
      ...fields,
      v: 1,
    });
    if (!parsed.success) throw new JobInputError(`invalid ingest job: ${describeZodError(parsed.error)}`);
    const problem = sourceShapeProblem(parsed.data.source);
    if (problem !== null) throw new JobInputError(`invalid ingest job: ${problem}`);
    this.#checkSource?.(parsed.data.source);
    // Sealed before anything touches Redis: a job refused here leaves no sequence number behind.
    let payload: IngestJobPayload;
    try {
      payload = sealIngestJob({ ...parsed.data, ...(force === true ? { force } : {}) }, this.#keyring);
    } catch (error) {
      if (error instanceof SecretKeyError) throw new JobInputError(`invalid ingest job: ${error.message}`);
      throw error;
    }
    const seq = await nextDocumentSeq(this.#redis, this.prefix, parsed.data.tenant, parsed.data.documentId);
    return this.#add(QUEUES.ingest, JOB_NAMES.ingest, { ...payload, seq }, options);
  }

  /** Enqueues the deletion of a document's chunks; ordered with the document's ingest jobs. */
  async enqueueDelete(input: DeleteJobInput, options: EnqueueOptions = {}): Promise<{ jobId: string }> {
    const parsed = DeleteJobDataSchema.safeParse({ ...input, v: 1 });
    if (!parsed.success) throw new JobInputError(`invalid delete job: ${describeZodError(parsed.error)}`);
    const seq = await nextDocumentSeq(this.#redis, this.prefix, parsed.data.tenant, parsed.data.documentId);
    const data: DeleteJobData = { ...parsed.data, seq };
    return this.#add(QUEUES.ingest, JOB_NAMES.delete, data, options);
  }

  /** Enqueues one question. */
  async enqueueQuery(input: QueryJobInput, options: EnqueueOptions = {}): Promise<{ jobId: string }> {
    return { jobId: (await this.#enqueueQuery(input, options)).id };
  }

  /** Enqueues one question and waits for its answer. */
  async ask(
    input: QueryJobInput,
    options: EnqueueOptions & { timeoutMs?: number } = {},
  ): Promise<QueryResult> {
    const job = await this.#enqueueQuery(input, options);
    // The job just added is waited on as it is: reading it back would cost a round trip to Redis.
    const result = await this.#waitFor(QUEUES.query, job.job, options.timeoutMs ?? 60_000);
    return checkedResult(job.id, QueryResultSchema, result);
  }

  async #enqueueQuery(input: QueryJobInput, options: EnqueueOptions) {
    // The oldest version that carries the request, so that older workers still take it.
    const parsed = QueryJobPayloadSchema.safeParse({ ...input, v: queryOptionsVersion(input.options) });
    if (!parsed.success) throw new JobInputError(`invalid query job: ${describeZodError(parsed.error)}`);
    return this.#addJob(QUEUES.query, JOB_NAMES.query, parsed.data, options);
  }

  /**
   * Enqueues a batch: one parent job in `batch` and one `query` child per question (a BullMQ flow),
   * added in chunks behind a gate so that a batch cut short never completes with part of its
   * questions (see `batch-flow.ts`). A failing question does not fail the batch; the report lists
   * it with its reason. Enqueueing again with the id of a batch cut short finishes enqueueing it.
   */
  async enqueueBatch(input: BatchInput, options: EnqueueBatchOptions = {}): Promise<{ batchId: string }> {
    const parsed = BatchInputSchema.safeParse(input);
    if (!parsed.success) throw new JobInputError(`invalid batch: ${describeZodError(parsed.error)}`);
    const batchId = options.batchId ?? randomUUID();
    if (!/^[A-Za-z0-9_-]{1,100}$/.test(batchId)) {
      throw new JobInputError('invalid batch: batchId must be 1-100 letters, digits, "_" or "-"');
    }
    const { tenant, filter, options: queryOptions, questions, name } = parsed.data;
    const v = queryOptionsVersion(queryOptions);
    const data = {
      v,
      batchId,
      tenant,
      ...(name ? { name } : {}),
      ...(filter ? { filter } : {}),
      ...(queryOptions ? { options: queryOptions } : {}),
      questions: questions.map((q) => ({ id: q.id ?? null, question: q.question })),
    } as BatchJobPayload;
    const children = questions.map(
      (q, index) =>
        ({
          v,
          tenant,
          question: q.question,
          ...(filter ? { filter } : {}),
          ...(queryOptions ? { options: queryOptions } : {}),
          batch: { id: batchId, index },
        }) as QueryJobPayload,
    );
    const outcome = await addBatchFlow(
      {
        redis: this.#redis,
        batch: this.queue(QUEUES.batch),
        query: this.queue(QUEUES.query),
        gate: this.#gates(),
        flows: this.#flows(),
        jobOptions: this.#jobOptions,
        chunkSize: this.#batchChunkSize,
      },
      data,
      children,
      {
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      },
    );
    if (outcome === 'conflict') {
      throw new JobInputError(
        `invalid batch: batch ${batchId} already exists with other questions or settings`,
      );
    }
    return { batchId };
  }

  /** A batch's state and counts; the report once it is complete. */
  async getBatch(batchId: string): Promise<BatchStatus | null> {
    // State first, then the job: a batch that finishes in between is read with its report.
    const state = jobState(await this.queue(QUEUES.batch).getJobState(batchId));
    const job = await this.queue(QUEUES.batch).getJob(batchId);
    if (!job) return null;
    const stored = BatchJobPayloadSchema.safeParse(job.data);
    if (!stored.success)
      throw new Error(`batch ${batchId} has invalid data: ${describeZodError(stored.error)}`);
    const data = stored.data;
    const [counts, gateClosed] = await Promise.all([
      job.getDependenciesCount({ processed: true, ignored: true, failed: true }),
      isGateClosed(this.#gates(), batchId),
    ]);
    const total = data.questions.length;
    const parsed = state === 'completed' ? BatchReportSchema.safeParse(job.returnvalue) : undefined;
    if (parsed && !parsed.success) {
      throw new Error(`batch ${batchId} has an invalid report: ${describeZodError(parsed.error)}`);
    }
    const report = parsed?.data ?? null;
    // Counted from the parent's dependencies: children report there as they finish.
    const answered = report ? report.answered : (counts.processed ?? 0);
    const failed = report ? report.failed : (counts.ignored ?? 0) + (counts.failed ?? 0);
    return {
      batchId,
      tenant: data.tenant,
      name: data.name ?? null,
      state,
      total,
      answered,
      failed,
      pending: Math.max(0, total - answered - failed),
      enqueued: !gateClosed,
      failedReason: job.failedReason ?? null,
      report,
    };
  }

  /** Waits until the batch report is ready. */
  async waitForBatch(batchId: string, options: { timeoutMs?: number } = {}): Promise<BatchReport> {
    const report = await this.waitForJob(QUEUES.batch, batchId, { timeoutMs: options.timeoutMs ?? 600_000 });
    return checkedResult(batchId, BatchReportSchema, report);
  }

  /**
   * Enqueues an eval: the corpus (if any) is ingested into the tenant, then every question runs
   * through each retrieval stage (and the answerer), and the parent job's result is the report.
   * Runs on the workers like a batch; see `eval-flow.ts`.
   */
  async enqueueEval(input: EvalInput, options: EnqueueEvalOptions = {}): Promise<{ evalId: string }> {
    const parsed = EvalInputSchema.safeParse(input);
    if (!parsed.success) throw new JobInputError(`invalid eval: ${describeZodError(parsed.error)}`);
    const evalId = options.evalId ?? randomUUID();
    if (!/^[A-Za-z0-9_-]{1,100}$/.test(evalId)) {
      throw new JobInputError('invalid eval: evalId must be 1-100 letters, digits, "_" or "-"');
    }
    const { tenant, name, corpus, queries, qrels, answers, filter, cleanup } = parsed.data;
    if (options.maxTokens !== undefined) {
      const estimate = estimateEvalTokens(parsed.data);
      if (estimate.total > options.maxTokens) {
        throw new JobInputError(
          `invalid eval: its token estimate (${estimate.total}) is above maxTokens (${options.maxTokens})`,
        );
      }
    }
    const gold = new Map((answers ?? []).map((a) => [a.queryId, a.answers]));
    const data: EvalJobData = {
      v: 1,
      evalId,
      tenant,
      ...(name ? { name } : {}),
      ...(filter ? { filter } : {}),
      options: parsed.data.options ?? {},
      cleanup: cleanup ?? false,
      documents: (corpus ?? []).map((d) => d.id),
      questions: queries.map((q) => ({
        id: q.id,
        question: q.text,
        relevant: qrels
          .filter((r) => r.queryId === q.id && r.grade > 0)
          .map((r) => ({ documentId: r.documentId, grade: r.grade })),
        answers: gold.get(q.id) ?? null,
      })),
    };
    const outcome = await addEvalFlow(
      {
        redis: this.#redis,
        prefix: this.prefix,
        evals: this.queue(QUEUES.eval),
        ingest: this.queue(QUEUES.ingest),
        gate: this.#gates(),
        flows: this.#flows(),
        jobOptions: this.#jobOptions,
        chunkSize: this.#batchChunkSize,
      },
      data,
      (corpus ?? []).map((d) => ({
        v: 1,
        tenant,
        documentId: d.id,
        source: { kind: 'text', text: d.text, name: 'passage.txt' },
        sourceName: d.title ? `${d.title} (${d.id})` : d.id,
      })),
      {
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      },
    );
    if (outcome === 'conflict') {
      throw new JobInputError(`invalid eval: eval ${evalId} already exists with other questions or settings`);
    }
    // The tenant's evals by enqueue time, newest kept, so that they can be listed without reading
    // every tenant's jobs.
    const index = evalIndexKey(this.prefix, tenant);
    await this.#redis
      .multi()
      .zadd(index, 'NX', Date.now(), evalId)
      .zremrangebyrank(index, 0, -(EVAL_INDEX_SIZE + 1))
      .exec();
    return { evalId };
  }

  /**
   * A tenant's evals, newest first, with their state and progress but without their reports (read
   * one with {@link getEval}). Evals removed by job retention are left out.
   */
  async listEvals(tenant: string, options: { limit?: number } = {}): Promise<Omit<EvalStatus, 'report'>[]> {
    const limit = options.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > EVAL_INDEX_SIZE) {
      throw new JobInputError(`limit must be an integer in 1..${EVAL_INDEX_SIZE}, got ${limit}`);
    }
    const index = evalIndexKey(this.prefix, tenant);
    const ids = await this.#redis.zrevrange(index, 0, limit - 1);
    const statuses = await Promise.all(ids.map((id) => this.getEval(id)));
    const gone = ids.filter((_, i) => statuses[i] === null);
    if (gone.length > 0) await this.#redis.zrem(index, ...gone);
    return statuses
      .filter((status): status is EvalStatus => status !== null && status.tenant === tenant)
      .map(({ report: _report, ...status }) => status);
  }

  /** An eval's state and progress; the report once it is complete. */
  async getEval(evalId: string): Promise<EvalStatus | null> {
    const queue = this.queue(QUEUES.eval);
    const state = (await queue.getJobState(evalId)) as JobState;
    const job = await queue.getJob(evalId);
    if (!job) return null;
    const stored = EvalJobDataSchema.safeParse(job.data);
    if (!stored.success)
      throw new Error(`eval ${evalId} has invalid data: ${describeZodError(stored.error)}`);
    const data = stored.data;
    const [counts, gateClosed] = await Promise.all([
      job.getDependenciesCount({ processed: true, ignored: true, failed: true }),
      isGateClosed(this.#gates(), evalId),
    ]);
    const parsed = state === 'completed' ? EvalReportSchema.safeParse(job.returnvalue) : undefined;
    if (parsed && !parsed.success) {
      throw new Error(`eval ${evalId} has an invalid report: ${describeZodError(parsed.error)}`);
    }
    const step = data.step ?? 'ingest';
    // Children report to the parent as they finish: the corpus first, then the questions.
    const done = (counts.processed ?? 0) + (counts.ignored ?? 0) + (counts.failed ?? 0);
    const documentsDone = step === 'ingest' ? Math.min(done, data.documents.length) : data.documents.length;
    const questionsDone = parsed?.success
      ? data.questions.length
      : step === 'report'
        ? Math.max(0, Math.min(data.questions.length, done - data.documents.length))
        : 0;
    return {
      evalId,
      tenant: data.tenant,
      name: data.name ?? null,
      state,
      step,
      documents: data.documents.length,
      questions: data.questions.length,
      documentsDone,
      questionsDone,
      enqueued: !gateClosed,
      failedReason: job.failedReason ?? null,
      report: parsed?.data ?? null,
    };
  }

  /** Waits until the eval report is ready. */
  async waitForEval(evalId: string, options: { timeoutMs?: number } = {}): Promise<EvalReport> {
    return EvalReportSchema.parse(
      await this.waitForJob(QUEUES.eval, evalId, { timeoutMs: options.timeoutMs ?? 3_600_000 }),
    );
  }

  #flows(): FlowProducer {
    this.#flowProducer ??= new FlowProducer({ connection: this.#redis, prefix: this.prefix });
    return this.#flowProducer;
  }

  #gates(): Queue {
    this.#gateQueue ??= new Queue(BATCH_GATE_QUEUE, { connection: this.#redis, prefix: this.prefix });
    return this.#gateQueue;
  }

  async #add(queue: QueueName, name: string, data: object, options: EnqueueOptions) {
    return { jobId: (await this.#addJob(queue, name, data, options)).id };
  }

  async #addJob(queue: QueueName, name: string, data: object, options: EnqueueOptions) {
    const job = await this.queue(queue).add(name, data, {
      ...(options.jobId ? { jobId: options.jobId } : {}),
      ...(options.priority ? { priority: options.priority } : {}),
    });
    if (!job.id) throw new Error(`queue ${queue} returned a job without an id`);
    return { job, id: job.id };
  }

  async getJob(queue: QueueName, jobId: string): Promise<JobStatus | null> {
    // State first, then the job: a job that finishes in between is read with its result.
    const state = await this.queue(queue).getJobState(jobId);
    const job = await this.queue(queue).getJob(jobId);
    if (!job) return null;
    return toStatus(queue, job, state);
  }

  /**
   * Waits until the job completes and returns its result; throws JobFailedError when it fails
   * for good, JobTimeoutError after `timeoutMs` (the job itself keeps going).
   */
  async waitForJob(queue: QueueName, jobId: string, options: { timeoutMs?: number } = {}): Promise<unknown> {
    const job = await this.queue(queue).getJob(jobId);
    if (!job) throw new JobFailedError(jobId, 'no such job (it may have been removed by retention)');
    return this.#waitFor(queue, job, options.timeoutMs ?? 120_000);
  }

  async #waitFor(queue: QueueName, job: Job, timeoutMs: number): Promise<unknown> {
    const jobId = job.id!;
    const events = await this.#queueEvents(queue);
    // Events are fast but not airtight (a job finishing while the event reader starts can be
    // missed), so a slow poll of the job's state backs them up.
    const stop = new AbortController();
    try {
      return await Promise.race([
        job.waitUntilFinished(events, timeoutMs),
        this.#pollUntilFinished(queue, jobId, stop.signal),
      ]);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (/timed out before finishing/i.test(message)) throw new JobTimeoutError(jobId, timeoutMs);
      throw new JobFailedError(jobId, message);
    } finally {
      stop.abort();
    }
  }

  async #pollUntilFinished(queue: QueueName, jobId: string, signal: AbortSignal): Promise<unknown> {
    for (;;) {
      await new Promise<void>((resolve) => {
        const onAbort = () => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        }, 1_000);
        signal.addEventListener('abort', onAbort, { once: true });
      });
      if (signal.aborted) return new Promise<never>(() => {});
      const status = await this.getJob(queue, jobId).catch(() => undefined);
      if (status?.state === 'completed') return status.result;
      if (status?.state === 'failed') throw new Error(status.failedReason ?? 'failed');
    }
  }

  async #queueEvents(queue: QueueName): Promise<QueueEvents> {
    let events = this.#events.get(queue);
    if (!events) {
      // A blocking connection must retry forever (BullMQ refuses one that does not), even when the
      // producer was given a fail-fast client for its own commands.
      // Options, not a client: QueueEvents duplicates a client it is given and closes only its copy,
      // which would leave ours connected (and reconnecting) after close().
      // No command timeout either: the reader's XREAD blocks longer than any sensible one.
      const connection = blockingOptionsOf(this.#redis);
      events = new QueueEvents(queue, { connection, prefix: this.prefix });
      events.setMaxListeners(0);
      this.#events.set(queue, events);
      await events.waitUntilReady();
    }
    return events;
  }

  /** The Redis client this producer uses (for health checks). */
  get redis(): Redis {
    return this.#redis;
  }

  get connection(): RedisConnection {
    return this.#connection;
  }

  async close(): Promise<void> {
    await Promise.all(
      [...this.#events.values()].map(async (e) => {
        const conn = await e.client;
        await e.close();
        conn.disconnect();
      }),
    );
    await Promise.all([...this.#queues.values()].map((q) => q.close()));
    await this.#flowProducer?.close();
    await this.#gateQueue?.close();
    if (this.#ownsRedis) await this.#redis.quit().catch(() => this.#redis.disconnect());
  }
}

/** BullMQ's name of a job's state as one of the contract's; anything else is `unknown`. */
function jobState(state: string): JobState {
  const parsed = JobStateSchema.safeParse(state);
  return parsed.success ? parsed.data : 'unknown';
}

type ZodErrorLike = Parameters<typeof describeZodError>[0];

/** A result read back from Redis, checked like any other input. */
function checkedResult<T>(
  jobId: string,
  schema: {
    safeParse(value: unknown): { success: true; data: T } | { success: false; error: ZodErrorLike };
  },
  value: unknown,
): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new JobResultError(jobId, describeZodError(parsed.error));
  return parsed.data;
}

function toStatus(queue: QueueName, job: Job, state: string): JobStatus {
  const data = job.data as { tenant?: unknown } | undefined;
  return {
    id: job.id ?? '',
    queue,
    name: job.name,
    state: jobState(state),
    tenant: typeof data?.tenant === 'string' ? data.tenant : null,
    progress: job.progress ?? null,
    result: job.returnvalue ?? null,
    failedReason: job.failedReason ?? null,
    attemptsMade: job.attemptsMade,
    createdAt: job.timestamp,
    processedAt: job.processedOn ?? null,
    finishedAt: job.finishedOn ?? null,
  };
}
