/** Test doubles of the retrieval tests: an in-memory vector store and a call-counting model API. */
import {
  BuiltinModels,
  type ChatParams,
  type ChatResult,
  type ChatStreamChunk,
  type EmbeddingsParams,
  type EmbeddingsResult,
  type ModelApi,
  type RequestOptions,
  type RerankParams,
  type RerankResult,
} from '@quire/api-client';
import { StoreError } from '../../errors.js';
import { pointId } from '../../vector-store/ids.js';
import { lexicalTokens } from '../../vector-store/lexical.js';
import type {
  ChunkPoint,
  ChunkRecord,
  DocumentSummary,
  SearchFilter,
  SearchHit,
  SearchOptions,
  VectorStore,
  WriteOptions,
} from '../../vector-store/types.js';
import type { RetrievalCandidate } from '../fusion.js';
import type { RankedPassage } from '../rerank.js';

export const TENANT = 'acme';

export interface ChunkInput {
  documentId: string;
  text: string;
  chunkIndex?: number;
  tenant?: string;
  sourceName?: string;
  pageStart?: number | null;
  pageEnd?: number | null;
  metadata?: ChunkRecord['metadata'];
}

export function chunkRecord(input: ChunkInput): ChunkRecord {
  const tenant = input.tenant ?? TENANT;
  const chunkIndex = input.chunkIndex ?? 0;
  return {
    id: pointId(tenant, input.documentId, 'v1', chunkIndex),
    tenant,
    documentId: input.documentId,
    version: 'v1',
    chunkIndex,
    chunkCount: chunkIndex + 1,
    text: input.text,
    pageStart: input.pageStart === undefined ? null : input.pageStart,
    pageEnd: input.pageEnd === undefined ? (input.pageStart ?? null) : input.pageEnd,
    headingPath: [],
    sourceName: input.sourceName ?? `${input.documentId}.txt`,
    metadata: input.metadata ?? {},
    ingestedAt: '2024-05-01T10:00:00.000Z',
  };
}

/** Chunks embedded with `models`, ready for `upsert`. */
export async function embedChunks(models: ModelApi, inputs: ChunkInput[]): Promise<ChunkPoint[]> {
  const records = inputs.map(chunkRecord);
  const { vectors } = await models.embeddings({ model: 'embed', input: records.map((r) => r.text) });
  return records.map((record, i) => ({ ...record, vector: vectors[i]! }));
}

export function candidate(record: ChunkRecord, fusedScore: number): RetrievalCandidate {
  return { record, denseRank: null, denseScore: null, lexicalRank: null, lexicalScore: null, fusedScore };
}

export function rankedPassage(input: ChunkInput, rank = 1): RankedPassage {
  return { ...candidate(chunkRecord(input), 1 / (60 + rank)), rank, rerankScore: null };
}

export interface SearchCall {
  kind: 'dense' | 'lexical';
  tenant: string;
  limit: number;
  filter: SearchFilter | undefined;
  signal: AbortSignal | undefined;
}

function matches(record: ChunkRecord, filter: SearchFilter | undefined): boolean {
  if (filter === undefined) return true;
  if (filter.documentIds !== undefined && !filter.documentIds.includes(record.documentId)) return false;
  if (filter.sourceNames !== undefined && !filter.sourceNames.includes(record.sourceName)) return false;
  for (const [key, value] of Object.entries(filter.metadata ?? {})) {
    if (record.metadata[key] !== value) return false;
  }
  return true;
}

function cosine(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/**
 * A vector store in memory: cosine similarity for dense search, shared query tokens for lexical
 * search. Records every search call so tests can check what reached the store.
 */
export class MemoryVectorStore implements VectorStore {
  readonly points = new Map<string, ChunkPoint>();
  readonly searches: SearchCall[] = [];
  /** Told of each search as it starts, when set. */
  onSearch: ((kind: SearchCall['kind']) => void) | undefined;

  constructor(readonly dimension: number) {}

  async init(): Promise<void> {}

  async upsert(tenant: string, points: ChunkPoint[], options: WriteOptions = {}): Promise<void> {
    options.signal?.throwIfAborted();
    for (const point of points) {
      if (point.tenant !== tenant) throw new StoreError('store_rejected', 'point of another tenant');
      this.points.set(point.id, point);
    }
  }

  async searchDense(tenant: string, vector: number[], options: SearchOptions): Promise<SearchHit[]> {
    this.record('dense', tenant, options);
    return this.rank(tenant, options, (point) => cosine(point.vector, vector));
  }

  async searchLexical(tenant: string, query: string, options: SearchOptions): Promise<SearchHit[]> {
    this.record('lexical', tenant, options);
    const queryTokens = new Set(lexicalTokens(query));
    return this.rank(
      tenant,
      options,
      (point) => lexicalTokens(point.text).filter((token) => queryTokens.has(token)).length,
    ).filter((hit) => hit.score > 0);
  }

  async countChunks(tenant: string, documentId: string, version: string): Promise<number> {
    return this.chunksOf(tenant).filter((r) => r.documentId === documentId && r.version === version).length;
  }

  async deleteDocument(tenant: string, documentId: string): Promise<void> {
    for (const record of this.chunksOf(tenant)) {
      if (record.documentId === documentId) this.points.delete(record.id);
    }
  }

  async deleteVersion(tenant: string, documentId: string, version: string): Promise<void> {
    for (const record of this.chunksOf(tenant)) {
      if (record.documentId === documentId && record.version === version) this.points.delete(record.id);
    }
  }

  async deleteOtherVersions(tenant: string, documentId: string, keepVersion: string): Promise<void> {
    for (const record of this.chunksOf(tenant)) {
      if (record.documentId === documentId && record.version !== keepVersion) this.points.delete(record.id);
    }
  }

  async listDocuments(tenant: string): Promise<DocumentSummary[]> {
    const byDocument = new Map<string, ChunkRecord[]>();
    for (const record of this.chunksOf(tenant)) {
      byDocument.set(record.documentId, [...(byDocument.get(record.documentId) ?? []), record]);
    }
    return [...byDocument.entries()].map(([documentId, records]) => ({
      documentId,
      sourceName: records[0]!.sourceName,
      versions: [
        {
          version: records[0]!.version,
          chunks: records.length,
          chunkCount: records[0]!.chunkCount,
          ingestedAt: records[0]!.ingestedAt,
        },
      ],
      chunks: records.length,
    }));
  }

  async listChunks(tenant: string, options: { documentId?: string } = {}): Promise<ChunkRecord[]> {
    return this.chunksOf(tenant).filter(
      (record) => options.documentId === undefined || record.documentId === options.documentId,
    );
  }

  async close(): Promise<void> {}

  private record(kind: SearchCall['kind'], tenant: string, options: SearchOptions): void {
    this.onSearch?.(kind);
    this.searches.push({
      kind,
      tenant,
      limit: options.limit,
      filter: options.filter,
      signal: options.signal,
    });
    options.signal?.throwIfAborted();
    if (tenant === '') throw new StoreError('store_rejected', 'empty tenant');
  }

  private rank(tenant: string, options: SearchOptions, score: (point: ChunkPoint) => number): SearchHit[] {
    return [...this.points.values()]
      .filter((point) => point.tenant === tenant && matches(point, options.filter))
      .map((point) => {
        const { vector: _vector, ...record } = point;
        return { record, score: score(point) };
      })
      .sort((a, b) => b.score - a.score || (a.record.id < b.record.id ? -1 : 1))
      .slice(0, options.limit);
  }

  private chunksOf(tenant: string): ChunkRecord[] {
    return [...this.points.values()].filter((point) => point.tenant === tenant);
  }
}

type Endpoint = 'embeddings' | 'rerank' | 'chat';

/**
 * The built-in models, counting calls and the signals they got; `fail` makes an endpoint throw
 * instead, and `before` runs ahead of each call (to abort mid-flight, for instance).
 */
export class CountingModels implements ModelApi {
  readonly inner = new BuiltinModels({ dimension: 64 });
  readonly calls: Record<Endpoint, number> = { embeddings: 0, rerank: 0, chat: 0 };
  readonly signals: (AbortSignal | undefined)[] = [];
  readonly rerankRequests: RerankParams[] = [];
  readonly chatRequests: ChatParams[] = [];
  fail: Partial<Record<Endpoint, unknown>> = {};
  before: Partial<Record<Endpoint, () => void>> = {};
  /** Replaces the chat model's answer text when set. */
  chatContent: string | undefined;
  /** Replaces the reranker's results when set. */
  rerankResults: RerankResult['results'] | undefined;
  /** Scores each document on its own when set (results sorted, `topN` applied), instead of the built-in reranker. */
  rerankScorer: ((document: string) => number) | undefined;

  async embeddings(params: EmbeddingsParams, options: RequestOptions = {}): Promise<EmbeddingsResult> {
    this.enter('embeddings', options);
    return this.inner.embeddings(params, options);
  }

  async rerank(params: RerankParams, options: RequestOptions = {}): Promise<RerankResult> {
    this.enter('rerank', options);
    this.rerankRequests.push(params);
    const result = await this.inner.rerank(params, options);
    if (this.rerankResults !== undefined) return { ...result, results: this.rerankResults };
    const scorer = this.rerankScorer;
    if (scorer === undefined) return result;
    const results = params.documents
      .map((document, index) => ({ index, relevanceScore: scorer(document) }))
      .sort((a, b) => b.relevanceScore - a.relevanceScore)
      .slice(0, params.topN ?? params.documents.length);
    return { ...result, results };
  }

  async chat(params: ChatParams, options: RequestOptions = {}): Promise<ChatResult> {
    this.enter('chat', options);
    this.chatRequests.push(params);
    const result = await this.inner.chat(params, options);
    return this.chatContent === undefined ? result : { ...result, content: this.chatContent };
  }

  chatStream(params: ChatParams, options: RequestOptions = {}): AsyncIterable<ChatStreamChunk> {
    this.enter('chat', options);
    return this.inner.chatStream(params, options);
  }

  private enter(endpoint: Endpoint, options: RequestOptions): void {
    this.calls[endpoint]++;
    this.signals.push(options.signal);
    this.before[endpoint]?.();
    if (endpoint in this.fail) throw this.fail[endpoint];
  }
}
