/** Batches: many questions as one job, their status, report and exports. */
import {
  type BatchReport,
  type BatchStatus,
  batchReportToCsv,
  batchReportToJsonl,
  QUEUES,
} from '@quire/jobs';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { fingerprint } from '../idempotency.js';
import {
  BatchParamsSchema,
  BatchReportBodySchema,
  BatchStatusSchema,
  ExportQuerySchema,
  JobAcceptedSchema,
  SubmitBatchBodySchema,
} from '../schemas.js';
import {
  accepted,
  errorResponses,
  IdempotencyHeadersSchema,
  type RouteContext,
  type RouteOptions,
  SECURITY,
  submitJob,
} from './context.js';
import { completeReport, ownFlow, reportFile } from './flows.js';

const TAGS = ['batches'];

export const batchRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { ctx }) => {
  const { producer } = ctx.services;

  app.post(
    '/batches',
    {
      schema: {
        summary: 'Submit many questions as one batch',
        description: 'A failing question does not fail the batch: the report lists it with its reason.',
        tags: TAGS,
        security: SECURITY,
        headers: IdempotencyHeadersSchema,
        body: SubmitBatchBodySchema,
        response: {
          202: JobAcceptedSchema,
          ...errorResponses(
            'invalid_request',
            'unauthorized',
            'payload_too_large',
            'idempotency_key_mismatch',
            'webhook_refused',
            'too_many_requests',
            'unavailable',
          ),
        },
      },
    },
    async (request, reply) => {
      const { webhookUrl, ...fields } = request.body;
      const submitted = await submitJob(ctx, request, {
        queue: QUEUES.batch,
        fingerprint: fingerprint({ route: 'batches', fields, webhookUrl }),
        webhookUrl,
        jobs: fields.questions.length,
        enqueue: async (batchId) => {
          await producer.enqueueBatch({ tenant: request.tenant, ...fields }, { batchId });
        },
      });
      return accepted(reply, QUEUES.batch, submitted, { batchId: submitted.jobId });
    },
  );

  app.get(
    '/batches/:batchId',
    {
      schema: {
        summary: "A batch's state and counts",
        tags: TAGS,
        security: SECURITY,
        params: BatchParamsSchema,
        response: { 200: BatchStatusSchema, ...errorResponses('unauthorized', 'not_found', 'unavailable') },
      },
    },
    async (request) => {
      const batch = await ownBatch(ctx, request.tenant, request.params.batchId);
      const id = encodeURIComponent(batch.batchId);
      return {
        batchId: batch.batchId,
        name: batch.name,
        state: batch.state,
        total: batch.total,
        answered: batch.answered,
        failed: batch.failed,
        pending: batch.pending,
        failedReason: batch.failedReason,
        resultsUrl: `/v1/batches/${id}/results`,
        exportUrls: {
          jsonl: `/v1/batches/${id}/export?format=jsonl`,
          csv: `/v1/batches/${id}/export?format=csv`,
        },
      };
    },
  );

  app.get(
    '/batches/:batchId/results',
    {
      schema: {
        summary: "A complete batch's report: one item per question, in question order",
        tags: TAGS,
        security: SECURITY,
        params: BatchParamsSchema,
        response: {
          200: BatchReportBodySchema,
          ...errorResponses('unauthorized', 'not_found', 'not_ready', 'job_failed', 'unavailable'),
        },
      },
    },
    async (request) => reportOf(await ownBatch(ctx, request.tenant, request.params.batchId)),
  );

  app.get(
    '/batches/:batchId/export',
    {
      schema: {
        summary: "A complete batch's report as JSON Lines or CSV",
        description:
          'JSON Lines: one item per line, exact. CSV: columns index, id, question, ok, answer, not_found, reranked, rerank_error, citations (a JSON array), embed_ms, search_ms, rerank_ms, generate_ms, total_ms, error; text cells that a spreadsheet would run as formulas get a leading apostrophe unless formulas=keep.',
        tags: TAGS,
        security: SECURITY,
        params: BatchParamsSchema,
        querystring: ExportQuerySchema,
        response: {
          200: {
            description: 'The report file',
            content: {
              'application/x-ndjson': { schema: z.string() },
              'text/csv': { schema: z.string() },
            },
          },
          ...errorResponses('unauthorized', 'not_found', 'not_ready', 'job_failed', 'unavailable'),
        },
      },
    },
    async (request, reply) => {
      const report = reportOf(await ownBatch(ctx, request.tenant, request.params.batchId));
      const { format, formulas } = request.query;
      const name = `batch-${report.batchId}.${format}`;
      return format === 'csv'
        ? reportFile(reply, name, 'text/csv', batchReportToCsv(report, { formulas }))
        : reportFile(reply, name, 'application/x-ndjson', batchReportToJsonl(report));
    },
  );
};

function ownBatch(ctx: RouteContext, tenant: string, batchId: string): Promise<BatchStatus> {
  return ownFlow(ctx, tenant, 'batch', batchId, (id) => ctx.services.producer.getBatch(id));
}

function reportOf(batch: BatchStatus): BatchReport {
  const done = `${batch.answered + batch.failed} of ${batch.total} questions done`;
  return completeReport(batch, 'batch', batch.batchId, done);
}
