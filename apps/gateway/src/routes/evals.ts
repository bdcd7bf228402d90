/** Evals: retrieval and answer quality measured on a set of questions with known answers. */
import {
  type EvalReport,
  type EvalStatus,
  evalReportToCsv,
  evalReportToJson,
  evalReportToMarkdown,
  QUEUES,
} from '@quire/jobs';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { fingerprint } from '../idempotency.js';
import {
  EvalExportQuerySchema,
  EvalListQuerySchema,
  EvalListSchema,
  EvalParamsSchema,
  EvalReportBodySchema,
  EvalStatusSchema,
  JobAcceptedSchema,
  SubmitEvalBodySchema,
} from '../schemas.js';
import {
  accepted,
  errorResponses,
  IdempotencyHeadersSchema,
  type RouteContext,
  type RouteOptions,
  requireRedis,
  SECURITY,
  submitJob,
} from './context.js';
import { completeReport, ownFlow, reportFile } from './flows.js';

const TAGS = ['evals'];

export const evalRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { ctx }) => {
  const { producer } = ctx.services;

  app.post(
    '/evals',
    {
      schema: {
        summary: 'Run a retrieval eval',
        description:
          "A BEIR-style set (corpus, queries, qrels by document id, optional gold answers): the corpus is ingested into the caller's tenant, every question runs through lexical search, dense search, their fusion and the reranker (and the answerer unless options.answers is false), and the report compares the stages (recall@1/5/10/20, MRR@10, nDCG@10), answer containment and not-found rates, and latency per stage. Without a corpus the tenant's documents are searched. cleanup deletes the corpus documents once the report is made.",
        tags: TAGS,
        security: SECURITY,
        headers: IdempotencyHeadersSchema,
        body: SubmitEvalBodySchema,
        response: {
          202: JobAcceptedSchema,
          ...errorResponses(
            'invalid_request',
            'unauthorized',
            'payload_too_large',
            'idempotency_key_mismatch',
            'unavailable',
          ),
        },
      },
    },
    async (request, reply) => {
      const { maxTokens, ...fields } = request.body;
      const submitted = await submitJob(ctx, request, {
        queue: QUEUES.eval,
        fingerprint: fingerprint({ route: 'evals', fields, maxTokens }),
        webhookUrl: undefined,
        enqueue: async (evalId) => {
          await producer.enqueueEval(
            { tenant: request.tenant, ...fields },
            { evalId, ...(maxTokens === undefined ? {} : { maxTokens }) },
          );
        },
      });
      return accepted(reply, QUEUES.eval, submitted, { evalId: submitted.jobId });
    },
  );

  app.get(
    '/evals',
    {
      schema: {
        summary: "The tenant's evals, newest first, with their state and progress",
        tags: TAGS,
        security: SECURITY,
        querystring: EvalListQuerySchema,
        response: {
          200: EvalListSchema,
          ...errorResponses('unauthorized', 'invalid_request', 'unavailable'),
        },
      },
    },
    async (request) => {
      requireRedis(ctx);
      const evals = await producer.listEvals(request.tenant, { limit: request.query.limit });
      return {
        evals: evals.map((status) => ({
          ...evalProgress(status),
          statusUrl: `/v1/evals/${encodeURIComponent(status.evalId)}`,
        })),
      };
    },
  );

  app.get(
    '/evals/:evalId',
    {
      schema: {
        summary: "An eval's state and progress",
        tags: TAGS,
        security: SECURITY,
        params: EvalParamsSchema,
        response: { 200: EvalStatusSchema, ...errorResponses('unauthorized', 'not_found', 'unavailable') },
      },
    },
    async (request) => {
      const status = await ownEval(ctx, request.tenant, request.params.evalId);
      const id = encodeURIComponent(status.evalId);
      return {
        ...evalProgress(status),
        reportUrl: `/v1/evals/${id}/report`,
        exportUrls: {
          markdown: `/v1/evals/${id}/export?format=markdown`,
          csv: `/v1/evals/${id}/export?format=csv`,
          json: `/v1/evals/${id}/export?format=json`,
        },
      };
    },
  );

  app.get(
    '/evals/:evalId/report',
    {
      schema: {
        summary: "A complete eval's report",
        tags: TAGS,
        security: SECURITY,
        params: EvalParamsSchema,
        response: {
          200: EvalReportBodySchema,
          ...errorResponses('unauthorized', 'not_found', 'not_ready', 'job_failed', 'unavailable'),
        },
      },
    },
    async (request) => reportOf(await ownEval(ctx, request.tenant, request.params.evalId)),
  );

  app.get(
    '/evals/:evalId/export',
    {
      schema: {
        summary: "A complete eval's report as Markdown, CSV (one row per question) or JSON",
        tags: TAGS,
        security: SECURITY,
        params: EvalParamsSchema,
        querystring: EvalExportQuerySchema,
        response: {
          200: {
            description: 'The report file',
            content: {
              'text/markdown': { schema: z.string() },
              'text/csv': { schema: z.string() },
              'application/json': { schema: z.string() },
            },
          },
          ...errorResponses('unauthorized', 'not_found', 'not_ready', 'job_failed', 'unavailable'),
        },
      },
    },
    async (request, reply) => {
      const report = reportOf(await ownEval(ctx, request.tenant, request.params.evalId));
      const { format, formulas } = request.query;
      const types = { markdown: 'text/markdown', csv: 'text/csv', json: 'application/json' } as const;
      const ext = { markdown: 'md', csv: 'csv', json: 'json' } as const;
      const body =
        format === 'csv'
          ? evalReportToCsv(report, { formulas })
          : format === 'json'
            ? evalReportToJson(report)
            : evalReportToMarkdown(report);
      return reportFile(reply, `eval-${report.evalId}.${ext[format]}`, types[format], body);
    },
  );
};

function ownEval(ctx: RouteContext, tenant: string, evalId: string): Promise<EvalStatus> {
  return ownFlow(ctx, tenant, 'eval', evalId, (id) => ctx.services.producer.getEval(id));
}

function reportOf(status: EvalStatus): EvalReport {
  const done = `${status.documentsDone} of ${status.documents} documents, ${status.questionsDone} of ${status.questions} questions done`;
  return completeReport(status, 'eval', status.evalId, done);
}

/** An eval's identity, state and progress, as both the list and the status route show them. */
function evalProgress(status: Omit<EvalStatus, 'report'>) {
  const { evalId, name, state, step, documents, documentsDone, questions, questionsDone, failedReason } =
    status;
  return { evalId, name, state, step, documents, documentsDone, questions, questionsDone, failedReason };
}
