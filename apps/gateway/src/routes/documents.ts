/** Documents: submit (JSON or multipart upload), list, read one, delete. */
import { Readable } from 'node:stream';
import { base64DecodedLength, checkSourceShape, defaultTextName, type IngestSource } from '@quire/core';
import type { IngestJobInput, IngestOcr } from '@quire/jobs';
import { describeZodError, MetadataSchema, QUEUES } from '@quire/jobs';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import { ApiError } from '../errors.js';
import { fingerprint } from '../idempotency.js';
import {
  DocumentListQuerySchema,
  DocumentListSchema,
  DocumentParamsSchema,
  DocumentSummarySchema,
  JobAcceptedSchema,
  SubmitDocumentBodySchema,
  UploadFieldsSchema,
} from '../schemas.js';
import { type ReceivedFile, spooledPath, type UploadSpool } from '../uploads.js';
import {
  accepted,
  errorResponses,
  IdempotencyHeadersSchema,
  type RouteOptions,
  requireRedis,
  SECURITY,
  submitJob,
} from './context.js';

const TAGS = ['documents'];
const MAX_FIELDS = 20;

export const documentRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { ctx }) => {
  const { producer, store, uploads } = ctx.services;

  app.post(
    '/documents',
    {
      schema: {
        summary: 'Submit a document by URL, inline text or base64 content',
        tags: TAGS,
        security: SECURITY,
        headers: IdempotencyHeadersSchema,
        body: SubmitDocumentBodySchema,
        response: {
          202: JobAcceptedSchema,
          ...errorResponses(
            'invalid_request',
            'unauthorized',
            'payload_too_large',
            'webhook_refused',
            'too_many_requests',
            'unavailable',
          ),
        },
      },
    },
    async (request, reply) => {
      const { webhookUrl, ...fields } = request.body;
      // A large document goes to the upload directory, and the job carries its path: a job's data
      // lives in Redis for as long as the job is kept.
      const spooled = await spoolLargeSource(uploads, fields.source, ctx.env.uploads.inlineMaxBytes);
      const input: IngestJobInput = {
        tenant: request.tenant,
        ...fields,
        ...(spooled === null
          ? {}
          : { source: spooled.source, sourceName: fields.sourceName ?? spooled.file.name }),
      };
      try {
        const submitted = await submitJob(ctx, request, {
          queue: QUEUES.ingest,
          fingerprint: fingerprint({
            route: 'documents',
            fields: { ...fields, password: undefined },
            webhookUrl,
          }),
          webhookUrl,
          bytes: inlineBytes(fields.source),
          enqueue: async (jobId) => {
            if (spooled !== null) await uploads.register(spooled.file.path, jobId);
            await producer.enqueueIngest(input, { jobId });
          },
        });
        if (submitted.replayed && spooled !== null) await uploads.discard(spooled.file.path);
        return accepted(reply, QUEUES.ingest, submitted, { documentId: fields.documentId });
      } catch (error) {
        if (spooled !== null) await uploads.discard(spooled.file.path).catch(() => undefined);
        throw error;
      }
    },
  );

  app.post(
    '/documents/upload',
    {
      schema: {
        summary: 'Upload a document file (multipart/form-data, the file in a part named "file")',
        description:
          'Files up to the inline limit travel in the job itself; larger ones are spooled to the upload directory shared with the ingest workers. Text fields may come before or after the file.',
        tags: TAGS,
        security: SECURITY,
        consumes: ['multipart/form-data'],
        headers: IdempotencyHeadersSchema,
        response: {
          202: JobAcceptedSchema,
          ...errorResponses(
            'invalid_request',
            'unauthorized',
            'payload_too_large',
            'unsupported_media_type',
            'webhook_refused',
            'too_many_requests',
            'unavailable',
          ),
        },
      },
    },
    async (request, reply) => {
      if (!request.isMultipart()) {
        throw new ApiError(
          'unsupported_media_type',
          'send multipart/form-data with the file in a part named "file"',
        );
      }
      // Before reading a large body that could not be enqueued anyway.
      requireRedis(ctx);
      const { maxBytes } = ctx.env.uploads;
      const raw: Record<string, string> = {};
      let file: ReceivedFile | null = null;
      try {
        const parts = request.parts({
          // One byte over the limit, so that our own check names the limit.
          limits: {
            fileSize: maxBytes + 1,
            files: 1,
            fields: MAX_FIELDS,
            fieldSize: 64 * 1024,
            parts: MAX_FIELDS + 1,
          },
        });
        for await (const part of parts) {
          if (part.type === 'file') {
            if (part.fieldname !== 'file') {
              part.file.resume();
              throw new ApiError(
                'invalid_request',
                `the file must be in a part named "file", not "${part.fieldname}"`,
              );
            }
            file = await uploads.receive(part.file, part.filename, part.mimetype);
          } else {
            raw[part.fieldname] = String(part.value);
          }
        }
        if (file === null) throw new ApiError('invalid_request', 'no file: send it in a part named "file"');
        const received: ReceivedFile = file;
        const fields = uploadFields(raw);
        const documentId = fields.documentId ?? received.name;
        const input: IngestJobInput = {
          tenant: request.tenant,
          documentId,
          source:
            received.content.kind === 'inline'
              ? { kind: 'base64', data: received.content.data.toString('base64'), name: received.name }
              : { kind: 'path', path: received.content.path },
          // A spooled file's name on disk is not the caller's: cite the upload by its own name.
          sourceName: fields.sourceName ?? received.name,
          ...(fields.metadata ? { metadata: fields.metadata } : {}),
          ...(fields.password ? { password: fields.password } : {}),
          ...(fields.chunking ? { chunking: fields.chunking } : {}),
          ...(fields.force ? { force: true } : {}),
          ...(fields.ocr ? { ocr: fields.ocr } : {}),
        };
        const { webhookUrl } = fields;
        const submitted = await submitJob(ctx, request, {
          queue: QUEUES.ingest,
          fingerprint: fingerprint({
            route: 'documents/upload',
            documentId,
            fields: { ...fields, password: undefined, webhookUrl: undefined },
            file: { sha256: received.sha256, name: received.name },
            webhookUrl,
          }),
          webhookUrl,
          bytes: received.bytes,
          enqueue: async (jobId) => {
            const spooled = spooledPath(received);
            if (spooled !== null) await uploads.register(spooled, jobId);
            await producer.enqueueIngest(input, { jobId });
          },
        });
        // A replay's job reads the file of the first request: this copy is not needed.
        const spooled = spooledPath(received);
        if (submitted.replayed && spooled !== null) await uploads.discard(spooled);
        return accepted(reply, QUEUES.ingest, submitted, { documentId });
      } catch (error) {
        const spooled = spooledPath(file);
        if (spooled !== null) await uploads.discard(spooled).catch(() => undefined);
        throw error;
      }
    },
  );

  app.get(
    '/documents',
    {
      schema: {
        summary: "List the tenant's documents with their chunk counts and versions, a page at a time",
        tags: TAGS,
        security: SECURITY,
        querystring: DocumentListQuerySchema,
        response: {
          200: DocumentListSchema,
          ...errorResponses('invalid_request', 'unauthorized', 'unavailable'),
        },
      },
    },
    async (request) => {
      const { limit, after } = request.query;
      // One more than asked says whether there is a next page.
      const page = await (await store.get()).listDocuments(request.tenant, {
        limit: limit + 1,
        ...(after === undefined ? {} : { after }),
      });
      const documents = page.slice(0, limit);
      return { documents, next: page.length > limit ? documents.at(-1)!.documentId : null };
    },
  );

  app.get(
    '/documents/:documentId',
    {
      schema: {
        summary: 'One document of the tenant',
        tags: TAGS,
        security: SECURITY,
        params: DocumentParamsSchema,
        response: {
          200: DocumentSummarySchema,
          ...errorResponses('unauthorized', 'not_found', 'unavailable'),
        },
      },
    },
    async (request) => {
      const { documentId } = request.params;
      const [found] = await (await store.get()).listDocuments(request.tenant, { documentId });
      if (!found) throw new ApiError('not_found', `no document ${JSON.stringify(documentId)}`);
      return found;
    },
  );

  app.delete(
    '/documents/:documentId',
    {
      schema: {
        summary: "Delete a document's chunks (queued, ordered after the document's earlier jobs)",
        tags: TAGS,
        security: SECURITY,
        headers: IdempotencyHeadersSchema,
        params: DocumentParamsSchema,
        response: {
          202: JobAcceptedSchema,
          ...errorResponses('invalid_request', 'unauthorized', 'unavailable'),
        },
      },
    },
    async (request, reply) => {
      const { documentId } = request.params;
      const submitted = await submitJob(ctx, request, {
        queue: QUEUES.ingest,
        fingerprint: fingerprint({ route: 'documents/delete', documentId }),
        webhookUrl: undefined,
        enqueue: async (jobId) => {
          await producer.enqueueDelete({ tenant: request.tenant, documentId }, { jobId });
        },
      });
      return accepted(reply, QUEUES.ingest, submitted, { documentId });
    },
  );
};

/**
 * Writes a text or base64 document larger than `inlineMaxBytes` to the upload directory (413
 * without one), checked as an upload is; null when it may travel in the job.
 */
async function spoolLargeSource(
  uploads: UploadSpool,
  source: IngestSource,
  inlineMaxBytes: number,
): Promise<{ source: IngestSource; file: { path: string; name: string } } | null> {
  if (inlineBytes(source) <= inlineMaxBytes) return null;
  let bytes: Buffer;
  let name: string;
  if (source.kind === 'base64') {
    checkSourceShape(source);
    bytes = Buffer.from(source.data, 'base64');
    name = source.name;
  } else if (source.kind === 'text') {
    bytes = Buffer.from(source.text, 'utf8');
    name = source.name ?? defaultTextName(source.mediaType);
  } else {
    return null;
  }
  const received = await uploads.receive(Readable.from([bytes]), name, 'application/octet-stream');
  const path = spooledPath(received);
  if (path === null) return null;
  return { source: { kind: 'path', path }, file: { path, name: received.name } };
}

/** Bytes of a document carried in the request (URL sources are read, and bounded, by the worker). */
function inlineBytes(source: IngestSource): number {
  if (source.kind === 'text') return Buffer.byteLength(source.text, 'utf8');
  if (source.kind === 'base64') return base64DecodedLength(source.data);
  return 0;
}

interface ParsedUploadFields {
  documentId: string | undefined;
  sourceName: string | undefined;
  metadata: z.infer<typeof MetadataSchema> | undefined;
  password: string | undefined;
  chunking: { chunkSize?: number; chunkOverlap?: number } | undefined;
  force: boolean;
  ocr: IngestOcr | undefined;
  webhookUrl: string | undefined;
}

function uploadFields(raw: Record<string, string>): ParsedUploadFields {
  const parsed = UploadFieldsSchema.safeParse(raw);
  if (!parsed.success)
    throw new ApiError('invalid_request', `invalid upload field: ${describeZodError(parsed.error)}`);
  const f = parsed.data;
  let metadata: z.infer<typeof MetadataSchema> | undefined;
  if (f.metadata !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(f.metadata);
    } catch {
      throw new ApiError('invalid_request', 'invalid upload field: metadata: not valid JSON');
    }
    const meta = MetadataSchema.safeParse(json);
    if (!meta.success)
      throw new ApiError(
        'invalid_request',
        `invalid upload field: metadata: ${describeZodError(meta.error)}`,
      );
    metadata = meta.data;
  }
  const chunking =
    f.chunkSize === undefined && f.chunkOverlap === undefined
      ? undefined
      : {
          ...(f.chunkSize === undefined ? {} : { chunkSize: f.chunkSize }),
          ...(f.chunkOverlap === undefined ? {} : { chunkOverlap: f.chunkOverlap }),
        };
  return {
    documentId: f.documentId,
    sourceName: f.sourceName,
    metadata,
    password: f.password,
    chunking,
    force: f.force === 'true',
    ocr:
      f.ocr === undefined && f.ocrLangs === undefined
        ? undefined
        : {
            ...(f.ocr === undefined ? {} : { mode: f.ocr }),
            ...(f.ocrLangs === undefined ? {} : { langs: f.ocrLangs.split(',') }),
          },
    webhookUrl: f.webhookUrl,
  };
}
