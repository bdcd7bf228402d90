/**
 * Job payloads and results (versioned). Producers validate before enqueueing; workers validate
 * again before processing, because anything in Redis may have been written by another client.
 */
import { IngestSourceSchema } from '@quire/core';
import { z } from 'zod';

/** Tenants are short, safe identifiers: they end up in keys, filters and logs. */
export const TenantSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/,
    'tenant must be 1-64 characters of letters, digits, "_", "." or "-"',
  );

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what we refuse
const controlChars = /[\u0000-\u001f\u007f]/;

export const DocumentIdSchema = z
  .string()
  .min(1, 'documentId must not be empty')
  .max(256, 'documentId must be at most 256 characters')
  .refine((s) => !controlChars.test(s), 'documentId must not contain control characters');

export const MetadataSchema = z
  .record(
    z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9_.-]+$/, 'metadata keys are letters, digits, "_", "." or "-"'),
    z.union([z.string().max(1024), z.number().finite(), z.boolean()]),
  )
  .refine((m) => Object.keys(m).length <= 32, 'metadata has at most 32 keys');

export const ChunkingSchema = z
  .object({
    chunkSize: z.number().int().min(32).max(8192).optional(),
    chunkOverlap: z.number().int().min(0).max(4096).optional(),
  })
  .strict();

export const IngestJobDataSchema = z
  .object({
    v: z.literal(1),
    tenant: TenantSchema,
    documentId: DocumentIdSchema,
    source: IngestSourceSchema,
    /** Display name for citations; defaults to the file name of the source. */
    sourceName: z.string().min(1).max(512).optional(),
    metadata: MetadataSchema.optional(),
    /** Password of an encrypted PDF. Never logged. */
    password: z.string().max(1024).optional(),
    chunking: ChunkingSchema.optional(),
    /**
     * Per-document sequence number taken at enqueue time; a job whose number is below the last
     * applied one for its document is superseded and does nothing. Absent: no ordering check.
     */
    seq: z.number().int().nonnegative().optional(),
  })
  .strict();
export type IngestJobData = z.infer<typeof IngestJobDataSchema>;
export type IngestJobInput = Omit<IngestJobData, 'v' | 'seq'>;

export const DeleteJobDataSchema = z
  .object({
    v: z.literal(1),
    tenant: TenantSchema,
    documentId: DocumentIdSchema,
    seq: z.number().int().nonnegative().optional(),
  })
  .strict();
export type DeleteJobData = z.infer<typeof DeleteJobDataSchema>;
export type DeleteJobInput = Omit<DeleteJobData, 'v' | 'seq'>;

export const StageTimingsSchema = z.record(z.string(), z.number().nonnegative());

export const IngestResultSchema = z.object({
  v: z.literal(1),
  tenant: TenantSchema,
  documentId: DocumentIdSchema,
  /** What happened: stored a new version, found it already stored, or a later job for the document won. */
  outcome: z.enum(['ingested', 'skipped', 'superseded']),
  version: z.string().nullable(),
  sourceName: z.string().nullable(),
  kind: z.string().nullable(),
  pages: z.number().int().nullable(),
  chunks: z.number().int().nonnegative(),
  /** Chunks embedded by this run (fewer than `chunks` when an interrupted run is resumed). */
  chunksEmbedded: z.number().int().nonnegative(),
  tokens: z.number().int().nonnegative(),
  timingsMs: StageTimingsSchema,
  /**
   * Other documents of the tenant with the same content (the same file under another id): their
   * passages are collapsed at retrieval; delete the copy you do not want. Absent when none.
   */
  duplicateOf: z.array(DocumentIdSchema).optional(),
});
export type IngestResult = z.infer<typeof IngestResultSchema>;

export const DeleteResultSchema = z.object({
  v: z.literal(1),
  tenant: TenantSchema,
  documentId: DocumentIdSchema,
  outcome: z.enum(['deleted', 'superseded']),
});
export type DeleteResult = z.infer<typeof DeleteResultSchema>;

export const IngestProgressSchema = z.object({
  stage: z.enum(['waiting-for-document', 'loading', 'chunking', 'embedding', 'storing', 'cleanup', 'done']),
  pages: z.number().int().nullable().optional(),
  chunks: z.number().int().optional(),
  chunksEmbedded: z.number().int().optional(),
  batches: z.number().int().optional(),
  batchesDone: z.number().int().optional(),
});
export type IngestProgress = z.infer<typeof IngestProgressSchema>;

/** Formats a zod error as one line naming each wrong field. */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}
