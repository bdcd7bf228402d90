/**
 * Operations: liveness, readiness and Prometheus metrics. Liveness is cheap and open. Readiness
 * and metrics name every queue's depth (all tenants together), so on the API port they take the
 * admin key; the ops port (METRICS_PORT), which no Service or ingress exposes, serves them open
 * to probes and scrapers.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { keyMatches, presentedKey } from '../auth.js';
import type { GatewayEnv } from '../env.js';
import { ApiError, errorBody } from '../errors.js';
import { HealthSchema, ReadinessSchema } from '../schemas.js';
import type { RouteOptions } from './context.js';

const TAGS = ['operations'];
const READYZ_TENANT = 'quire-readyz';

export interface OpsRouteOptions extends RouteOptions {
  /** `admin`: readiness and metrics take the admin key (the API port); `open`: the ops port. */
  access: 'admin' | 'open';
}

/**
 * Refuses a request without the admin key (Bearer, X-API-Key or Basic, so that a browser can
 * prompt for it); answers and returns false then.
 */
export function checkAdminKey(env: GatewayEnv, request: FastifyRequest, reply: FastifyReply): boolean {
  const key = presentedKey(request.headers, { basic: true });
  if (env.adminKeySha256 !== null && key !== null && keyMatches(env.adminKeySha256, key)) return true;
  const message =
    env.adminKeySha256 === null
      ? 'closed: no admin key is configured (QUIRE_ADMIN_KEY_SHA256)'
      : 'the admin key is required';
  reply
    .code(401)
    .header('www-authenticate', 'Basic realm="quire-admin", charset="UTF-8"')
    .send(errorBody(new ApiError('unauthorized', message), request.id));
  return false;
}

export const opsRoutes: FastifyPluginAsyncZod<OpsRouteOptions> = async (app, { ctx, access }) => {
  const { redis, store, metrics } = ctx.services;
  const guarded = access === 'admin';
  const onRequest = async (request: FastifyRequest, reply: FastifyReply) => {
    if (guarded && !checkAdminKey(ctx.env, request, reply)) return reply;
  };
  const guardNote = guarded ? ' Takes the admin key here; served open on the ops port (METRICS_PORT).' : '';

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
        description: `Readiness for load balancers and Kubernetes.${guardNote}`,
        tags: TAGS,
        response: { 200: ReadinessSchema, 503: ReadinessSchema },
      },
      onRequest,
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
        description: `Every queue's depth, all tenants together.${guardNote}`,
        tags: TAGS,
        response: {
          200: { description: 'Prometheus text format', content: { 'text/plain': { schema: z.string() } } },
        },
      },
      onRequest,
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
