/** The shapes of the gateway's answers the console reads (see the OpenAPI document at /docs). */

export interface DocumentSummary {
  documentId: string;
  sourceName: string;
  versions: {
    version: string;
    chunks: number;
    chunkCount: number;
    ingestedAt: string;
    pages?: number | null;
  }[];
  chunks: number;
  /** Pages of the latest version; null for formats without pages (absent from older gateways). */
  pages?: number | null;
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
  /** The number the answer cites it by (cited passages come first). */
  rank: number;
  /** Its place in the reranked list the model was given. */
  contextRank?: number;
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
  contextTruncated?: { budget: number; kept: number; dropped: number; shortened: boolean };
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

export interface EvalSummary {
  evalId: string;
  name: string | null;
  state: string;
  step: 'ingest' | 'report';
  documents: number;
  documentsDone: number;
  questions: number;
  questionsDone: number;
  failedReason: string | null;
  statusUrl: string;
}

export interface EvalList {
  evals: EvalSummary[];
}

export interface EvalStatus extends Omit<EvalSummary, 'statusUrl'> {
  reportUrl: string;
  exportUrls: { markdown: string; csv: string; json: string };
}

export interface RankingMetrics {
  recallAt1: number;
  recallAt5: number;
  recallAt10: number;
  recallAt20: number;
  mrrAt10: number;
  ndcgAt10: number;
}

export interface AnswerGroup {
  questions: number;
  containment: number | null;
  notFoundRate: number | null;
}

export interface Latency {
  mean: number;
  p50: number;
  p95: number;
}

/** The parts of an eval report the console shows (the exports have it all). */
export interface EvalReport {
  evalId: string;
  name: string | null;
  settings: { candidates: number; topN: number; answers: boolean; contextTokens: number };
  documents: { ingested: number; cleanedUp: boolean };
  total: number;
  evaluated: number;
  failed: number;
  answerable: number;
  unanswerable: number;
  retrieval: Record<'lexical' | 'dense' | 'fused' | 'reranked', RankingMetrics>;
  answers: { answerable: AnswerGroup; goldFirst: AnswerGroup; unanswerable: AnswerGroup } | null;
  latencyMs: Record<'embed' | 'lexical' | 'dense' | 'fuse' | 'rerank' | 'generate', Latency>;
}
