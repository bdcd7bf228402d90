/**
 * One BullMQ `QueueEvents` reader per queue for the whole process, fanned out in memory to
 * whoever follows a job (server-sent events, `wait=true`) or every finished job (webhooks,
 * upload clean-up). Events of one queue come from one Redis stream, read in order, so a
 * listener sees a job's progress before its completion.
 */
import { duplicateRedis, QUEUES, type QueueName } from '@quire/jobs';
import { QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

export type JobEvent =
  | { type: 'progress'; queue: QueueName; jobId: string; progress: unknown }
  | { type: 'completed'; queue: QueueName; jobId: string; result: unknown }
  | { type: 'failed'; queue: QueueName; jobId: string; failedReason: string };

export type FinishedJobEvent = Extract<JobEvent, { type: 'completed' | 'failed' }>;

type JobListener = (event: JobEvent) => void;
type FinishedListener = (event: FinishedJobEvent) => void;

export interface JobEventsOptions {
  /** The gateway's fail-fast client; each reader blocks on its own duplicate of it. */
  redis: Redis;
  prefix: string;
  logger: Logger;
  /** Queues to follow. Default: ingest, query and batch. */
  queues?: readonly QueueName[];
}

export class JobEvents {
  readonly #readers = new Map<QueueName, QueueEvents>();
  readonly #byJob = new Map<string, Set<JobListener>>();
  readonly #finished = new Set<FinishedListener>();
  readonly #options: JobEventsOptions;

  private constructor(options: JobEventsOptions) {
    this.#options = options;
  }

  /** Starts reading every queue's events; resolves once each reader is connected (at once while Redis is down). */
  static async start(options: JobEventsOptions): Promise<JobEvents> {
    const events = new JobEvents(options);
    await Promise.all((options.queues ?? Object.values(QUEUES)).map((queue) => events.#open(queue)));
    return events;
  }

  async #open(queue: QueueName): Promise<void> {
    const { redis, prefix, logger } = this.#options;
    // A blocking reader: no command timeout (its XREAD blocks longer than any), retries forever.
    const connection = duplicateRedis(redis, 'blocking');
    connection.on('error', (err: Error) =>
      logger.debug({ err: err.message, queue }, 'queue events connection error'),
    );
    // Start from the stream's current last entry rather than "$": a reader that resumes from "$"
    // after an empty read can miss an event written in between. Asked on the fail-fast client, so
    // that a gateway started while Redis is down still starts (from "$").
    const last = await redis
      .xrevrange(`${prefix}:${queue}:events`, '+', '-', 'COUNT', 1)
      .then((entries) => entries[0]?.[0] ?? '0-0')
      .catch(() => undefined);
    const reader = new QueueEvents(queue, {
      connection,
      prefix,
      ...(last === undefined ? {} : { lastEventId: last }),
    });
    reader.on('error', (err) => logger.warn({ err: err.message, queue }, 'queue events reader error'));
    reader.on('progress', ({ jobId, data }) =>
      this.#emit({ type: 'progress', queue, jobId, progress: data }),
    );
    reader.on('completed', ({ jobId, returnvalue }) =>
      this.#emit({ type: 'completed', queue, jobId, result: returnvalue }),
    );
    reader.on('failed', ({ jobId, failedReason }) =>
      this.#emit({ type: 'failed', queue, jobId, failedReason }),
    );
    this.#readers.set(queue, reader);
    if (redis.status === 'ready') await reader.waitUntilReady();
  }

  #emit(event: JobEvent): void {
    const listeners = this.#byJob.get(key(event.queue, event.jobId));
    if (listeners) for (const listener of [...listeners]) this.#call(listener, event);
    if (event.type !== 'progress') for (const listener of [...this.#finished]) this.#call(listener, event);
  }

  #call<E>(listener: (event: E) => void, event: E): void {
    try {
      listener(event);
    } catch (error) {
      this.#options.logger.error({ err: error }, 'job event listener failed');
    }
  }

  /** Calls `listener` with each event of one job until the returned function is called. */
  follow(queue: QueueName, jobId: string, listener: JobListener): () => void {
    const k = key(queue, jobId);
    let listeners = this.#byJob.get(k);
    if (!listeners) {
      listeners = new Set();
      this.#byJob.set(k, listeners);
    }
    listeners.add(listener);
    return () => {
      const set = this.#byJob.get(k);
      set?.delete(listener);
      if (set?.size === 0) this.#byJob.delete(k);
    };
  }

  /** Calls `listener` for every job of every followed queue that completes or fails for good. */
  onFinished(listener: FinishedListener): () => void {
    this.#finished.add(listener);
    return () => this.#finished.delete(listener);
  }

  async close(): Promise<void> {
    await Promise.all(
      [...this.#readers.values()].map(async (reader) => {
        const client = await reader.client.catch(() => null);
        await reader.close();
        client?.disconnect();
      }),
    );
    this.#readers.clear();
    this.#byJob.clear();
    this.#finished.clear();
  }
}

function key(queue: QueueName, jobId: string): string {
  return `${queue}\u0000${jobId}`;
}
