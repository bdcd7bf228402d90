import { ApiAbortError, InvalidResponseError, type ModelApi, type RerankItem } from '@quire/api-client';
import { DEFAULT_TOP_N, MAX_TOP_N } from '@quire/contracts';
import { QuireError } from '../errors.js';
import type { RetrievalCandidate } from './fusion.js';
import { boundedInteger, errorMessage, throwIfAborted } from './internal.js';

/** Defaults and limits live with the contracts (the payloads and bodies that carry them). */
export { DEFAULT_TOP_N, MAX_TOP_N };

/** What to do when the rerank call fails (after the client's own retries). */
export type RerankFallback = 'fail' | 'fused';

/** A candidate chosen for the answer, in final rank order. */
export interface RankedPassage extends RetrievalCandidate {
  /** 1-based position in the final order. */
  rank: number;
  /** The reranker's relevance score; null when the order is the fused one (reranking failed). */
  rerankScore: number | null;
}

export interface RerankCandidatesOptions {
  models: ModelApi;
  rerankModel: string;
  question: string;
  /** Candidates in fused order (as returned by `retrieveCandidates`). */
  candidates: readonly RetrievalCandidate[];
  /**
   * Passages kept, best first.
   * @default 4; an integer in 1..50
   */
  topN?: number;
  /**
   * Passages whose rerank score is below this are dropped, in the reranker's own scale. Not applied
   * to a fused-order fallback, whose scores mean nothing on that scale. Default: none dropped.
   */
  minScore?: number;
  /**
   * Most documents per rerank call: more candidates are scored over several calls, one after the
   * other, and merged by score (reranker scores are per document, so calls compare). Default: one
   * call with every candidate, the API client splitting it at its own per-request maximum.
   */
  maxDocumentsPerRequest?: number;
  /**
   * `fail` (default): a failed rerank call throws a {@link RerankError}. `fused`: the answer goes on
   * with the fused order's top `topN`, marked `reranked: false` with the error's message.
   * An abort is never turned into a fallback.
   * @default 'fail'
   */
  fallback?: RerankFallback;
  signal?: AbortSignal;
}

export interface RerankCandidatesResult {
  /** At most `topN`, best first, numbered by `rank`. */
  passages: RankedPassage[];
  /** Whether `passages` are in the reranker's order. False after a fallback or with no candidates. */
  reranked: boolean;
  /** Why reranking failed, when the fused fallback was used. */
  rerankError?: string;
  /** Documents the reranker scored (0 when it failed or there was nothing to score). */
  documentsReranked: number;
}

/**
 * A rerank call that failed with `fallback: 'fail'`. Keeps the original error as `cause`, and its
 * `retryable`, `status` and `retryAfterMs`, so that a worker still retries, or pauses for a rate
 * limit, exactly as it would for the original.
 */
export class RerankError extends QuireError {
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(cause: unknown) {
    const facts = errorFacts(cause);
    super('rerank_failed', `reranking failed: ${errorMessage(cause)}`, {
      cause,
      retryable: facts.retryable,
      details: {
        ...(facts.status === undefined ? {} : { status: facts.status }),
        ...(facts.retryAfterMs === undefined ? {} : { retryAfterMs: facts.retryAfterMs }),
      },
    });
    this.status = facts.status;
    this.retryAfterMs = facts.retryAfterMs;
  }
}

function errorFacts(error: unknown): { retryable: boolean; status?: number; retryAfterMs?: number } {
  if (error === null || typeof error !== 'object') return { retryable: false };
  const { retryable, status, retryAfterMs } = error as Record<string, unknown>;
  return {
    retryable: retryable === true,
    ...(typeof status === 'number' ? { status } : {}),
    ...(typeof retryAfterMs === 'number' ? { retryAfterMs } : {}),
  };
}

/**
 * Reranks the fused candidates against the question and keeps the best `topN` at or above
 * `minScore`. Candidates are sent in fused order; the reranker's indices are mapped back to them.
 */
export async function rerankCandidates(options: RerankCandidatesOptions): Promise<RerankCandidatesResult> {
  const { models, candidates, signal } = options;
  const topN = boundedInteger('topN', options.topN, DEFAULT_TOP_N, 1, MAX_TOP_N);
  const perRequest = boundedInteger(
    'maxDocumentsPerRequest',
    options.maxDocumentsPerRequest,
    Math.max(1, candidates.length),
    1,
    Number.MAX_SAFE_INTEGER,
  );
  const minScore = options.minScore;
  if (minScore !== undefined && !Number.isFinite(minScore)) {
    throw new QuireError('invalid_input', `minScore must be a finite number, got ${minScore}`);
  }
  const fallback = options.fallback ?? 'fail';
  if (fallback !== 'fail' && fallback !== 'fused') {
    throw new QuireError(
      'invalid_input',
      `fallback must be 'fail' or 'fused', got ${JSON.stringify(fallback)}`,
    );
  }
  throwIfAborted(signal);
  if (candidates.length === 0) return { passages: [], reranked: false, documentsReranked: 0 };

  let scored: { candidate: RetrievalCandidate; fusedIndex: number; score: number }[];
  try {
    scored = [];
    for (let start = 0; start < candidates.length; start += perRequest) {
      const batch = candidates.slice(start, start + perRequest);
      const result = await models.rerank(
        {
          model: options.rerankModel,
          query: options.question,
          documents: batch.map((candidate) => candidate.record.text),
          topN: Math.min(topN, batch.length),
        },
        { signal },
      );
      for (const item of checkedItems(result.results, batch.length)) {
        scored.push({
          candidate: batch[item.index]!,
          fusedIndex: start + item.index,
          score: item.relevanceScore,
        });
      }
    }
  } catch (error) {
    // Nobody waits for an aborted answer: no fallback, and the abort stays an abort.
    if (signal?.aborted || error instanceof ApiAbortError) throw error;
    if (fallback === 'fail') throw new RerankError(error);
    return {
      passages: candidates
        .slice(0, topN)
        .map((candidate, i) => ({ ...candidate, rank: i + 1, rerankScore: null })),
      reranked: false,
      rerankError: errorMessage(error),
      documentsReranked: 0,
    };
  }

  // Equal scores keep the fused order, so the result does not depend on the reranker's tie order.
  scored.sort((a, b) => b.score - a.score || a.fusedIndex - b.fusedIndex);
  const passages = scored
    .slice(0, topN)
    .filter((entry) => minScore === undefined || entry.score >= minScore)
    .map((entry, i): RankedPassage => ({ ...entry.candidate, rank: i + 1, rerankScore: entry.score }));
  return { passages, reranked: true, documentsReranked: candidates.length };
}

/** The reranker's items, checked: each index must name one of the documents sent, once. */
function checkedItems(items: readonly RerankItem[], documents: number): RerankItem[] {
  const seen = new Set<number>();
  for (const item of items) {
    if (!Number.isInteger(item.index) || item.index < 0 || item.index >= documents) {
      throw invalidRerank(`the reranker returned index ${item.index} for ${documents} documents`);
    }
    if (seen.has(item.index)) throw invalidRerank(`the reranker returned index ${item.index} twice`);
    if (!Number.isFinite(item.relevanceScore)) {
      throw invalidRerank(`the reranker returned score ${item.relevanceScore} for document ${item.index}`);
    }
    seen.add(item.index);
  }
  return [...items];
}

function invalidRerank(message: string): InvalidResponseError {
  return new InvalidResponseError(message, { endpoint: '/rerank' });
}
