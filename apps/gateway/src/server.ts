/**
 * The gateway's HTTP server, built apart from `listen` so that tests can run it in-process:
 * `/v1` (API key → tenant), operations (`/healthz`, `/readyz`, `/metrics`), the OpenAPI document
 * and its interactive docs (`/docs`), the operator console (`/console/`, on the `/v1` routes with
 * the operator's API key), and the queue dashboard (`/admin/queues`, admin key).
 */
import { randomUUID } from 'node:crypto';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import fastifyMultipart from '@fastify/multipart';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { QUEUES, redactJobData } from '@quire/jobs';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
  LogController,
} from 'fastify';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { z } from 'zod';
import { presentedKey, tenantForKey } from './auth.js';
import { consoleRoutes } from './console.js';
import type { GatewayEnv } from './env.js';
import { ApiError, errorBody, toApiError, UnavailableError } from './errors.js';
import { batchRoutes } from './routes/batches.js';
import type { RouteContext } from './routes/context.js';
import { documentRoutes } from './routes/documents.js';
import { evalRoutes } from './routes/evals.js';
import { failedDocumentRoutes } from './routes/failed-documents.js';
import { jobRoutes } from './routes/jobs.js';
import { checkAdminKey, opsRoutes } from './routes/ops.js';
import { queryRoutes } from './routes/queries.js';
import { webhookRoutes } from './routes/webhooks.js';
import { UploadFieldsSchema } from './schemas.js';
import type { GatewayServices } from './services.js';

export interface ServerDeps {
  env: GatewayEnv;
  logger: Logger;
  services: GatewayServices;
  /** Shown in the OpenAPI document. */
  version: string;
}

export type GatewayServer = FastifyInstance;

const UPLOAD_URL = '/v1/documents/upload';
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export async function createServer(deps: ServerDeps): Promise<GatewayServer> {
  const { env, services } = deps;
  const loggerInstance: FastifyBaseLogger = deps.logger;
  const app = Fastify({
    loggerInstance,
    bodyLimit: env.bodyLimitBytes,
    trustProxy: env.trustProxy,
    // A caller's X-Request-Id is kept when it is a plain token, so logs can be joined across services.
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorateRequest('tenant', '');
  // Bodies are JSON or multipart: anything else is a 415, not a body that fails validation.
  app.removeContentTypeParser('text/plain');

  const ctx: RouteContext = { env, services, closing: new Set() };

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    services.metrics.httpRequest(
      request.method,
      request.routeOptions.url ?? 'unmatched',
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
  });
  // Open event streams and waiting requests would keep the server from closing.
  app.addHook('preClose', async () => {
    for (const end of [...ctx.closing]) end();
  });

  app.setErrorHandler((error, request, reply) => {
    const apiError =
      (error as { code?: unknown }).code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? new ApiError(
            'payload_too_large',
            `the request body is larger than the limit of ${env.bodyLimitBytes} bytes; send larger documents as multipart uploads (POST ${UPLOAD_URL})`,
          )
        : toApiError(error);
    if (apiError.status >= 500) {
      request.log.error({ err: apiError.cause ?? error, code: apiError.code }, apiError.message);
    } else {
      request.log.info({ code: apiError.code, message: apiError.message }, 'request refused');
    }
    if (apiError.code === 'unauthorized' && !reply.hasHeader('www-authenticate')) {
      reply.header('www-authenticate', 'Bearer realm="quire"');
    }
    if (apiError.retryAfterSeconds !== undefined)
      reply.header('retry-after', String(apiError.retryAfterSeconds));
    const send = () => reply.code(apiError.status).send(errorBody(apiError, request.id));
    // A body refused before it was read (too large, or refused by a hook) is read to its end and
    // dropped, so the client, still writing, gets the answer instead of a broken pipe. A body
    // somebody reads (a multipart parser) is left to its reader.
    const raw = request.raw;
    if (raw.complete || raw.destroyed || raw.listenerCount('data') > 0) return send();
    return drainBody(request, env.drainLimitBytes).then((drained) => {
      if (!drained) reply.header('connection', 'close');
      return send();
    });
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send(
        errorBody(
          new ApiError('not_found', `no route ${request.method} ${request.url.split('?')[0]}`),
          request.id,
        ),
      ),
  );

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Quire gateway',
        version: deps.version,
        description:
          'Documents in, answers out, as queued work. Every `/v1` route takes an API key (`Authorization: Bearer <key>` or `X-API-Key: <key>`); the key decides the tenant.',
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer' },
          apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        },
      },
      tags: [
        { name: 'documents' },
        { name: 'queries' },
        { name: 'batches' },
        { name: 'evals', description: 'Retrieval and answer quality on questions with known answers' },
        { name: 'jobs' },
        { name: 'webhooks' },
        { name: 'operations' },
      ],
    },
    transform: (document) => {
      if (document.url.startsWith('/admin')) return { schema: { hide: true }, url: document.url };
      const transformed = jsonSchemaTransform(document);
      // The upload's body is read as a stream, not validated by Fastify; it is described here.
      if (document.url === UPLOAD_URL)
        return { ...transformed, schema: { ...transformed.schema, body: uploadBody() } };
      return transformed;
    },
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  await app.register(fastifyMultipart, {
    limits: { fileSize: env.uploads.maxBytes + 1, files: 1 },
  });

  await app.register(opsRoutes, { ctx, access: 'admin' });
  await app.register(consoleRoutes);
  await app.register(async (admin) => adminRoutes(admin, deps), { prefix: '/admin/queues' });
  await app.register(
    async (v1) => {
      v1.addHook('onRequest', async (request) => {
        request.tenant = authenticate(env, request);
      });
      await v1.register(documentRoutes, { ctx });
      await v1.register(failedDocumentRoutes, { ctx });
      await v1.register(queryRoutes, { ctx });
      await v1.register(batchRoutes, { ctx });
      await v1.register(evalRoutes, { ctx });
      await v1.register(jobRoutes, { ctx });
      await v1.register(webhookRoutes, { ctx });
    },
    { prefix: '/v1' },
  );
  if (env.apiKeys.length === 0)
    deps.logger.warn('no API keys configured (QUIRE_API_KEYS): every /v1 request is refused');
  return app;
}

/** Time allowed to read and drop a refused body before answering anyway. */
const DRAIN_TIMEOUT_MS = 30_000;

/**
 * Reads and drops the rest of a request's body, up to `limit` bytes and {@link DRAIN_TIMEOUT_MS};
 * false when it was longer or slower (the connection is then closed after the answer).
 */
function drainBody(request: FastifyRequest, limit: number): Promise<boolean> {
  const raw = request.raw;
  const declared = Number(raw.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve(false);
  return new Promise((resolve) => {
    let seen = 0;
    const finish = (drained: boolean) => {
      clearTimeout(timer);
      raw.off('data', onData);
      raw.off('end', onEnd);
      raw.off('error', onError);
      raw.off('close', onError);
      resolve(drained);
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.byteLength;
      if (seen > limit) finish(false);
    };
    const onEnd = () => finish(true);
    const onError = () => finish(false);
    const timer = setTimeout(() => finish(false), DRAIN_TIMEOUT_MS);
    timer.unref();
    raw.on('data', onData);
    raw.once('end', onEnd);
    raw.once('error', onError);
    raw.once('close', onError);
    raw.resume();
  });
}

function authenticate(env: GatewayEnv, request: FastifyRequest): string {
  const key = presentedKey(request.headers);
  if (key === null) {
    throw new ApiError(
      'unauthorized',
      'an API key is required: send "Authorization: Bearer <key>" or "X-API-Key: <key>"',
    );
  }
  const tenant = tenantForKey(env.apiKeys, key);
  if (tenant === null) throw new ApiError('unauthorized', 'unknown API key');
  return tenant;
}

/**
 * The ops port's server (METRICS_PORT): liveness, readiness and metrics without a key, for probes
 * and scrapers inside the cluster. Nothing else is served there.
 */
export async function createOpsServer(deps: ServerDeps): Promise<GatewayServer> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    disableRequestLogging: true,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await app.register(opsRoutes, {
    ctx: { env: deps.env, services: deps.services, closing: new Set<() => void>() },
    access: 'open',
  });
  return app;
}

/** Bull Board for every queue, behind the admin key (Basic auth too, so a browser can prompt for it). */
async function adminRoutes(admin: FastifyInstance, deps: ServerDeps): Promise<void> {
  const { env, services } = deps;
  admin.addHook('onRequest', async (request, reply) => {
    if (!checkAdminKey(env, request, reply)) return reply;
    // The dashboard reads the queues on every call: without Redis it has nothing to show.
    if (services.redis.status !== 'ready') {
      reply
        .code(503)
        .header('retry-after', '5')
        .send(errorBody(new UnavailableError('the queue (Redis)'), request.id));
      return reply;
    }
  });
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath('/admin/queues');
  createBullBoard({
    queues: services.queues().map((queue) => {
      // Ingest jobs are shown without their secrets, and cannot be edited: an edit would save the
      // redacted view over the sealed secrets. Retrying stays possible.
      const ingest = queue.name === QUEUES.ingest;
      const adapter = new BullMQAdapter(queue, ingest ? { readOnlyMode: true, allowRetries: true } : {});
      adapter.setFormatter('data', redactJobData);
      return adapter;
    }),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Quire queues' } },
  });
  await admin.register(serverAdapter.registerPlugin());
}

/** JSON Schema of the multipart upload, for the OpenAPI document only. */
function uploadBody(): Record<string, unknown> {
  const fields = z.toJSONSchema(UploadFieldsSchema, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, unknown>;
  };
  return {
    type: 'object',
    required: ['file'],
    properties: {
      file: { type: 'string', format: 'binary', description: 'The document file' },
      ...fields.properties,
    },
  };
}
