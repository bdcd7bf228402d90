/**
 * What the commands need from Quire, whichever way they reach it: Redis through the producer SDK
 * (the default) or a gateway over HTTP (`--url`). Commands only see this interface.
 */
import {
  COUNTED_JOB_STATES,
  type CountedJobState,
  type DocumentSummary,
  type Metadata,
} from '@quire/contracts';
import type {
  BatchInput,
  BatchReport,
  DeleteJobInput,
  EvalInput,
  EvalReport,
  IngestOcr,
  JobState,
  JobStatus,
  QueryJobInput,
  QueryResult,
  QueueName,
} from '@quire/jobs';
import type { IngestInput } from '../inputs.js';

/** Job states counted per queue by `quire status`. */
export const COUNTED_STATES = COUNTED_JOB_STATES;
export type CountedState = CountedJobState;

export interface QueueCounts {
  queue: QueueName;
  counts: Record<CountedState, number>;
  /** Worker connections listening on the queue; null when the server cannot tell. */
  workers: number | null;
}

export interface FailedJob {
  queue: QueueName;
  id: string;
  name: string;
  tenant: string | null;
  /** What the job was about: a document id, a question or a batch id. */
  subject: string | null;
  reason: string;
  attempts: number;
  /** Epoch milliseconds. */
  failedAt: number | null;
}

export interface StatusReport {
  queues: QueueCounts[];
  /** Most recent first. */
  failed: FailedJob[];
  /** False when this backend cannot list failed jobs (a gateway only gives counts). */
  failedListed: boolean;
}

export interface StatusOptions {
  queues: readonly QueueName[];
  /** Most failed jobs listed. */
  failedLimit: number;
}

export interface DocumentSubmission {
  tenant: string;
  documentId: string;
  /** Display name for citations. */
  sourceName?: string;
  metadata?: Metadata;
  /** OCR settings of the document, over the workers' own. */
  ocr?: IngestOcr;
  input: IngestInput;
  /** Password of an encrypted PDF: sealed in the job, or sent to the gateway; never printed. */
  password?: string;
  /** Ingest again even when this version is stored. */
  force?: boolean;
}

/**
 * How a document travelled: a path the workers read, inline in the job, a copy in the spool shared
 * with the workers, a URL, or an HTTP upload.
 */
export type SentAs = 'path' | 'inline' | 'spool' | 'url' | 'upload';

export interface BatchView {
  batchId: string;
  state: JobState;
  total: number;
  answered: number;
  failed: number;
  failedReason: string | null;
  /** Present once the batch is complete. */
  report: BatchReport | null;
}

/** An eval as a backend reports it. */
export interface EvalView {
  evalId: string;
  state: JobState;
  step: 'ingest' | 'report';
  documents: number;
  documentsDone: number;
  questions: number;
  questionsDone: number;
  failedReason: string | null;
  /** Present once the eval is complete. */
  report: EvalReport | null;
}

export interface AskOptions {
  /** Longest wait for the answer, in ms. */
  timeoutMs: number;
  /** Stops waiting (the job goes on). */
  signal?: AbortSignal;
}

export interface Backend {
  /** Where the work goes, safe to print (no credentials). */
  readonly target: string;
  /** Whether the tenant comes from the API key (a gateway) instead of `--tenant`. */
  readonly tenantFromKey: boolean;
  /**
   * Queues the ingestion of one document, carried the way this backend can; throws with the reason
   * when it cannot be sent (too large to upload, refused by the gateway …).
   */
  submitDocument(document: DocumentSubmission): Promise<{ jobId: string; sentAs: SentAs }>;
  enqueueDelete(input: DeleteJobInput): Promise<{ jobId: string }>;
  /** A job of the `ingest` queue (ingest or delete); null when it does not exist (any more). */
  getDocumentJob(jobId: string): Promise<JobStatus | null>;
  /**
   * Asks one question and waits for the answer: JobFailedError when it fails, JobTimeoutError
   * after `timeoutMs`, a CliError with exit code 130 when `signal` aborts the wait.
   */
  ask(input: QueryJobInput, options: AskOptions): Promise<QueryResult>;
  enqueueBatch(input: BatchInput): Promise<{ batchId: string }>;
  getBatch(batchId: string): Promise<BatchView | null>;
  /** Enqueues an eval (see `Producer.enqueueEval`); `maxTokens` refuses it when its estimate is above. */
  enqueueEval(input: EvalInput, options: { maxTokens?: number }): Promise<{ evalId: string }>;
  getEval(evalId: string): Promise<EvalView | null>;
  listDocuments(tenant: string): Promise<DocumentSummary[]>;
  status(options: StatusOptions): Promise<StatusReport>;
  /** Moves the failed jobs of these queues back to waiting; returns how many. */
  retryFailed(queues: readonly QueueName[]): Promise<number>;
  /** Worker connections on a queue; null when it cannot tell. */
  workerCount(queue: QueueName): Promise<number | null>;
  close(): Promise<void>;
}
