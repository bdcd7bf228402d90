import type { ModelApi } from '@quire/api-client';
import { QuireError } from '../errors.js';
import type { SearchFilter, VectorStore } from '../vector-store/types.js';
import { fuseRankings, type RetrievalCandidate, RRF_K } from './fusion.js';
import { boundedInteger, elapsedMs, throwIfAborted } from './internal.js';

/** Candidates retrieved when a caller names no count; inside the 20–50 a reranker works best with. */
export const DEFAULT_CANDIDATES = 30;
/** Most candidates one question may retrieve. */
export const MAX_CANDIDATES = 100;

export interface RetrieveCandidatesOptions {
  store: VectorStore;
  models: ModelApi;
  /** Embedding model name; must be the one the store's chunks were embedded with. */
  embeddingModel: string;
  /** Only this tenant's chunks are searched. */
  tenant: string;
  question: string;
  /**
   * Candidates kept after fusion, and the limit of each search.
   * @default 30; an integer in 1..100
   */
  candidates?: number;
  /** Applied by the store inside the tenant, to both searches. */
  filter?: SearchFilter;
  /**
   * RRF constant (see {@link RRF_K}).
   * @default 60
   */
  rrfK?: number;
  /** Aborts the embedding call and both searches. */
  signal?: AbortSignal;
}

export interface RetrieveCandidatesResult {
  /** Best first by fused score; at most `candidates`, each chunk once. */
  candidates: RetrievalCandidate[];
  usage: {
    /** Tokens the embedding call reported for the question. */
    embeddingTokens: number;
  };
  /** Wall-clock milliseconds of each stage. */
  timingsMs: {
    embed: number;
    /** Both searches, which run in parallel. */
    search: number;
  };
}

/**
 * Hybrid retrieval: embeds the question once, runs dense and lexical search in parallel (each for
 * `candidates` hits) and fuses both lists with Reciprocal Rank Fusion.
 */
export async function retrieveCandidates(
  options: RetrieveCandidatesOptions,
): Promise<RetrieveCandidatesResult> {
  const { store, models, tenant, question, filter, signal } = options;
  const limit = boundedInteger('candidates', options.candidates, DEFAULT_CANDIDATES, 1, MAX_CANDIDATES);
  if (question.trim() === '') throw new QuireError('invalid_input', 'question must not be empty');
  throwIfAborted(signal);

  const embedStart = performance.now();
  const embedded = await models.embeddings({ model: options.embeddingModel, input: [question] }, { signal });
  const vector = embedded.vectors[0];
  if (vector === undefined) {
    throw new QuireError(
      'invalid_input',
      `embedding model ${JSON.stringify(options.embeddingModel)} returned no vector for the question`,
    );
  }
  if (vector.length !== store.dimension) {
    // A wrong model name or dimension setting: the store would only say "wrong dimension".
    throw new QuireError(
      'invalid_input',
      `embedding model ${JSON.stringify(options.embeddingModel)} returned a ${vector.length}-dimensional ` +
        `vector, but the vector store holds ${store.dimension}-dimensional vectors`,
    );
  }
  const embedMs = elapsedMs(embedStart);

  const searchStart = performance.now();
  const searchOptions = { limit, filter, signal };
  const [dense, lexical] = await Promise.all([
    store.searchDense(tenant, vector, searchOptions),
    store.searchLexical(tenant, question, searchOptions),
  ]);
  const candidates = fuseRankings(dense, lexical, { k: options.rrfK ?? RRF_K, limit });

  return {
    candidates,
    usage: { embeddingTokens: embedded.usage.promptTokens },
    timingsMs: { embed: embedMs, search: elapsedMs(searchStart) },
  };
}
