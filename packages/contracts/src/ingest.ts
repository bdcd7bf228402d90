/**
 * Document job payloads (ingest, delete), results and progress. Producers validate before
 * enqueueing; workers validate again before processing, because anything in Redis may have been
 * written by another client. See the README for how versions (`v`) evolve.
 */
import { z } from 'zod';
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
/** What a caller gives to enqueue an ingestion (the SDK adds `v` and `seq`). */
export type IngestJobInput = Omit<IngestJobData, 'v' | 'seq'>;

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
});
export type IngestProgress = z.infer<typeof IngestProgressSchema>;
