/**
 * Completion webhooks. A submission may name a URL; when its job completes or fails for good, a
 * signed POST is delivered, retried with exponential backoff.
 *
 * How delivery stays reliable with any number of gateway replicas:
 * - the registration (URL, tenant) is written to Redis before the job is enqueued, so a job that
 *   finishes at once is not missed;
 * - every replica reads the queues' events; the first to see a registered job finish adds a
 *   delivery job to the `webhooks` queue with an id derived from the job, so replicas racing
 *   add one delivery, not several; BullMQ then owns the retries, and any replica's worker sends it;
 * - a periodic sweep finds registered jobs that finished while no gateway was reading events.
 */
import { INTERNAL_QUEUES } from '@quire/contracts';
import type { AddressPolicy } from '@quire/core';
import { duplicateRedis, type JobStatus, type Producer, type QueueName } from '@quire/jobs';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { WebhookSettings } from '../env.js';
import { ApiError } from '../errors.js';
import type { FinishedJobEvent, JobEvents } from '../job-events.js';
import { QueueNameSchema } from '../schemas.js';
import { deliverOnce, type HostLookup, webhookUrlProblem } from './deliver.js';
import {
  SIGNATURE_HEADER,
  signWebhook,
  tenantWebhookSecret,
  WEBHOOK_EVENT_HEADER,
  WEBHOOK_ID_HEADER,
} from './signature.js';

export const WEBHOOKS_QUEUE = INTERNAL_QUEUES.webhooks;

const RegistrationSchema = z.object({ url: z.string(), tenant: z.string() });

const DeliveryJobSchema = z.object({
  v: z.literal(1),
  queue: QueueNameSchema,
  jobId: z.string(),
  tenant: z.string(),
  url: z.string(),
  event: z.enum(['completed', 'failed']),
});
type DeliveryJob = z.infer<typeof DeliveryJobSchema>;

export interface WebhookServiceOptions {
  /** The gateway's fail-fast client (registrations, the delivery queue). */
  redis: Redis;
  prefix: string;
  settings: WebhookSettings;
  /** Reads the finished job's status for the payload. */
  producer: Producer;
  events: JobEvents;
  logger: Logger;
  /** How often registrations are checked for jobs that finished unseen, in ms. Default 60,000. */
  sweepIntervalMs?: number;
  /** Replaces the system resolver (tests). */
  lookup?: HostLookup;
}

export class WebhookService {
  readonly #options: WebhookServiceOptions;
  readonly #policy: AddressPolicy;
  readonly #registrations: string;
  readonly #pending: string;
  #queue: Queue | undefined;
  #worker: Worker | undefined;
  #sweepTimer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(options: WebhookServiceOptions) {
    this.#options = options;
    this.#policy = {
      allowPrivateNetworks: options.settings.allowPrivateNetworks,
      allowAddresses: options.settings.allowAddresses,
    };
    this.#registrations = `${options.prefix}:gateway:webhooks:registrations`;
    this.#pending = `${options.prefix}:gateway:webhooks:pending`;
  }

  get enabled(): boolean {
    return this.#options.settings.secret !== null;
  }

  /** The tenant's signing secret; null when webhooks are off. */
  secretFor(tenant: string): string | null {
    const master = this.#options.settings.secret;
    return master === null ? null : tenantWebhookSecret(master, tenant);
  }

  /** Refuses, before anything is enqueued, a URL that could never be delivered to. */
  checkUrl(url: string): void {
    if (!this.enabled) {
      throw new ApiError('webhook_refused', 'webhooks are off on this gateway (no GATEWAY_WEBHOOK_SECRET)');
    }
    const problem = webhookUrlProblem(url, this.#policy);
    if (problem !== null) throw new ApiError('webhook_refused', problem);
  }

  /** Records that `jobId` wants a delivery; call before enqueueing the job. */
  async register(queue: QueueName, jobId: string, tenant: string, url: string): Promise<void> {
    const member = memberOf(queue, jobId);
    await this.#options.redis
      .multi()
      .hset(this.#registrations, member, JSON.stringify({ url, tenant }))
      .zadd(this.#pending, Date.now(), member)
      .exec();
  }

  /** Forgets a registration whose job could not be enqueued. */
  async unregister(queue: QueueName, jobId: string): Promise<void> {
    const member = memberOf(queue, jobId);
    await this.#options.redis.multi().hdel(this.#registrations, member).zrem(this.#pending, member).exec();
  }

  /** Starts following finished jobs, the delivery worker and the sweep. */
  start(): void {
    if (!this.enabled || this.#worker) return;
    const { redis, prefix, settings, logger } = this.#options;
    this.#queue = new Queue(WEBHOOKS_QUEUE, {
      connection: redis,
      prefix,
      defaultJobOptions: {
        attempts: settings.attempts,
        backoff: { type: 'exponential', delay: settings.backoffMs, jitter: 0.5 },
        // Kept a day after delivery so that a replica seeing the event late adds no second delivery.
        removeOnComplete: { age: 24 * 3600, count: 10_000 },
        removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
      },
    });
    this.#queue.on('error', (err) => logger.warn({ err: err.message }, 'webhook queue error'));
    // The delivery worker blocks on Redis between jobs: a blocking connection, never the request
    // path's client, whose command timeout would cut every wait short and stall deliveries.
    const connection = duplicateRedis(redis, 'blocking');
    connection.on('error', (err: Error) =>
      logger.debug({ err: err.message }, 'webhook worker connection error'),
    );
    this.#worker = new Worker(WEBHOOKS_QUEUE, (job) => this.#deliver(job.id ?? '', job.data), {
      connection,
      prefix,
      concurrency: settings.concurrency,
    });
    this.#worker.on('error', (err) => logger.warn({ err: err.message }, 'webhook worker error'));
    this.#worker.on('failed', (job, err) => {
      if (!job) return;
      const final = err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
      logger[final ? 'error' : 'warn'](
        { delivery: job.id, attempts: job.attemptsMade, err: err.message },
        final ? 'webhook delivery failed for good' : 'webhook delivery failed; will retry',
      );
    });
    this.#worker.on('completed', (job) => logger.info({ delivery: job.id }, 'webhook delivered'));
    this.#unsubscribe = this.#options.events.onFinished((event) => void this.#onFinished(event));
    const interval = this.#options.sweepIntervalMs ?? 60_000;
    this.#sweepTimer = setInterval(() => void this.sweep(), interval);
    this.#sweepTimer.unref();
    void this.sweep();
  }

  async #onFinished(event: FinishedJobEvent): Promise<void> {
    try {
      await this.#dispatch(event.queue, event.jobId, event.type);
    } catch (error) {
      // The sweep picks the registration up again.
      this.#options.logger.warn(
        {
          err: error instanceof Error ? error.message : String(error),
          queue: event.queue,
          jobId: event.jobId,
        },
        'could not schedule a webhook delivery now',
      );
    }
  }

  async #dispatch(queue: QueueName, jobId: string, event: 'completed' | 'failed'): Promise<void> {
    const member = memberOf(queue, jobId);
    const raw = await this.#options.redis.hget(this.#registrations, member);
    if (raw === null || !this.#queue) return;
    const registration = RegistrationSchema.parse(JSON.parse(raw));
    const data: DeliveryJob = {
      v: 1,
      queue,
      jobId,
      tenant: registration.tenant,
      url: registration.url,
      event,
    };
    await this.#queue.add('deliver', data, { jobId: `${queue}-${jobId}` });
    await this.unregister(queue, jobId);
  }

  /** Schedules deliveries for registered jobs that finished while no gateway was listening. */
  async sweep(): Promise<void> {
    const { redis, producer, logger } = this.#options;
    if (redis.status !== 'ready') return;
    try {
      // Only registrations a few seconds old: a younger one's job is being enqueued right now.
      const members = await redis.zrangebyscore(this.#pending, '-inf', Date.now() - 5_000, 'LIMIT', 0, 500);
      for (const member of members) {
        const { queue, jobId } = parseMember(member);
        const state = await producer.queue(queue).getJobState(jobId);
        if (state === 'completed' || state === 'failed') await this.#dispatch(queue, jobId, state);
        else if (state === 'unknown') await this.unregister(queue, jobId);
      }
    } catch (error) {
      logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'webhook sweep failed');
    }
  }

  async #deliver(deliveryId: string, raw: unknown): Promise<{ status: number }> {
    const parsed = DeliveryJobSchema.safeParse(raw);
    if (!parsed.success) throw new UnrecoverableError('invalid webhook delivery job');
    const data = parsed.data;
    const secret = this.secretFor(data.tenant);
    if (secret === null) throw new UnrecoverableError('webhooks are off on this gateway');
    const status = await this.#options.producer.getJob(data.queue, data.jobId);
    const body = JSON.stringify(payloadOf(deliveryId, data, status));
    const timestamp = Math.floor(Date.now() / 1000);
    const outcome = await deliverOnce({
      url: data.url,
      body,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Quire-Webhooks/1',
        [WEBHOOK_ID_HEADER]: deliveryId,
        [WEBHOOK_EVENT_HEADER]: `job.${data.event}`,
        [SIGNATURE_HEADER]: signWebhook(secret, timestamp, body),
      },
      policy: this.#policy,
      timeoutMs: this.#options.settings.timeoutMs,
      ...(this.#options.lookup ? { lookup: this.#options.lookup } : {}),
    });
    if (outcome.ok) return { status: outcome.status };
    if (outcome.permanent) throw new UnrecoverableError(outcome.reason);
    throw new Error(outcome.reason);
  }

  /** The delivery queue (for the dashboard and metrics); null when webhooks are off. */
  get queue(): Queue | null {
    return this.#queue ?? null;
  }

  async close(): Promise<void> {
    if (this.#sweepTimer) clearInterval(this.#sweepTimer);
    this.#unsubscribe?.();
    if (this.#worker) {
      const client = await this.#worker.client.catch(() => null);
      await this.#worker.close();
      client?.disconnect();
    }
    await this.#queue?.close();
  }
}

/** The body of a delivery. Batch results are summarised: the report itself is at `/v1/batches/{id}/results`. */
function payloadOf(deliveryId: string, data: DeliveryJob, status: JobStatus | null) {
  return {
    id: deliveryId,
    type: `job.${data.event}`,
    createdAt: new Date().toISOString(),
    data: {
      queue: data.queue,
      jobId: data.jobId,
      tenant: data.tenant,
      state: data.event,
      result: status?.result == null ? null : data.queue === 'batch' ? summary(status.result) : status.result,
      failedReason: status?.failedReason ?? null,
      statusUrl: `/v1/jobs/${data.queue}/${encodeURIComponent(data.jobId)}`,
    },
  };
}

function summary(report: unknown): unknown {
  if (typeof report !== 'object' || report === null) return report;
  const { items: _items, ...rest } = report as Record<string, unknown>;
  return rest;
}

function memberOf(queue: QueueName, jobId: string): string {
  return `${queue}/${jobId}`;
}

function parseMember(member: string): { queue: QueueName; jobId: string } {
  const slash = member.indexOf('/');
  return { queue: QueueNameSchema.parse(member.slice(0, slash)), jobId: member.slice(slash + 1) };
}
