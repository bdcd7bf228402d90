/**
 * The producer SDK: what other services import to enqueue document jobs and follow them.
 */
import { checkSourceShape, type SourceOptions } from '@quire/core';
import { type Job, type JobsOptions, Queue, QueueEvents } from 'bullmq';
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
