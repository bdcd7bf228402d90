import { type ModelApi, NOT_FOUND_ANSWER } from '@quire/api-client';
import { QuireError } from '../errors.js';
import { buildContext } from '../retrieval/context.js';
import { fuseRankings, type RetrievalCandidate, RRF_K } from '../retrieval/fusion.js';
import { generateAnswer } from '../retrieval/generate.js';
import { boundedInteger, elapsedMs, throwIfAborted } from '../retrieval/internal.js';
import { DEFAULT_TOP_N, MAX_TOP_N, type RerankFallback, rerankCandidates } from '../retrieval/rerank.js';
import { DEFAULT_CANDIDATES, MAX_CANDIDATES } from '../retrieval/retrieve.js';
import type { SearchFilter, SearchHit, VectorStore } from '../vector-store/types.js';
import type { EvalHit, EvalQuestionResult } from './schema.js';

/** Reranked chunks kept for the ranking metrics (recall@20 is the deepest measured). */
const RANKING_DEPTH = 20;

export interface EvaluateQuestionDeps {
  store: VectorStore;
  models: ModelApi;
  modelNames: { embedding: string; rerank: string; chat: string };
}

export interface EvaluateQuestionRequest {
  tenant: string;
  question: string;
  filter?: SearchFilter;
  /**
   * Each search's limit and the candidates kept after fusion, as in `answerQuestion`.
   * @default 30; an integer in 1..100
   */
  candidates?: number;
  /**
   * Passages the answer is given (the first of the reranked list).
   * @default 4; an integer in 1..50
   */
  topN?: number;
  /** Passages under this rerank score are not given to the answer. Default: none dropped. */
  minScore?: number;
  /** @default 'fused' — an eval records a failed rerank instead of failing the question. */
  rerankFallback?: RerankFallback;
  /** Whether to generate an answer (a chat call) after retrieval. */
  answer: boolean;
  /** Token budget of the answer's passage block. @default 3000 */
  contextTokens?: number;
  /** RRF constant. @default 60 */
  rrfK?: number;
  signal?: AbortSignal;
}

/**
 * Runs one question through every retrieval stage and keeps each stage's list: lexical search
 * alone, dense search alone, their fusion, and the fusion reranked (up to 20, or `topN` when larger,
 * so that recall@20 can be measured after reranking); then, when asked, answers from the reranked passages exactly as
 * `answerQuestion` does. Each stage is timed on its own (the searches run one after the other here,
 * unlike in `answerQuestion`, so that their times do not overlap).
 */
export async function evaluateQuestion(
  deps: EvaluateQuestionDeps,
  request: EvaluateQuestionRequest,
): Promise<EvalQuestionResult> {
  const { store, models, modelNames } = deps;
  const { tenant, question, filter, signal } = request;
  const limit = boundedInteger('candidates', request.candidates, DEFAULT_CANDIDATES, 1, MAX_CANDIDATES);
  const topN = boundedInteger('topN', request.topN, DEFAULT_TOP_N, 1, MAX_TOP_N);
  if (question.trim() === '') throw new QuireError('invalid_input', 'question must not be empty');
  throwIfAborted(signal);
  const searchOptions = { limit, filter, signal };

  let start = performance.now();
  const embedded = await models.embeddings({ model: modelNames.embedding, input: [question] }, { signal });
  const vector = embedded.vectors[0];
  if (vector === undefined || vector.length !== store.dimension) {
    throw new QuireError(
      'invalid_input',
      `embedding model ${JSON.stringify(modelNames.embedding)} returned no ${store.dimension}-dimensional vector`,
    );
  }
  const embedMs = elapsedMs(start);

  start = performance.now();
  const lexicalHits = await store.searchLexical(tenant, question, searchOptions);
  const lexicalMs = elapsedMs(start);
  start = performance.now();
  const denseHits = await store.searchDense(tenant, vector, searchOptions);
  const denseMs = elapsedMs(start);
  start = performance.now();
  const fused = fuseRankings(denseHits, lexicalHits, { k: request.rrfK ?? RRF_K, limit });
  const fuseMs = elapsedMs(start);

  start = performance.now();
  const reranked = await rerankCandidates({
    models,
    rerankModel: modelNames.rerank,
    question,
    candidates: fused,
    topN: Math.min(Math.max(topN, RANKING_DEPTH), Math.max(topN, fused.length)),
    fallback: request.rerankFallback ?? 'fused',
    signal,
  });
  const rerankMs = elapsedMs(start);

  start = performance.now();
  let answer: EvalQuestionResult['answer'] = null;
  let chatUsage = { promptTokens: 0, completionTokens: 0 };
  if (request.answer) {
    const kept = reranked.passages
      .slice(0, topN)
      .filter(
        (p) =>
          request.minScore === undefined ||
          !reranked.reranked ||
          (p.rerankScore ?? Number.NEGATIVE_INFINITY) >= request.minScore,
      );
    if (kept.length === 0) {
      answer = { text: NOT_FOUND_ANSWER, notFound: true, passages: [], contextTokens: 0, droppedByBudget: 0 };
    } else {
      const context = buildContext(kept, { tokenBudget: request.contextTokens });
      const generated = await generateAnswer({
        models,
        chatModel: modelNames.chat,
        question,
        context,
        signal,
      });
      chatUsage = generated.usage;
      answer = {
        text: generated.answer,
        notFound: generated.notFound,
        // Numbered as the answer cites them (cited first, 1..n in order of first citation).
        passages: generated.passageOrder.map((contextNumber, i) => {
          const shown = context.passages[contextNumber - 1]!;
          return {
            number: i + 1,
            documentId: shown.passage.record.documentId,
            chunkIndex: shown.passage.record.chunkIndex,
            text: shown.text,
            rerankScore: shown.passage.rerankScore,
          };
        }),
        contextTokens: context.tokens,
        droppedByBudget: context.dropped,
      };
    }
  }
  const generateMs = elapsedMs(start);

  return {
    rankings: {
      lexical: lexicalHits.map(searchHit),
      dense: denseHits.map(searchHit),
      fused: fused.map((c) => hit(c, c.fusedScore)),
      reranked: reranked.passages.map((p) => hit(p, p.rerankScore ?? p.fusedScore)),
    },
    candidates: fused.map((c, i) => ({
      documentId: c.record.documentId,
      chunkIndex: c.record.chunkIndex,
      fusedRank: i + 1,
      fusedScore: c.fusedScore,
      denseRank: c.denseRank,
      denseScore: c.denseScore,
      lexicalRank: c.lexicalRank,
      lexicalScore: c.lexicalScore,
    })),
    reranked: reranked.reranked,
    ...(reranked.rerankError === undefined ? {} : { rerankError: reranked.rerankError }),
    answer,
    usage: {
      embeddingTokens: embedded.usage.promptTokens,
      documentsReranked: reranked.documentsReranked,
      ...chatUsage,
    },
    timingsMs: {
      embed: embedMs,
      lexical: lexicalMs,
      dense: denseMs,
      fuse: fuseMs,
      rerank: rerankMs,
      generate: generateMs,
    },
  };
}

function searchHit(h: SearchHit): EvalHit {
  return { documentId: h.record.documentId, chunkIndex: h.record.chunkIndex, score: h.score };
}

function hit(c: RetrievalCandidate, score: number): EvalHit {
  return { documentId: c.record.documentId, chunkIndex: c.record.chunkIndex, score };
}
