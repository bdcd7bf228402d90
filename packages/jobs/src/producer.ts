/**
 * The producer SDK: what other services import to enqueue document jobs and follow them.
 */
import { checkSourceShape, type SourceOptions } from '@quire/core';
import { randomUUID } from 'node:crypto';
import { FlowProducer, type Job, type JobsOptions, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { openRedis, type RedisConnection } from './connection.js';
import { nextDocumentSeq } from './document-order.js';
import { type DefaultJobOptionsOptions, defaultJobOptions } from './job-options.js';
import { DEFAULT_PREFIX, JOB_NAMES, QUEUES, type QueueName } from './names.js';
import {
  type DeleteJobData,
  DeleteJobDataSchema,
  type DeleteJobInput,
  describeZodError,
  type IngestJobData,
  IngestJobDataSchema,
  type IngestJobInput,
} from './schemas.js';
import {
  type BatchInput,
  BatchInputSchema,
  type BatchJobData,
  type BatchReport,
  batchChildId,
  type QueryJobData,
  QueryJobDataSchema,
  type QueryJobInput,
  type QueryResult,
} from './query-schemas.js';

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

export class JobTimeoutError extends Error {
  override name = 'JobTimeoutError';
  constructor(
    readonly jobId: string,
    readonly timeoutMs: number,
  ) {
    super(`job ${jobId} did not finish within ${timeoutMs} ms (it may still finish later)`);
  }
}

export type JobState =
  | 'waiting'
  | 'active'
  | 'completed'
  | 'failed'
  | 'delayed'
  | 'prioritized'
  | 'waiting-children'
  | 'unknown';

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
  pending: number;
  failedReason: string | null;
  /** Present once the batch is complete. */
  report: BatchReport | null;
}

export interface ProducerOptions {
  connection: RedisConnection;
  /** Key prefix of every queue. Default `{quire}`. */
  prefix?: string;
  /** Checks applied to sources at enqueue time (the worker checks again with its own settings). */
  sources?: Partial<SourceOptions>;
  jobOptions?: DefaultJobOptionsOptions;
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
  readonly #sources: Partial<SourceOptions>;
  #flowProducer: FlowProducer | undefined;

  constructor(options: ProducerOptions) {
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
    this.#connection = options.connection;
    this.#redis = openRedis(options.connection);
    this.#ownsRedis = this.#redis !== options.connection;
    this.#jobOptions = defaultJobOptions(options.jobOptions);
    this.#sources = options.sources ?? {};
  }

  queue(name: QueueName): Queue {
    let queue = this.#queues.get(name);
    if (!queue) {
      queue = new Queue(name, {
        connection: this.#redis,
        prefix: this.prefix,
        defaultJobOptions: this.#jobOptions,
      });
      this.#queues.set(name, queue);
    }
    return queue;
  }

  /** Enqueues the ingestion of one document; a later job for the same document wins. */
  async enqueueIngest(input: IngestJobInput, options: EnqueueOptions = {}): Promise<{ jobId: string }> {
    const parsed = IngestJobDataSchema.safeParse({ ...input, v: 1 });
    if (!parsed.success) throw new JobInputError(`invalid ingest job: ${describeZodError(parsed.error)}`);
    checkSourceShape(parsed.data.source, this.#sources);
    const seq = await nextDocumentSeq(this.#redis, this.prefix, parsed.data.tenant, parsed.data.documentId);
    const data: IngestJobData = { ...parsed.data, seq };
    return this.#add(QUEUES.ingest, JOB_NAMES.ingest, data, options);
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
    const parsed = QueryJobDataSchema.safeParse({ ...input, v: 1 });
    if (!parsed.success) throw new JobInputError(`invalid query job: ${describeZodError(parsed.error)}`);
    return this.#add(QUEUES.query, JOB_NAMES.query, parsed.data, options);
  }

  /** Enqueues one question and waits for its answer. */
  async ask(input: QueryJobInput, options: EnqueueOptions & { timeoutMs?: number } = {}): Promise<QueryResult> {
    const { jobId } = await this.enqueueQuery(input, options);
    return (await this.waitForJob(QUEUES.query, jobId, { timeoutMs: options.timeoutMs ?? 60_000 })) as QueryResult;
  }

  /**
   * Enqueues a batch: one parent job in `batch` and one `query` child per question (a BullMQ flow).
   * A failing question does not fail the batch; the report lists it with its reason.
   */
  async enqueueBatch(input: BatchInput, options: { batchId?: string } = {}): Promise<{ batchId: string }> {
    const parsed = BatchInputSchema.safeParse(input);
    if (!parsed.success) throw new JobInputError(`invalid batch: ${describeZodError(parsed.error)}`);
    const batchId = options.batchId ?? randomUUID();
    if (!/^[A-Za-z0-9_-]{1,100}$/.test(batchId)) {
      throw new JobInputError('invalid batch: batchId must be 1-100 letters, digits, "_" or "-"');
    }
    const { tenant, filter, options: queryOptions, questions, name } = parsed.data;
    const data: BatchJobData = {
      v: 1,
      batchId,
      tenant,
      ...(name ? { name } : {}),
      questions: questions.map((q) => ({ id: q.id ?? null, question: q.question })),
    };
    const childOptions = { ...this.#jobOptions, ignoreDependencyOnFailure: true };
    await this.#flows().add({
      name: JOB_NAMES.batch,
      queueName: QUEUES.batch,
      data,
      opts: { ...this.#jobOptions, jobId: batchId },
      children: questions.map((q, index) => {
        const child: QueryJobData = {
          v: 1,
          tenant,
          question: q.question,
          ...(filter ? { filter } : {}),
          ...(queryOptions ? { options: queryOptions } : {}),
          batch: { id: batchId, index },
        };
        return {
          name: JOB_NAMES.query,
          queueName: QUEUES.query,
          data: child,
          opts: { ...childOptions, jobId: batchChildId(batchId, index) },
        };
      }),
    });
    return { batchId };
  }

  /** A batch's state and counts; the report once it is complete. */
  async getBatch(batchId: string): Promise<BatchStatus | null> {
    const job = await this.queue(QUEUES.batch).getJob(batchId);
    if (!job) return null;
    const state = (await job.getState()) as JobState;
    const data = job.data as BatchJobData;
    const total = data.questions?.length ?? 0;
    const counts = await job.getDependenciesCount({ processed: true, unprocessed: true, ignored: true, failed: true });
    const failed = (counts.ignored ?? 0) + (counts.failed ?? 0);
    const report = state === 'completed' ? (job.returnvalue as BatchReport) : null;
    return {
      batchId,
      tenant: data.tenant,
      name: data.name ?? null,
      state,
      total,
      answered: report ? report.answered : (counts.processed ?? 0),
      failed: report ? report.failed : failed,
      pending: report ? 0 : (counts.unprocessed ?? 0),
      failedReason: job.failedReason ?? null,
      report,
    };
  }

  /** Waits until the batch report is ready. */
  async waitForBatch(batchId: string, options: { timeoutMs?: number } = {}): Promise<BatchReport> {
    return (await this.waitForJob(QUEUES.batch, batchId, { timeoutMs: options.timeoutMs ?? 600_000 })) as BatchReport;
  }

  #flows(): FlowProducer {
    this.#flowProducer ??= new FlowProducer({ connection: this.#redis, prefix: this.prefix });
    return this.#flowProducer;
  }

  async #add(queue: QueueName, name: string, data: object, options: EnqueueOptions) {
    const job = await this.queue(queue).add(name, data, {
      ...(options.jobId ? { jobId: options.jobId } : {}),
      ...(options.priority ? { priority: options.priority } : {}),
    });
    if (!job.id) throw new Error(`queue ${queue} returned a job without an id`);
    return { jobId: job.id };
  }

  async getJob(queue: QueueName, jobId: string): Promise<JobStatus | null> {
    const job = await this.queue(queue).getJob(jobId);
    if (!job) return null;
    return toStatus(queue, job, await job.getState());
  }

  /**
   * Waits until the job completes and returns its result; throws JobFailedError when it fails
   * for good, JobTimeoutError after `timeoutMs` (the job itself keeps going).
   */
  async waitForJob(queue: QueueName, jobId: string, options: { timeoutMs?: number } = {}): Promise<unknown> {
    const timeoutMs = options.timeoutMs ?? 120_000;
    const job = await this.queue(queue).getJob(jobId);
    if (!job) throw new JobFailedError(jobId, 'no such job (it may have been removed by retention)');
    const events = await this.#queueEvents(queue);
    try {
      return await job.waitUntilFinished(events, timeoutMs);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (/timed out before finishing/i.test(message)) throw new JobTimeoutError(jobId, timeoutMs);
      throw new JobFailedError(jobId, message);
    }
  }

  async #queueEvents(queue: QueueName): Promise<QueueEvents> {
    let events = this.#events.get(queue);
    if (!events) {
      const connection = this.#redis.duplicate();
      events = new QueueEvents(queue, { connection, prefix: this.prefix });
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
    if (this.#ownsRedis) await this.#redis.quit().catch(() => this.#redis.disconnect());
  }
}

function toStatus(queue: QueueName, job: Job, state: string): JobStatus {
  const data = job.data as { tenant?: unknown } | undefined;
  return {
    id: job.id ?? '',
    queue,
    name: job.name,
    state: (state as JobState) ?? 'unknown',
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
