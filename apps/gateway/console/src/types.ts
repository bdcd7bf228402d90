/** The shapes of the gateway's answers the console reads (see the OpenAPI document at /docs). */

export interface DocumentSummary {
  documentId: string;
  sourceName: string;
  versions: { version: string; chunks: number; chunkCount: number; ingestedAt: string }[];
  chunks: number;
}

export interface DocumentList {
  documents: DocumentSummary[];
  next: string | null;
}

export interface FailedDocument {
  documentId: string;
  jobId: string;
  failedReason: string;
  failedAt: string;
  attemptsMade: number;
  sourceKind: string;
  sourceName: string | null;
  retryable: boolean;
}

export interface JobAccepted {
  jobId: string;
  queue: string;
  statusUrl: string;
  documentId?: string;
  batchId?: string;
}

export interface IngestProgress {
  stage?: string;
  pages?: number | null;
  chunks?: number;
  chunksEmbedded?: number;
}

export interface IngestResult {
  outcome: string;
  version: string | null;
  pages: number | null;
  chunks: number;
  duplicateOf?: string[];
}

export interface JobStatus {
  jobId: string;
  name: string;
  state: string;
  progress: IngestProgress | number | null;
  result: unknown;
  failedReason: string | null;
}

export interface Citation {
  number: number;
  documentId: string;
  sourceName: string;
  pageStart: number | null;
  pageEnd: number | null;
  excerpt: string;
}

export interface Passage {
  rank: number;
  documentId: string;
  sourceName: string;
  pageStart: number | null;
  pageEnd: number | null;
  chunkIndex: number;
  text: string;
  retrievalScore: number;
  rerankScore: number | null;
}

export interface QueryResult {
  answer: string;
  notFound: boolean;
  citations: Citation[];
  passages: Passage[];
  reranked: boolean;
  rerankError?: string;
  timingsMs: Record<string, number>;
}

export interface AskResponse {
  jobId: string;
  state?: string;
  result?: QueryResult;
  statusUrl?: string;
}

export interface BatchStatus {
  batchId: string;
  name: string | null;
  state: string;
  total: number;
  answered: number;
  failed: number;
  pending: number;
  failedReason: string | null;
  exportUrls: { jsonl: string; csv: string };
}
