/**
 * Failed documents: the tenant's ingestions that failed for good, with their reasons, and a way to
 * run one again. What an operator on call looks at first; the console shows it.
 *
 * A document counts as failed while its latest failed ingest job is newer than anything stored for
 * it: re-ingesting it successfully (or deleting and re-submitting it) clears it from the list.
 */
import { existsSync } from 'node:fs';
import {
  type FailedDocument,
  FailedDocumentListQuerySchema,
  FailedDocumentListSchema,
  FailedDocumentParamsSchema,
} from '@quire/contracts';
import { IngestJobDataSchema, JOB_NAMES, QUEUES } from '@quire/jobs';
import type { Job } from 'bullmq';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ApiError } from '../errors.js';
import { JobAcceptedSchema } from '../schemas.js';
import { accepted, errorResponses, type RouteOptions, requireRedis, SECURITY } from './context.js';

const TAGS = ['documents'];
/** Failed ingest jobs read per request, newest first: retention keeps the failed set bounded too. */
const SCAN_LIMIT = 2_000;

interface FailedJob {
  job: Job;
  documentId: string;
  failedAt: number;
}

export const failedDocumentRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { ctx }) => {
  const { producer, store } = ctx.services;
  const uploadDir = ctx.env.uploads.dir;

  /** The tenant's latest failed ingest job per document, newest first. */
  const latestFailures = async (
    tenant: string,
    documentId?: string,
  ): Promise<{ failures: FailedJob[]; truncated: boolean }> => {
    requireRedis(ctx);
    const queue = producer.queue(QUEUES.ingest);
    const jobs = await queue.getFailed(0, SCAN_LIMIT - 1);
    const truncated = jobs.length >= SCAN_LIMIT && (await queue.getFailedCount()) > SCAN_LIMIT;
    const latest = new Map<string, FailedJob>();
    for (const job of jobs) {
      if (job?.name !== JOB_NAMES.ingest) continue;
      const data = job.data as { tenant?: unknown; documentId?: unknown };
      if (data.tenant !== tenant || typeof data.documentId !== 'string') continue;
      if (documentId !== undefined && data.documentId !== documentId) continue;
      const failedAt = job.finishedOn ?? job.timestamp;
      const seen = latest.get(data.documentId);
      if (seen === undefined || seen.failedAt < failedAt) {
        latest.set(data.documentId, { job, documentId: data.documentId, failedAt });
      }
    }
    // A document stored after its failure was ingested since: not failed any more.
    const vectors = await store.get();
    const failures: FailedJob[] = [];
    for (const failure of latest.values()) {
      const [stored] = await vectors.listDocuments(tenant, { documentId: failure.documentId });
      const storedAt = Math.max(0, ...(stored?.versions ?? []).map((v) => Date.parse(v.ingestedAt)));
      if (storedAt <= failure.failedAt) failures.push(failure);
    }
    failures.sort((a, b) => b.failedAt - a.failedAt || (a.documentId < b.documentId ? -1 : 1));
    return { failures, truncated };
  };

  const describe = (failure: FailedJob): FailedDocument => {
    const parsed = IngestJobDataSchema.safeParse(failure.job.data);
    const source = parsed.success ? parsed.data.source : null;
    const sourceName = parsed.success
      ? (parsed.data.sourceName ?? ('name' in parsed.data.source ? (parsed.data.source.name ?? null) : null))
      : null;
    return {
      documentId: failure.documentId,
      jobId: failure.job.id ?? '',
      failedReason: failure.job.failedReason || 'failed without a reason',
      failedAt: new Date(failure.failedAt).toISOString(),
      attemptsMade: failure.job.attemptsMade,
      sourceKind: source?.kind ?? 'text',
      sourceName,
      retryable: source !== null && sourceAvailable(source, uploadDir),
    };
  };

  app.get(
    '/failed-documents',
    {
      schema: {
        summary:
          "The tenant's documents whose ingestion failed for good, newest failure first, with the reasons",
        tags: TAGS,
        security: SECURITY,
        querystring: FailedDocumentListQuerySchema,
        response: {
          200: FailedDocumentListSchema,
          ...errorResponses('invalid_request', 'unauthorized', 'unavailable'),
        },
      },
    },
    async (request) => {
      const { failures, truncated } = await latestFailures(request.tenant);
      return { documents: failures.slice(0, request.query.limit).map(describe), truncated };
    },
  );

  app.post(
    '/failed-documents/:documentId/retry',
    {
      schema: {
        summary: "Run a failed document's ingestion again (the same job, its attempts reset)",
        description:
          'Follow it at the returned status URL. A spooled upload is removed when its job ends: such a document cannot be retried (404); upload it again.',
        tags: TAGS,
        security: SECURITY,
        params: FailedDocumentParamsSchema,
        response: {
          202: JobAcceptedSchema,
          ...errorResponses('unauthorized', 'not_found', 'unavailable'),
        },
      },
    },
    async (request, reply) => {
      const { documentId } = request.params;
      const { failures } = await latestFailures(request.tenant, documentId);
      const failure = failures[0];
      if (failure === undefined) {
        throw new ApiError('not_found', `no failed ingestion of document ${JSON.stringify(documentId)}`);
      }
      if (!describe(failure).retryable) {
        throw new ApiError(
          'not_found',
          `the uploaded file of document ${JSON.stringify(documentId)} is gone (uploads are removed when their job ends); upload it again`,
        );
      }
      // The failed state is checked by BullMQ in the same step: a job retried meanwhile is refused.
      try {
        await failure.job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      } catch (error) {
        throw new ApiError('not_found', `document ${JSON.stringify(documentId)} is no longer failed`, {
          cause: error,
        });
      }
      request.log.info(
        { tenant: request.tenant, documentId, jobId: failure.job.id },
        'failed document retried',
      );
      return accepted(reply, QUEUES.ingest, { jobId: failure.job.id ?? '', replayed: false }, { documentId });
    },
  );
};

/** Whether a retry can still read the source: only spooled uploads go away. */
function sourceAvailable(source: { kind: string; path?: string }, uploadDir: string | null): boolean {
  if (source.kind !== 'path' || source.path === undefined) return true;
  if (uploadDir !== null && source.path.startsWith(uploadDir)) return existsSync(source.path);
  return true;
}
