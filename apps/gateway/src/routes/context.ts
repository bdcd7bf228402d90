/** What every route module is given, and the steps routes share. */
import { randomUUID } from 'node:crypto';
import type { JobStatus, QueueName } from '@quire/jobs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { GatewayEnv } from '../env.js';
import { ApiError, ERROR_STATUS, ErrorBodySchema, type ErrorCode, UnavailableError } from '../errors.js';
import { IDEMPOTENCY_HEADER, IdempotencyStore } from '../idempotency.js';
import type { JobAccepted, JobStatusBody } from '../schemas.js';
import type { GatewayServices } from '../services.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The tenant of the request's API key (set by the `/v1` authentication hook). */
    tenant: string;
  }
}

export interface RouteContext {
  env: GatewayEnv;
  services: GatewayServices;
  /**
   * Ends long requests (event streams, waits for answers) when the server closes: each adds its
   * ending function while open and removes it when done.
   */
  closing: Set<() => void>;
}

export interface RouteOptions {
  ctx: RouteContext;
}

/** OpenAPI security requirement of every `/v1` route: either way of presenting the key. */
export const SECURITY: Record<string, string[]>[] = [{ bearerAuth: [] }, { apiKeyHeader: [] }];

/** The Idempotency-Key header, documented; other headers pass through untouched. */
export const IdempotencyHeadersSchema = z.looseObject({
  [IDEMPOTENCY_HEADER]: z
    .string()
    .max(255)
    .optional()
    .describe('Same key and tenant within the retention time: same job, nothing enqueued twice'),
});

/** Error responses of a route, for the OpenAPI document and the serializer. */
export function errorResponses(...codes: ErrorCode[]) {
  const statuses = new Set(codes.map((code) => ERROR_STATUS[code]));
  return Object.fromEntries([...statuses].map((status) => [status, ErrorBodySchema])) as Record<
    number,
    typeof ErrorBodySchema
  >;
}

/** Refuses at once, with 503, while Redis cannot be reached: a request never waits for it. */
export function requireRedis(ctx: RouteContext): void {
  if (ctx.services.redis.status !== 'ready') throw new UnavailableError('the queue (Redis)');
}

export interface SubmitOptions {
  queue: QueueName;
  /** What makes two requests "the same" for the Idempotency-Key. */
  fingerprint: string;
  webhookUrl: string | undefined;
  enqueue: (jobId: string) => Promise<void>;
  /** Jobs this submission counts for against the tenant's jobs per minute. Default 1. */
  jobs?: number;
  /** Document bytes held against the tenant's queued bytes until the job ends. Default 0. */
  bytes?: number;
}

export interface Submitted {
  jobId: string;
  replayed: boolean;
}

/**
 * Enqueues a job with the request's Idempotency-Key and webhook honoured: the webhook is
 * registered before the job exists (so a job finishing at once is not missed), and both are
 * undone when enqueueing fails (so a retry of the request starts clean).
 */
export async function submitJob(
  ctx: RouteContext,
  request: FastifyRequest,
  options: SubmitOptions,
): Promise<Submitted> {
  requireRedis(ctx);
  const { idempotency, webhooks } = ctx.services;
  const tenant = request.tenant;
  if (options.webhookUrl !== undefined) webhooks.checkUrl(options.webhookUrl);
  const key = IdempotencyStore.keyOf(request.headers);
  let jobId: string = randomUUID();
  if (key !== null) {
    const claim = await idempotency.claim(tenant, key, options.queue, options.fingerprint);
    if (claim.replayed) return { jobId: claim.jobId, replayed: true };
    jobId = claim.jobId;
  }
  const { quotas } = ctx.services;
  let held = false;
  try {
    await quotas.takeJobs(tenant, options.jobs ?? 1);
    await quotas.holdBytes(tenant, jobId, options.bytes ?? 0);
    held = true;
    if (options.webhookUrl !== undefined) {
      await webhooks.register(options.queue, jobId, tenant, options.webhookUrl);
    }
    await options.enqueue(jobId);
  } catch (error) {
    if (held) await quotas.release(tenant, jobId).catch(() => undefined);
    if (key !== null) await idempotency.release(tenant, key).catch(() => undefined);
    if (options.webhookUrl !== undefined)
      await webhooks.unregister(options.queue, jobId).catch(() => undefined);
    throw error;
  }
  request.log.info({ tenant, queue: options.queue, jobId }, 'job submitted');
  return { jobId, replayed: false };
}

export function jobUrls(queue: QueueName, jobId: string): { statusUrl: string; eventsUrl: string } {
  const id = encodeURIComponent(jobId);
  return {
    statusUrl:
      queue === 'batch'
        ? `/v1/batches/${id}`
        : queue === 'eval'
          ? `/v1/evals/${id}`
          : `/v1/jobs/${queue}/${id}`,
    eventsUrl: `/v1/jobs/${queue}/${id}/events`,
  };
}

/** 202 Accepted with the job's URLs (and `Location` pointing at its status). */
export function accepted(
  reply: FastifyReply,
  queue: QueueName,
  submitted: Submitted,
  extra: Pick<JobAccepted, 'documentId' | 'batchId' | 'evalId'> = {},
): JobAccepted {
  const urls = jobUrls(queue, submitted.jobId);
  reply.code(202).header('location', urls.statusUrl);
  return { jobId: submitted.jobId, queue, ...urls, replayed: submitted.replayed, ...extra };
}

/** A job of the caller's tenant; another tenant's job is "not found", exactly like a missing one. */
export async function ownJob(
  ctx: RouteContext,
  tenant: string,
  queue: QueueName,
  jobId: string,
): Promise<JobStatus> {
  requireRedis(ctx);
  const { producer } = ctx.services;
  let status = await producer.getJob(queue, jobId);
  // The job and its state are two reads: a job finishing in between reads as finished without its
  // result. Read again then; by now the result is there.
  if (
    status !== null &&
    (status.state === 'completed' || status.state === 'failed') &&
    status.finishedAt === null
  ) {
    status = await producer.getJob(queue, jobId);
  }
  if (status === null || status.tenant !== tenant) {
    throw new ApiError('not_found', `no ${queue} job ${jobId}`);
  }
  return status;
}

export function statusBody(status: JobStatus): JobStatusBody {
  const iso = (ms: number | null) => (ms === null || ms === 0 ? null : new Date(ms).toISOString());
  return {
    jobId: status.id,
    queue: status.queue,
    name: status.name,
    state: status.state,
    progress: status.progress ?? null,
    result: status.result ?? null,
    failedReason: status.failedReason,
    attemptsMade: status.attemptsMade,
    createdAt: new Date(status.createdAt).toISOString(),
    processedAt: iso(status.processedAt),
    finishedAt: iso(status.finishedAt),
  };
}
