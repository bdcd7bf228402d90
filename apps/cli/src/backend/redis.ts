/**
 * The default backend: Redis through the producer SDK, like any other service, plus the vector
 * store itself for `docs list` (there is no job for reading). It must be configured like the
 * workers (same REDIS_URL, QUIRE_QUEUE_PREFIX, QUIRE_DATA_DIR or QDRANT_URL).
 */
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import type { DocumentSummary, QuireConfig } from '@quire/core';
import {
  type BatchInput,
  type DeleteJobInput,
  type EvalInput,
  JobFailedError,
  type JobStatus,
  JobTimeoutError,
  Producer,
  QUEUES,
  type QueryJobInput,
  type QueryResult,
  QueryResultSchema,
  type QueueName,
  Spool,
} from '@quire/jobs';
import type { Job } from 'bullmq';
import { CliError, errorMessage } from '../errors.js';
import { pause } from '../poll.js';
import { redactUrl } from '../redact.js';
import { pingRedis } from '../redis-launcher.js';
import { planSource } from '../sources.js';
import {
  type AskOptions,
  type Backend,
  type BatchView,
  COUNTED_STATES,
  type CountedState,
  type DocumentSubmission,
  type EvalView,
  type FailedJob,
  type QueueCounts,
  type SentAs,
  type StatusOptions,
  type StatusReport,
} from './types.js';

export interface RedisBackendOptions {
  config: QuireConfig;
  /** Directories shared with the workers, symbolic links resolved: files below them go as paths. */
  roots: readonly string[];
  /** Largest file sent inline (base64 in the job), in bytes. */
  inlineMaxBytes: number;
  /** How long to wait for Redis to answer the first PING, in ms. Default 3,000. */
  connectTimeoutMs?: number;
}

/** Opens the backend after checking that Redis answers, so that a wrong URL fails at once. */
export async function openRedisBackend(options: RedisBackendOptions): Promise<RedisBackend> {
  const { config } = options;
  await assertRedisAnswers(config.redisUrl, options.connectTimeoutMs ?? 3_000);
  return new RedisBackend(options);
}

/** Resolves when `url` answers PING; throws a CliError saying how to get a Redis otherwise. */
export async function assertRedisAnswers(url: string, timeoutMs: number): Promise<void> {
  try {
    await pingRedis(url, timeoutMs);
  } catch (error) {
    throw new CliError(
      `cannot reach Redis at ${redactUrl(url)} (${errorMessage(error)}). Start Redis, point REDIS_URL or --redis-url at one, or use --url to go through a gateway.`,
    );
  }
}

export class RedisBackend implements Backend {
  readonly target: string;
  readonly tenantFromKey = false;
  readonly #config: QuireConfig;
  readonly #options: RedisBackendOptions;
  readonly #producer: Producer;
  #spoolInstance: Promise<Spool> | undefined;

  constructor(options: RedisBackendOptions) {
    const { config } = options;
    this.#config = config;
    this.#options = options;
    this.#producer = new Producer({
      connection: config.redisUrl,
      prefix: config.queuePrefix,
      secretKeys: config.secretKeys,
    });
    this.target = `${redactUrl(config.redisUrl)} (queue prefix ${config.queuePrefix})`;
  }

  async submitDocument(document: DocumentSubmission): Promise<{ jobId: string; sentAs: SentAs }> {
    const spool = await this.#spool();
    const plan = await planSource(document.input, {
      ...this.#options,
      ...(spool === null ? {} : { spoolFile: (path: string) => spool.copyIn(path) }),
    });
    if (!plan.ok) throw new CliError(plan.error);
    let jobId: string;
    try {
      ({ jobId } = await this.#producer.enqueueIngest({
        tenant: document.tenant,
        documentId: document.documentId,
        source: plan.source,
        // The spool copy has a generated name: cite the document by its own.
        ...(document.sourceName !== undefined
          ? { sourceName: document.sourceName }
          : plan.spooled !== undefined && document.input.kind === 'file'
            ? { sourceName: basename(document.input.path) }
            : {}),
        ...(document.metadata !== undefined ? { metadata: document.metadata } : {}),
        ...(document.password !== undefined ? { password: document.password } : {}),
        ...(document.force === true ? { force: true } : {}),
        ...(document.ocr !== undefined ? { ocr: document.ocr } : {}),
      }));
    } catch (error) {
      if (plan.spooled !== undefined) await spool?.discard(plan.spooled).catch(() => undefined);
      throw error;
    }
    if (plan.spooled !== undefined) await spool?.register(plan.spooled, jobId);
    const sentAs: SentAs =
      plan.spooled !== undefined
        ? 'spool'
        : plan.source.kind === 'base64' || plan.source.kind === 'text'
          ? 'inline'
          : plan.source.kind;
    return { jobId, sentAs };
  }

  /** The spool shared with the workers (QUIRE_SPOOL_DIR), or null when there is none. */
  async #spool(): Promise<Spool | null> {
    const dir = this.#config.ingest.spoolDir;
    if (dir === null) return null;
    this.#spoolInstance ??= this.#producer
      .queue(QUEUES.ingest)
      .client.then((redis) => new Spool({ dir, redis, prefix: this.#config.queuePrefix }));
    return this.#spoolInstance;
  }

  enqueueDelete(input: DeleteJobInput): Promise<{ jobId: string }> {
    return this.#producer.enqueueDelete(input);
  }

  getDocumentJob(jobId: string): Promise<JobStatus | null> {
    return this.#job(QUEUES.ingest, jobId);
  }

  /**
   * Enqueues the question and polls for its answer. Polling, not the SDK's event wait: a job
   * answered within milliseconds can finish before a fresh QueueEvents reader is listening, and
   * its event is then never seen; a short poll costs a CLI nothing and cannot miss the end.
   */
  async ask(input: QueryJobInput, options: AskOptions): Promise<QueryResult> {
    const { jobId } = await this.#producer.enqueueQuery(input);
    const deadline = Date.now() + options.timeoutMs;
    let delayMs = 20;
    for (;;) {
      const status = await this.#job(QUEUES.query, jobId);
      if (status === null) throw new JobFailedError(jobId, 'the job no longer exists');
      if (status.state === 'completed') {
        const result = QueryResultSchema.safeParse(status.result);
        if (!result.success) throw new CliError(`query job ${jobId} has a malformed result`);
        return result.data;
      }
      if (status.state === 'failed') throw new JobFailedError(jobId, status.failedReason ?? 'failed');
      if (Date.now() >= deadline) throw new JobTimeoutError(jobId, options.timeoutMs);
      if (!(await pause(delayMs, options.signal))) {
        throw new CliError(`stopped waiting; question job ${jobId} goes on`, 130);
      }
      delayMs = Math.min(250, delayMs * 2);
    }
  }

  async #job(queue: QueueName, jobId: string): Promise<JobStatus | null> {
    const status = await this.#producer.getJob(queue, jobId);
    // The job and its state are two reads: a job finishing in between reads as finished without
    // its result. Read again; by now the result is there.
    if (
      status !== null &&
      (status.state === 'completed' || status.state === 'failed') &&
      status.finishedAt === null
    ) {
      return this.#producer.getJob(queue, jobId);
    }
    return status;
  }

  enqueueBatch(input: BatchInput): Promise<{ batchId: string }> {
    return this.#producer.enqueueBatch(input);
  }

  async getBatch(batchId: string): Promise<BatchView | null> {
    // The SDK reads the state before the job, so a batch finishing in between reads as not yet done.
    const status = await this.#producer.getBatch(batchId);
    if (status === null) return null;
    const { state, total, answered, failed, failedReason, report } = status;
    return { batchId, state, total, answered, failed, failedReason, report };
  }

  enqueueEval(input: EvalInput, options: { maxTokens?: number }): Promise<{ evalId: string }> {
    return this.#producer.enqueueEval(
      input,
      options.maxTokens === undefined ? {} : { maxTokens: options.maxTokens },
    );
  }

  async getEval(evalId: string): Promise<EvalView | null> {
    const status = await this.#producer.getEval(evalId);
    if (status === null) return null;
    const { state, step, documents, documentsDone, questions, questionsDone, failedReason, report } = status;
    return { evalId, state, step, documents, documentsDone, questions, questionsDone, failedReason, report };
  }

  async listDocuments(tenant: string): Promise<DocumentSummary[]> {
    const { store: where } = this.#config;
    if (where.kind === 'sqlite' && !existsSync(where.path)) {
      throw new CliError(
        `there is no document store at ${where.path}: nothing was ingested with this configuration yet, or the workers use another QUIRE_DATA_DIR (set it, or pass --data-dir)`,
      );
    }
    // Loaded here: the store (and all of core) is needed by `docs` only.
    const { createStore } = await import('@quire/core');
    const store = createStore(this.#config, { readOnly: true });
    try {
      await store.init();
      return await store.listDocuments(tenant);
    } finally {
      await store.close();
    }
  }

  async status(options: StatusOptions): Promise<StatusReport> {
    // Every read of every queue at once: they share one connection, so the replies come back in
    // about one round trip instead of one per read.
    const perQueue = await Promise.all(
      options.queues.map(async (name) => {
        const queue = this.#producer.queue(name);
        const [counts, workers, jobs] = await Promise.all([
          queue.getJobCounts(...COUNTED_STATES) as Promise<Partial<Record<CountedState, number>>>,
          this.workerCount(name),
          options.failedLimit > 0 ? queue.getFailed(0, options.failedLimit - 1) : Promise.resolve([]),
        ]);
        const row: QueueCounts = {
          queue: name,
          counts: Object.fromEntries(COUNTED_STATES.map((s) => [s, counts[s] ?? 0])) as Record<
            CountedState,
            number
          >,
          workers,
        };
        return { row, failed: jobs.map((job) => toFailedJob(name, job)) };
      }),
    );
    const failed = perQueue.flatMap((q) => q.failed);
    failed.sort((a, b) => (b.failedAt ?? 0) - (a.failedAt ?? 0));
    return {
      queues: perQueue.map((q) => q.row),
      failed: failed.slice(0, options.failedLimit),
      failedListed: true,
    };
  }

  async retryFailed(queues: readonly QueueName[]): Promise<number> {
    let total = 0;
    for (const name of queues) {
      const queue = this.#producer.queue(name);
      const { failed = 0 } = await queue.getJobCounts('failed');
      if (failed === 0) continue;
      await queue.retryJobs({ state: 'failed' });
      total += failed;
    }
    return total;
  }

  async workerCount(queue: QueueName): Promise<number | null> {
    try {
      return await this.#producer.queue(queue).getWorkersCount();
    } catch {
      // Some managed Redis services refuse CLIENT LIST; not knowing is fine.
      return null;
    }
  }

  close(): Promise<void> {
    return this.#producer.close();
  }
}

function toFailedJob(queue: QueueName, job: Job): FailedJob {
  const data = (job.data ?? {}) as Record<string, unknown>;
  const text = (key: string) => (typeof data[key] === 'string' ? (data[key] as string) : null);
  return {
    queue,
    id: job.id ?? '',
    name: job.name,
    tenant: text('tenant'),
    subject: text('documentId') ?? text('question') ?? text('batchId'),
    reason: job.failedReason || 'no reason recorded',
    attempts: job.attemptsMade,
    failedAt: job.finishedOn ?? null,
  };
}
