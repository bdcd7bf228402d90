/** Jobs of any queue: status, and progress as server-sent events. */
import { PassThrough, type Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { JobEvent } from '../job-events.js';
import { readOutcome } from '../job-wait.js';
import { JobParamsSchema, JobStatusSchema } from '../schemas.js';
import { errorResponses, ownJob, type RouteOptions, SECURITY, statusBody } from './context.js';

const TAGS = ['jobs'];

export const jobRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { ctx }) => {
  const { producer, events } = ctx.services;

  app.get(
    '/jobs/:queue/:jobId',
    {
      schema: {
        summary: "A job's state, progress and result",
        tags: TAGS,
        security: SECURITY,
        params: JobParamsSchema,
        response: { 200: JobStatusSchema, ...errorResponses('unauthorized', 'not_found', 'unavailable') },
      },
    },
    async (request) => {
      const { queue, jobId } = request.params;
      return statusBody(await ownJob(ctx, request.tenant, queue, jobId));
    },
  );

  app.get(
    '/jobs/:queue/:jobId/events',
    {
      schema: {
        summary: "A job's progress as server-sent events",
        description:
          'First a `state` event (the job as it is now), then `progress` events in the order the worker reported them, then `completed` (with the result) or `failed` (with the reason), after which the stream ends. Comment lines keep the connection alive.',
        tags: TAGS,
        security: SECURITY,
        params: JobParamsSchema,
        response: {
          200: { description: 'An event stream', content: { 'text/event-stream': { schema: z.string() } } },
          ...errorResponses('unauthorized', 'not_found', 'unavailable'),
        },
      },
    },
    async (request, reply) => {
      const { queue, jobId } = request.params;
      const stream = new PassThrough();
      let seq = 0;
      let ended = false;
      let live = false;
      const buffered: JobEvent[] = [];

      const send = (event: string, data: unknown) => {
        if (ended) return;
        seq += 1;
        stream.write(`id: ${seq}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      };
      const relay = (event: JobEvent) => {
        if (event.type === 'progress') send('progress', { jobId, progress: event.progress });
        else if (event.type === 'completed') {
          send('completed', { jobId, result: event.result });
          end();
        } else {
          send('failed', { jobId, failedReason: event.failedReason });
          end();
        }
      };
      // Follow before reading the job, so nothing between the read and the first event is lost.
      const unfollow = events.follow(queue, jobId, (event) => {
        if (live) relay(event);
        else buffered.push(event);
      });
      const heartbeat = setInterval(() => {
        if (ended) return;
        stream.write(': keep-alive\n\n');
        void recheck();
      }, ctx.env.sseHeartbeatMs);
      heartbeat.unref();
      const end = () => {
        if (ended) return;
        ended = true;
        unfollow();
        clearInterval(heartbeat);
        ctx.closing.delete(end);
        stream.end();
      };
      // A finish whose event was missed (a reader reconnecting) still ends the stream.
      const recheck = async () => {
        const outcome = await readOutcome(producer.queue(queue), jobId).catch(() => undefined);
        if (!outcome || ended) return;
        if (outcome.state === 'completed') relay({ type: 'completed', queue, jobId, result: outcome.result });
        else if (outcome.state === 'failed')
          relay({ type: 'failed', queue, jobId, failedReason: outcome.failedReason });
      };

      let status: Awaited<ReturnType<typeof ownJob>>;
      try {
        status = await ownJob(ctx, request.tenant, queue, jobId);
      } catch (error) {
        end();
        throw error;
      }
      ctx.closing.add(end);
      reply.raw.once('close', end);
      send('state', { jobId, state: status.state, progress: status.progress ?? null });
      if (status.state === 'completed') relay({ type: 'completed', queue, jobId, result: status.result });
      else if (status.state === 'failed') {
        relay({ type: 'failed', queue, jobId, failedReason: status.failedReason ?? 'failed' });
      } else {
        live = true;
        for (const event of buffered.splice(0)) if (!ended) relay(event);
      }
      return sendEventStream(reply, stream);
    },
  );
};

/** Sends an event stream; typed apart because the route's documented 200 body is the stream's text. */
function sendEventStream(reply: FastifyReply, stream: Readable): FastifyReply {
  return (
    reply
      .header('content-type', 'text/event-stream; charset=utf-8')
      .header('cache-control', 'no-cache, no-transform')
      // Proxies such as nginx would otherwise hold events back in their buffer.
      .header('x-accel-buffering', 'no')
      .send(stream)
  );
}
