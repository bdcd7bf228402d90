/** Questions: asynchronous (202 + job) or waiting for the answer within a deadline. */
import { QUEUES, type QueryJobInput, QueryResultSchema } from '@quire/jobs';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ApiError } from '../errors.js';
import { fingerprint } from '../idempotency.js';
import { waitForJob } from '../job-wait.js';
import { AnswerSchema, AskBodySchema, AskQuerySchema, JobAcceptedSchema } from '../schemas.js';
import {
  accepted,
  errorResponses,
  IdempotencyHeadersSchema,
  type RouteOptions,
  SECURITY,
  submitJob,
} from './context.js';

export const queryRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { ctx }) => {
  const { producer, events } = ctx.services;

  app.post(
    '/queries',
    {
      schema: {
        summary: "Ask a question about the tenant's documents",
        description:
          'Without `wait`: 202 with the job. With `wait` (body field or `?wait=true`): 200 with the answer, or 202 with the job when it is not ready within `waitMs` (capped by the server).',
        tags: ['queries'],
        security: SECURITY,
        headers: IdempotencyHeadersSchema,
        querystring: AskQuerySchema,
        body: AskBodySchema,
        response: {
          200: AnswerSchema,
          202: JobAcceptedSchema,
          ...errorResponses(
            'invalid_request',
            'unauthorized',
            'idempotency_key_mismatch',
            'job_failed',
            'too_many_requests',
            'unavailable',
          ),
        },
      },
    },
    async (request, reply) => {
      const { wait: bodyWait, waitMs: bodyWaitMs, webhookUrl, ...fields } = request.body;
      const input: QueryJobInput = { tenant: request.tenant, ...fields };
      const submitted = await submitJob(ctx, request, {
        queue: QUEUES.query,
        fingerprint: fingerprint({ route: 'queries', fields, webhookUrl }),
        webhookUrl,
        enqueue: async (jobId) => {
          await producer.enqueueQuery(input, { jobId });
        },
      });
      const wait = request.query.wait ?? bodyWait ?? false;
      if (!wait) return accepted(reply, QUEUES.query, submitted);

      const timeoutMs = Math.min(
        request.query.waitMs ?? bodyWaitMs ?? ctx.env.wait.defaultMs,
        ctx.env.wait.maxMs,
      );
      // The wait ends early, answering 202, when the client goes away or the server closes.
      const gone = new AbortController();
      const onClose = () => gone.abort();
      reply.raw.once('close', onClose);
      ctx.closing.add(onClose);
      try {
        const outcome = await waitForJob(
          events,
          producer.queue(QUEUES.query),
          QUEUES.query,
          submitted.jobId,
          {
            timeoutMs,
            signal: gone.signal,
          },
        );
        if (outcome.state === 'completed') {
          // The result comes from Redis, written by a worker: checked like any outside input.
          const result = QueryResultSchema.safeParse(outcome.result);
          if (!result.success)
            throw new ApiError('internal', `query job ${submitted.jobId} has a malformed result`);
          reply.code(200);
          return { jobId: submitted.jobId, state: 'completed' as const, result: result.data };
        }
        if (outcome.state === 'failed') {
          throw new ApiError('job_failed', `query job ${submitted.jobId} failed: ${outcome.failedReason}`);
        }
        return accepted(reply, QUEUES.query, submitted);
      } finally {
        reply.raw.off('close', onClose);
        ctx.closing.delete(onClose);
      }
    },
  );
};
