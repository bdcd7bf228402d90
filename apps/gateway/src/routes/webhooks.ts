/** The tenant's webhook signing secret. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ApiError } from '../errors.js';
import { SigningSecretSchema } from '../schemas.js';
import { SIGNATURE_HEADER, SIGNATURE_SCHEME } from '../webhooks/index.js';
import { errorResponses, type RouteOptions, SECURITY } from './context.js';

export const webhookRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { ctx }) => {
  app.get(
    '/webhooks/signing-secret',
    {
      schema: {
        summary: "The key this tenant's webhook deliveries are signed with",
        tags: ['webhooks'],
        security: SECURITY,
        response: { 200: SigningSecretSchema, ...errorResponses('unauthorized', 'not_found') },
      },
    },
    async (request, reply) => {
      const secret = ctx.services.webhooks.secretFor(request.tenant);
      if (secret === null) throw new ApiError('not_found', 'webhooks are off on this gateway');
      reply.header('cache-control', 'no-store');
      return { secret, header: SIGNATURE_HEADER, scheme: SIGNATURE_SCHEME };
    },
  );
};
