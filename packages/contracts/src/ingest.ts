/**
 * Document job payloads (ingest, delete), results and progress. Producers validate before
 * enqueueing; workers validate again before processing, because anything in Redis may have been
 * written by another client. See the README for how versions (`v`) evolve.
 */
import * as z from 'zod';
import {
  ChunkingSchema,
  DocumentIdSchema,
  MetadataSchema,
  StageTimingsSchema,
  TenantSchema,
} from './common.js';
import { IngestSourceSchema } from './sources.js';
import { payloadVersion } from './version.js';

/** The per-document sequence number taken at enqueue time (see the SDK's document ordering). */
const SeqSchema = z.number().int().nonnegative();

export const IngestJobDataSchema = z
  .object({
    v: payloadVersion(1),
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
    seq: SeqSchema.optional(),
  })
  .strict();
export type IngestJobData = z.infer<typeof IngestJobDataSchema>;

/**
 * A job's OCR settings (scanned PDF pages, image files), over the worker's own (`QUIRE_OCR`,
 * `QUIRE_OCR_LANGS`, `QUIRE_OCR_MIN_CONFIDENCE`).
 */
export const IngestOcrSchema = z
  .object({
    /** `auto`: pages without text and images; `force`: every page; `off`: none. */
    mode: z.enum(['auto', 'off', 'force']).optional(),
    /** Tesseract language names, combined on each page (`["eng", "fra"]`); each must be installed on the workers. */
    langs: z
      .array(
        z.string().regex(/^[A-Za-z][A-Za-z0-9_]{1,31}$/, 'a Tesseract language name such as eng or chi_sim'),
      )
      .min(1)
      .max(8)
      .optional(),
    /** Mean word confidence (0–100) under which a page is kept but flagged `ocrLowConfidence`. */
    minConfidence: z.number().min(0).max(100).optional(),
  })
  .strict();
export type IngestOcr = z.infer<typeof IngestOcrSchema>;

/** What a caller gives to enqueue an ingestion (the SDK adds `v` and `seq`). */
export type IngestJobInput = Omit<IngestJobData, 'v' | 'seq'> & {
  /**
   * Re-extract and re-store the document even when its version is already stored; a job that
   * sets it is written as version 3.
   */
  force?: boolean;
  /** The job's OCR settings; a job that sets them is written as version 3. */
  ocr?: IngestOcr;
};

/** A sealed box of job secrets (AES-256-GCM); see `secrets.ts` in `@quire/jobs`. */
export const SealedSecretsSchema = z
  .object({
    alg: z.literal('A256GCM'),
    /** Id of the key it was sealed with (`QUIRE_SECRET_KEYS`). */
    kid: z.string().regex(/^[A-Za-z0-9_.-]{1,32}$/),
    iv: z.base64(),
    tag: z.base64(),
    data: z.base64(),
  })
  .strict();
export type SealedSecrets = z.infer<typeof SealedSecretsSchema>;

/** What a sealed box holds. */
export const IngestSecretsSchema = z
  .object({
    /** Password of an encrypted PDF. */
    password: z.string().max(1024).optional(),
    /** The source URL in full, when it carries credentials or a query. */
    url: z.string().max(8192).optional(),
  })
  .strict();
export type IngestSecrets = z.infer<typeof IngestSecretsSchema>;

/**
 * Version 2 of the ingest payload: what producers enqueue when a job has secrets (a PDF password,
 * a source URL with credentials or a query). No `password`; the source URL is its public part
 * (scheme, host, path); both travel sealed in `sealed`, bound to the tenant and document, which
 * the worker removes once the job has ended for good. Jobs without secrets stay version 1.
 */
export const IngestJobDataV2Schema = IngestJobDataSchema.omit({ v: true, password: true })
  .extend({
    v: z.literal(2),
    /** The job's secrets, sealed; absent once the job has ended for good. */
    sealed: SealedSecretsSchema.optional(),
  })
  .strict();
export type IngestJobDataV2 = z.infer<typeof IngestJobDataV2Schema>;

/**
 * Version 3 of the ingest payload: version 2 (secrets sealed in `sealed` when there are any) plus
 * `force` and `ocr`. Producers write it only for a job that sets one of them (older workers refuse
 * such a job rather than skip a forced document as unchanged or read it without its OCR settings),
 * so other jobs stay readable by workers of earlier releases.
 */
export const IngestJobDataV3Schema = IngestJobDataV2Schema.omit({ v: true })
  .extend({
    v: z.literal(3),
    /**
     * Extract, chunk, embed and store the document again even when this version is already
     * stored: for fixes that reach documents already ingested. Default false.
     */
    force: z.boolean().optional(),
    ocr: IngestOcrSchema.optional(),
  })
  .strict();
export type IngestJobDataV3 = z.infer<typeof IngestJobDataV3Schema>;

/** Any ingest payload a worker takes: version 1 (secrets in clear, older producers), 2 or 3. */
export const IngestJobPayloadSchema = z.discriminatedUnion('v', [
  IngestJobDataSchema,
  IngestJobDataV2Schema,
  IngestJobDataV3Schema,
]);
export type IngestJobPayload = z.infer<typeof IngestJobPayloadSchema>;

export const DeleteJobDataSchema = z
  .object({
    v: payloadVersion(1),
    tenant: TenantSchema,
    documentId: DocumentIdSchema,
    seq: SeqSchema.optional(),
  })
  .strict();
export type DeleteJobData = z.infer<typeof DeleteJobDataSchema>;
export type DeleteJobInput = Omit<DeleteJobData, 'v' | 'seq'>;

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

export const IngestStageSchema = z.enum([
  'waiting-for-document',
  'loading',
  'chunking',
  'embedding',
  'storing',
  'cleanup',
  'done',
]);
export type IngestStage = z.infer<typeof IngestStageSchema>;

export const IngestProgressSchema = z.object({
  stage: IngestStageSchema,
  pages: z.number().int().nullable().optional(),
  chunks: z.number().int().optional(),
  chunksEmbedded: z.number().int().optional(),
  batches: z.number().int().optional(),
  batchesDone: z.number().int().optional(),
  /** Pages of the document read by OCR, and how many are done (while `loading` a scan). */
  ocrPages: z.number().int().optional(),
  ocrPagesDone: z.number().int().optional(),
});
export type IngestProgress = z.infer<typeof IngestProgressSchema>;
