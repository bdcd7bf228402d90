/** Operations: liveness, readiness and Prometheus metrics (no API key: probes and scrapers call them). */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { HealthSchema, ReadinessSchema } from '../schemas.js';
import type { RouteOptions } from './context.js';

const TAGS = ['operations'];
const READYZ_TENANT = 'quire-readyz';

export const opsRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { ctx }) => {
  const { redis, store, metrics } = ctx.services;

  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Liveness: the process is up',
        tags: TAGS,
        response: { 200: HealthSchema },
      },
    },
    async () => ({ ok: true }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Readiness: Redis and the vector store answer',
        tags: TAGS,
        response: { 200: ReadinessSchema, 503: ReadinessSchema },
      },
    },
    async (_request, reply) => {
      const [redisCheck, storeCheck] = await Promise.all([
        check(async () => {
          if (redis.status !== 'ready') throw new Error(`connection ${redis.status}`);
          await redis.ping();
        }),
        check(async () => {
          // A read inside a tenant nobody has: cheap, and it goes all the way to the store.
          await (await store.get()).listDocuments(READYZ_TENANT, { signal: AbortSignal.timeout(2_000) });
        }),
      ]);
      const ok = redisCheck.ok && storeCheck.ok;
      reply.code(ok ? 200 : 503);
      return { ok, checks: { redis: redisCheck, store: storeCheck } };
    },
  );

  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics: HTTP requests, queue depth per queue and state, process',
        tags: TAGS,
        response: {
          200: { description: 'Prometheus text format', content: { 'text/plain': { schema: z.string() } } },
        },
      },
    },
    async (_request, reply) => {
      const { contentType, body } = await metrics.render(ctx.services.queues(), redis.status === 'ready');
      reply.header('content-type', contentType);
      return body;
    },
  );
};

async function check(probe: () => Promise<void>): Promise<{ ok: boolean; error?: string }> {
  const timeout = new Promise<never>((_, reject) => {
    setTimeout(() => reject(new Error('no answer within 2000 ms')), 2_000).unref();
  });
  try {
    await Promise.race([probe(), timeout]);
    return { ok: true };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}
