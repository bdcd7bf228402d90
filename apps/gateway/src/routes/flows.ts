/**
 * What the batch and eval routes share: both are flow jobs of a tenant, read back by id, with a
 * report once complete and that report as a downloadable file.
 */
import type { JobState } from '@quire/jobs';
import type { FastifyReply } from 'fastify';
import { ApiError } from '../errors.js';
import { type RouteContext, requireRedis } from './context.js';

/** A flow job as the producer reads it: its tenant, state and, once complete, its report. */
export interface FlowStatus<R> {
  tenant: string;
  state: JobState;
  failedReason: string | null;
  report: R | null;
}

/** The flow job `id` of the caller's tenant; another tenant's is not found either. */
export async function ownFlow<S extends { tenant: string }>(
  ctx: RouteContext,
  tenant: string,
  kind: string,
  id: string,
  read: (id: string) => Promise<S | null>,
): Promise<S> {
  requireRedis(ctx);
  const status = await read(id);
  if (status === null || status.tenant !== tenant) throw new ApiError('not_found', `no ${kind} ${id}`);
  return status;
}

/**
 * The report of a complete flow job; `job_failed` when it failed, `not_ready` with `done` (what
 * is done so far, e.g. `3 of 10 questions done`) while it runs.
 */
export function completeReport<R>(status: FlowStatus<R>, kind: string, id: string, done: string): R {
  if (status.state === 'failed') {
    throw new ApiError('job_failed', `${kind} ${id} failed: ${status.failedReason ?? 'unknown reason'}`);
  }
  if (status.report === null) throw new ApiError('not_ready', `${kind} ${id} is not complete yet (${done})`);
  return status.report;
}

/** Sends `body` as a file to download, in UTF-8. */
export function reportFile(reply: FastifyReply, filename: string, mediaType: string, body: string): string {
  reply
    .header('content-type', `${mediaType}; charset=utf-8`)
    .header('content-disposition', `attachment; filename="${filename}"`);
  return body;
}
