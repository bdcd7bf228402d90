/** Identifiers and small shapes shared by every payload. */
import * as z from 'zod';

/** Tenants are short, safe identifiers: they end up in keys, filters and logs. */
export const TenantSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/,
    'tenant must be 1-64 characters of letters, digits, "_", "." or "-"',
  );

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what we refuse
export const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

export const DocumentIdSchema = z
  .string()
  .min(1, 'documentId must not be empty')
  .max(256, 'documentId must be at most 256 characters')
  .refine((s) => !CONTROL_CHARS.test(s), 'documentId must not contain control characters');

export type MetadataValue = string | number | boolean;
export type Metadata = Record<string, MetadataValue>;

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

/** Chunk size and overlap in tokens. */
export const ChunkingSchema = z
  .object({
    chunkSize: z.number().int().min(32).max(8192).optional(),
    chunkOverlap: z.number().int().min(0).max(4096).optional(),
  })
  .strict();

/** Milliseconds per named stage. */
export const StageTimingsSchema = z.record(z.string(), z.number().nonnegative());

/** Formats a zod error as one line naming each wrong field. */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}
