/**
 * Bodies, parameters and responses of the gateway's HTTP API, as zod schemas: the gateway validates
 * requests and serialises responses with them and generates its OpenAPI document from them; clients
 * (the CLI, services) validate what they read with the same ones. Job payloads reuse the queue's
 * schemas, so the API and the queue cannot drift apart.
 */
import * as z from 'zod';
import { ChunkingSchema, DocumentIdSchema, MetadataSchema } from './common.js';
import { EvalInputObjectSchema } from './eval.js';
import { EvalReportSchema } from './eval-report.js';
import { IngestOcrSchema } from './ingest.js';
import {
  BatchQuestionSchema,
  BatchReportSchema,
  MAX_BATCH_QUESTIONS,
  QueryFilterSchema,
  QueryOptionsV2Schema,
  QueryResultSchema,
  QuestionSchema,
} from './query.js';
import { JobStateSchema, QueueNameSchema } from './queues.js';
import { Base64SourceSchema, TextSourceSchema, UrlSourceSchema } from './sources.js';

/** A job id or batch id as it appears in a path. */
export const JobIdSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9_.-]+$/, 'job ids are letters, digits, "_", "." or "-"');

export const WebhookUrlSchema = z
  .string()
  .max(2048, 'webhookUrl must be at most 2048 characters')
  .refine((url) => URL.canParse(url), 'webhookUrl is not a valid absolute URL')
  .describe('POSTed, signed, when the job completes or fails for good (see the webhook signature scheme)');

/** A truthy/falsy query-string flag; `z.coerce.boolean()` would turn "false" into true. */
const QueryFlagSchema = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

// --- Documents

/** Sources a caller may give over HTTP; `path` sources name files on the workers and are refused. */
export const HttpSourceSchema = z
  .discriminatedUnion('kind', [UrlSourceSchema, TextSourceSchema, Base64SourceSchema])
  .meta({ id: 'DocumentSource' });

export const SubmitDocumentBodySchema = z
  .object({
    documentId: DocumentIdSchema,
    source: HttpSourceSchema,
    sourceName: z.string().min(1).max(512).optional(),
    metadata: MetadataSchema.optional(),
    /** Password of an encrypted PDF. */
    password: z.string().max(1024).optional(),
    chunking: ChunkingSchema.optional(),
    /** Ingest again even when this version of the document is already stored. Default false. */
    force: z.boolean().optional(),
    /** OCR settings of this document (scanned pages, images), over the workers' own. */
    ocr: IngestOcrSchema.optional(),
    webhookUrl: WebhookUrlSchema.optional(),
  })
  .strict()
  .meta({ id: 'SubmitDocument' });
export type SubmitDocumentBody = z.infer<typeof SubmitDocumentBodySchema>;

/** The text fields of a multipart upload (the file itself is the part named `file`). */
export const UploadFieldsSchema = z
  .object({
    documentId: DocumentIdSchema.optional().describe('Default: the uploaded file name'),
    sourceName: z.string().min(1).max(512).optional(),
    metadata: z
      .string()
      .max(64 * 1024)
      .optional()
      .describe('A JSON object of scalar values'),
    password: z.string().max(1024).optional(),
    chunkSize: z.coerce.number().int().min(32).max(8192).optional(),
    chunkOverlap: z.coerce.number().int().min(0).max(4096).optional(),
    force: z
      .enum(['true', 'false'])
      .optional()
      .describe('"true": ingest again even when this version is stored'),
    ocr: z
      .enum(['auto', 'off', 'force'])
      .optional()
      .describe("OCR of scanned pages and images; default: the workers' QUIRE_OCR"),
    ocrLangs: z
      .string()
      .regex(
        /^[A-Za-z][A-Za-z0-9_]{1,31}(,[A-Za-z][A-Za-z0-9_]{1,31}){0,7}$/,
        'Tesseract language names joined by commas, such as eng,fra',
      )
      .optional()
      .describe("OCR languages, comma-separated; default: the workers' QUIRE_OCR_LANGS"),
    webhookUrl: WebhookUrlSchema.optional(),
  })
  .strict();
export type UploadFields = z.infer<typeof UploadFieldsSchema>;

export const DocumentParamsSchema = z.object({ documentId: DocumentIdSchema });

export const DocumentSummarySchema = z
  .object({
    documentId: z.string(),
    /** Source name of the most recently ingested version. */
    sourceName: z.string(),
    /** Stored chunks over all versions. */
    chunks: z.number().int().nonnegative(),
    /**
     * Pages of the most recent version: the last page any of its chunks reaches (the page count,
     * unless the last pages hold no text); null for formats without pages.
     */
    pages: z.number().int().positive().nullable().optional(),
    /**
     * Versions present, oldest `ingestedAt` first (then by version): `chunks` stored, `chunkCount`
     * expected. More than one only while a re-ingest is in flight.
     */
    versions: z.array(
      z.object({
        version: z.string(),
        chunks: z.number().int().nonnegative(),
        chunkCount: z.number().int().nonnegative(),
        ingestedAt: z.string(),
        /** The last page this version's chunks reach; null for formats without pages. */
        pages: z.number().int().positive().nullable().optional(),
      }),
    ),
  })
  .meta({ id: 'DocumentSummary' });
export type DocumentSummary = z.infer<typeof DocumentSummarySchema>;

/** Most documents a listing returns at once; `next` pages through the rest. */
export const DOCUMENT_PAGE_MAX = 1000;

export const DocumentListQuerySchema = z.object({
  /** Documents per page (default 100). */
  limit: z.coerce.number().int().min(1).max(DOCUMENT_PAGE_MAX).default(100),
  /** The `next` of the previous page: documents whose id sorts after it. */
  after: z.string().min(1).max(1024).optional(),
});

export const DocumentListSchema = z.object({
  documents: z.array(DocumentSummarySchema),
  /** Pass as `after` for the next page; null on the last page. */
  next: z.string().nullable(),
});

// --- Jobs

export const JobAcceptedSchema = z
  .object({
    jobId: z.string(),
    queue: QueueNameSchema,
    /** Poll here for state, progress and result. */
    statusUrl: z.string(),
    /** Server-sent events of the job's progress, ending with its completion. */
    eventsUrl: z.string(),
    /** True when an earlier request with the same Idempotency-Key created this job. */
    replayed: z.boolean(),
    documentId: z.string().optional(),
    batchId: z.string().optional(),
    evalId: z.string().optional(),
  })
  .meta({ id: 'JobAccepted' });
export type JobAccepted = z.infer<typeof JobAcceptedSchema>;

export const JobParamsSchema = z.object({ queue: QueueNameSchema, jobId: JobIdSchema });

export const JobStatusSchema = z
  .object({
    jobId: z.string(),
    queue: QueueNameSchema,
    name: z.string(),
    state: JobStateSchema,
    /** Last progress reported by the worker (stage, counts), or null. */
    progress: z.unknown(),
    /** The job's result once completed, else null. */
    result: z.unknown(),
    failedReason: z.string().nullable(),
    attemptsMade: z.number().int().nonnegative(),
    createdAt: z.string(),
    processedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
  })
  .meta({ id: 'JobStatus' });
export type JobStatusBody = z.infer<typeof JobStatusSchema>;

// --- Questions

export const AskBodySchema = z
  .object({
    question: QuestionSchema,
    filter: QueryFilterSchema.optional(),
    options: QueryOptionsV2Schema.optional(),
    /** Wait for the answer (200), up to `waitMs`; 202 with the job when it is not ready in time. */
    wait: z.boolean().optional(),
    /** How long to wait, in ms; capped by the server's maximum. */
    waitMs: z.number().int().min(0).max(600_000).optional(),
    webhookUrl: WebhookUrlSchema.optional(),
  })
  .strict()
  .meta({ id: 'Ask' });
export type AskBody = z.infer<typeof AskBodySchema>;

export const AskQuerySchema = z.object({
  wait: QueryFlagSchema.optional(),
  waitMs: z.coerce.number().int().min(0).max(600_000).optional(),
});

export const AnswerSchema = z
  .object({
    jobId: z.string(),
    state: z.literal('completed'),
    result: QueryResultSchema,
  })
  .meta({ id: 'Answer' });

// --- Batches

export const SubmitBatchBodySchema = z
  .object({
    name: z.string().max(256).optional(),
    filter: QueryFilterSchema.optional(),
    options: QueryOptionsV2Schema.optional(),
    questions: z.array(BatchQuestionSchema).min(1).max(MAX_BATCH_QUESTIONS),
    webhookUrl: WebhookUrlSchema.optional(),
  })
  .strict()
  .meta({ id: 'SubmitBatch' });
export type SubmitBatchBody = z.infer<typeof SubmitBatchBodySchema>;

export const BatchParamsSchema = z.object({ batchId: JobIdSchema });

export const BatchStatusSchema = z
  .object({
    batchId: z.string(),
    name: z.string().nullable(),
    state: JobStateSchema,
    total: z.number().int().nonnegative(),
    answered: z.number().int().nonnegative(),
    failed: z.number().int().nonnegative(),
    pending: z.number().int().nonnegative(),
    failedReason: z.string().nullable(),
    resultsUrl: z.string(),
    exportUrls: z.object({ jsonl: z.string(), csv: z.string() }),
  })
  .meta({ id: 'BatchStatus' });

export const BatchReportBodySchema = BatchReportSchema.meta({ id: 'BatchReport' });

export const ExportQuerySchema = z.object({
  format: z.enum(['jsonl', 'csv']).default('jsonl'),
  formulas: z
    .enum(['escape', 'keep'])
    .default('escape')
    .describe(
      "CSV only: cells starting with = + - @, a tab or a carriage return run as formulas in spreadsheets; 'escape' puts an apostrophe before them, 'keep' writes them as they are",
    ),
});

// --- Evals

export const SubmitEvalBodySchema = EvalInputObjectSchema.omit({ tenant: true })
  .extend({
    /** Refuse the eval (400) when its token estimate is above this; set it when the workers use a paid model API. */
    maxTokens: z.number().int().positive().optional(),
  })
  .strict()
  .meta({ id: 'SubmitEval' });
export type SubmitEvalBody = z.infer<typeof SubmitEvalBodySchema>;

export const EvalParamsSchema = z.object({ evalId: JobIdSchema });

export const EvalStatusSchema = z
  .object({
    evalId: z.string(),
    name: z.string().nullable(),
    state: JobStateSchema,
    step: z.enum(['ingest', 'report']),
    documents: z.number().int().nonnegative(),
    documentsDone: z.number().int().nonnegative(),
    questions: z.number().int().nonnegative(),
    questionsDone: z.number().int().nonnegative(),
    failedReason: z.string().nullable(),
    reportUrl: z.string(),
    exportUrls: z.object({ markdown: z.string(), csv: z.string(), json: z.string() }),
  })
  .meta({ id: 'EvalStatus' });
export type EvalStatusBody = z.infer<typeof EvalStatusSchema>;

/** An eval in a listing: its status without the links. */
export const EvalSummarySchema = EvalStatusSchema.omit({ reportUrl: true, exportUrls: true })
  .extend({ statusUrl: z.string() })
  .meta({ id: 'EvalSummary' });

export const EvalListSchema = z
  .object({
    /** The tenant's evals, newest first. */
    evals: z.array(EvalSummarySchema),
  })
  .meta({ id: 'EvalList' });
export type EvalList = z.infer<typeof EvalListSchema>;

export const EvalListQuerySchema = z.object({
  /** Evals listed, newest first (default 50). */
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const EvalReportBodySchema = EvalReportSchema.meta({ id: 'EvalReport' });

export const EvalExportQuerySchema = z.object({
  format: z.enum(['markdown', 'csv', 'json']).default('markdown'),
  formulas: z.enum(['escape', 'keep']).default('escape'),
});

// --- Webhooks

export const SigningSecretSchema = z.object({
  /** HMAC-SHA256 key of this tenant's webhook signatures. */
  secret: z.string(),
  /** Name of the signature header. */
  header: z.string(),
  /** How the signature is computed. */
  scheme: z.string(),
});

// --- Operations

export const HealthSchema = z.object({ ok: z.boolean() });
export const ReadinessSchema = z.object({
  ok: z.boolean(),
  checks: z.record(z.string(), z.object({ ok: z.boolean(), error: z.string().optional() })),
});

// --- Errors

/** Every error code the API answers with, and its HTTP status. */
export const ERROR_STATUS = {
  /** The request is malformed: a field is missing or wrong, a parameter is out of range. */
  invalid_request: 400,
  /** No API key, or an unknown one. */
  unauthorized: 401,
  /** No such route, job, document or batch for this tenant (another tenant's are not found either). */
  not_found: 404,
  /** The batch has no results yet. */
  not_ready: 409,
  /** The body or the uploaded file is larger than allowed. */
  payload_too_large: 413,
  /** The body's media type is not one the route takes. */
  unsupported_media_type: 415,
  /** The Idempotency-Key was used before with a different request. */
  idempotency_key_mismatch: 422,
  /** The webhook URL is refused (off, bad scheme, non-public address). */
  webhook_refused: 422,
  /** A tenant limit (jobs per minute, queued bytes) is reached; `Retry-After` says when to try again. */
  too_many_requests: 429,
  /** The job failed for good; the message carries its reason. */
  job_failed: 502,
  /** Redis or the vector store cannot be reached now; try again later. */
  unavailable: 503,
  /** A fault of the gateway itself. */
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export const ERROR_CODES = Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]];

/** The body of every error response. */
export const ErrorBodySchema = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODES),
      message: z.string(),
      requestId: z.string(),
    }),
  })
  .meta({ id: 'Error' });
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

// ---- Failed documents: GET /v1/failed-documents, POST /v1/failed-documents/{documentId}/retry ----

export const FailedDocumentSchema = z
  .object({
    documentId: z.string(),
    /** The failed job; `GET /v1/jobs/ingest/{jobId}` has its details. */
    jobId: z.string(),
    /** Why it failed, naming the file and the cause. */
    failedReason: z.string(),
    failedAt: z.string().describe('ISO-8601 time of the failure'),
    attemptsMade: z.number().int().nonnegative(),
    /** What was submitted: `path` (shared root or spooled upload), `url`, `text` or `base64`. */
    sourceKind: z.enum(['path', 'url', 'text', 'base64']),
    sourceName: z.string().nullable(),
    /** False when the source is gone (a spooled upload removed when its job ended): upload it again. */
    retryable: z.boolean(),
  })
  .meta({ id: 'FailedDocument' });
export type FailedDocument = z.infer<typeof FailedDocumentSchema>;

export const FailedDocumentListSchema = z
  .object({
    documents: z.array(FailedDocumentSchema),
    /** True when more failed jobs are kept than were read; the oldest are not listed. */
    truncated: z.boolean(),
  })
  .meta({ id: 'FailedDocumentList' });

export const FailedDocumentListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const FailedDocumentParamsSchema = z.object({ documentId: DocumentIdSchema });
