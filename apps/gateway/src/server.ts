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
import { keyMatches, presentedKey, tenantForKey } from './auth.js';
import { consoleRoutes } from './console.js';
import type { GatewayEnv } from './env.js';
import { ApiError, errorBody, toApiError } from './errors.js';
import { batchRoutes } from './routes/batches.js';
import type { RouteContext } from './routes/context.js';
import { documentRoutes } from './routes/documents.js';
import { failedDocumentRoutes } from './routes/failed-documents.js';
import { jobRoutes } from './routes/jobs.js';
import { opsRoutes } from './routes/ops.js';
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
    const apiError = toApiError(error);
    if (apiError.status >= 500) {
      request.log.error({ err: apiError.cause ?? error, code: apiError.code }, apiError.message);
    } else {
      request.log.info({ code: apiError.code, message: apiError.message }, 'request refused');
    }
    if (apiError.code === 'unauthorized' && !reply.hasHeader('www-authenticate')) {
      reply.header('www-authenticate', 'Bearer realm="quire"');
    }
    return reply.code(apiError.status).send(errorBody(apiError, request.id));
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

  await app.register(opsRoutes, { ctx });
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
      await v1.register(jobRoutes, { ctx });
      await v1.register(webhookRoutes, { ctx });
    },
    { prefix: '/v1' },
  );
  if (env.apiKeys.length === 0)
    deps.logger.warn('no API keys configured (QUIRE_API_KEYS): every /v1 request is refused');
  return app;
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

/** Bull Board for every queue, behind the admin key (Basic auth too, so a browser can prompt for it). */
async function adminRoutes(admin: FastifyInstance, deps: ServerDeps): Promise<void> {
  const { env, services } = deps;
  admin.addHook('onRequest', async (request, reply) => {
    const key = presentedKey(request.headers, { basic: true });
    if (env.adminKeySha256 !== null && key !== null && keyMatches(env.adminKeySha256, key)) return;
    const message =
      env.adminKeySha256 === null
        ? 'the dashboard is closed: no admin key is configured (QUIRE_ADMIN_KEY_SHA256)'
        : 'the admin key is required';
    reply
      .code(401)
      .header('www-authenticate', 'Basic realm="quire-admin", charset="UTF-8"')
      .send(errorBody(new ApiError('unauthorized', message), request.id));
    return reply;
  });
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath('/admin/queues');
  createBullBoard({
    queues: services.queues().map((queue) => new BullMQAdapter(queue)),
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
