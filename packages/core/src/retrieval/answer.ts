import { type Logger, type ModelApi, NOT_FOUND_ANSWER } from '@quire/api-client';
import { QuireError } from '../errors.js';
import type { SearchFilter, VectorStore } from '../vector-store/types.js';
import { buildContext, countPassagesAhead, DEFAULT_CONTEXT_TOKENS } from './context.js';
import type { RetrievalCandidate } from './fusion.js';
import { generateAnswer } from './generate.js';
import { boundedInteger, elapsedMs, throwIfAborted } from './internal.js';
import { ANSWER_PROMPT_VERSION } from './prompts.js';
import { MAX_TOP_N, type RankedPassage, type RerankFallback, rerankCandidates } from './rerank.js';
import { MAX_CANDIDATES, retrieveCandidates } from './retrieve.js';
import type { AnswerCandidate, AnswerPassage, AnswerResult } from './schema.js';

/** The services a question is answered with. */
export interface AnswerQuestionDeps {
  store: VectorStore;
  models: ModelApi;
  /** Model names, passed to every call; the embedding model must be the one the store was filled with. */
  modelNames: { embedding: string; rerank: string; chat: string };
  /** Told (at `warn`) when reranking fails and the fused order is used; silent without one. */
  logger?: Logger;
}

/** One question, and how to answer it. */
export interface AnswerQuestionRequest {
  tenant: string;
  question: string;
  /** Narrows retrieval inside the tenant (documents, source names, metadata). */
  filter?: SearchFilter;
  /**
   * Candidates retrieved (each search's limit and the count kept after fusion).
   * @default 30; an integer in 1..100
   */
  candidates?: number;
  /**
   * Passages kept after reranking.
   * @default 4; an integer in 1..50
   */
  topN?: number;
  /** Passages under this rerank score are dropped; when none is left, the answer is "not found". Default: none. */
  minScore?: number;
  /**
   * What a failed rerank call does: `fail` throws, `fused` answers from the fused order.
   * @default 'fail'
   */
  rerankFallback?: RerankFallback;
  /** Most documents per rerank call. Default: the API client's own maximum. */
  maxRerankDocumentsPerRequest?: number;
  /**
   * Token budget of the passage block.
   * @default 3000
   */
  contextTokens?: number;
  /** Most tokens of the answer. Default: the model's own limit. */
  maxAnswerTokens?: number;
  /**
   * Return the fused candidates the reranker was given (`preRerank`), for evaluation.
   * @default false
   */
  includeCandidates?: boolean;
  /** Sampling temperature of the answer. Default: the model's own. */
  temperature?: number;
  /** Aborts every model and store call; the answer then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Answers a question from the tenant's documents: retrieve (dense + lexical, fused) → rerank →
 * build the numbered context → generate an answer citing it. When nothing is retrieved, or no
 * passage clears `minScore`, the answer is `NOT_FOUND_ANSWER` and the chat model is not called.
 */
export async function answerQuestion(
  deps: AnswerQuestionDeps,
  request: AnswerQuestionRequest,
): Promise<AnswerResult> {
  const totalStart = performance.now();
  const { signal } = request;
  // Settings are checked before the first model call, so a bad one costs nothing.
  boundedInteger('candidates', request.candidates, 1, 1, MAX_CANDIDATES);
  boundedInteger('topN', request.topN, 1, 1, MAX_TOP_N);
  boundedInteger('contextTokens', request.contextTokens, 1, 1, Number.MAX_SAFE_INTEGER);
  boundedInteger('maxAnswerTokens', request.maxAnswerTokens, 1, 1, Number.MAX_SAFE_INTEGER);
  boundedInteger(
    'maxRerankDocumentsPerRequest',
    request.maxRerankDocumentsPerRequest,
    1,
    1,
    Number.MAX_SAFE_INTEGER,
  );
  if (request.rerankFallback !== undefined && !['fail', 'fused'].includes(request.rerankFallback)) {
    throw new QuireError(
      'invalid_input',
      `rerankFallback must be 'fail' or 'fused', got ${JSON.stringify(request.rerankFallback)}`,
    );
  }
  if (request.minScore !== undefined && !Number.isFinite(request.minScore)) {
    throw new QuireError('invalid_input', `minScore must be a finite number, got ${request.minScore}`);
  }
  throwIfAborted(signal);

  const retrieved = await retrieveCandidates({
    store: deps.store,
    models: deps.models,
    embeddingModel: deps.modelNames.embedding,
    tenant: request.tenant,
    question: request.question,
    candidates: request.candidates,
    filter: request.filter,
    signal,
  });

  const rerankStart = performance.now();
  const reranking = rerankCandidates({
    models: deps.models,
    rerankModel: deps.modelNames.rerank,
    question: request.question,
    candidates: retrieved.candidates,
    topN: request.topN,
    minScore: request.minScore,
    maxDocumentsPerRequest: request.maxRerankDocumentsPerRequest,
    fallback: request.rerankFallback ?? 'fail',
    signal,
  });
  // While the reranker answers, the candidates' context lines are counted (those seen before are
  // cached): the context is then built from counts, not counted on the question's path.
  void countPassagesAhead(retrieved.candidates, reranking);
  const reranked = await reranking;
  const rerankMs = elapsedMs(rerankStart);
  if (reranked.rerankError !== undefined) {
    deps.logger?.warn(
      { tenant: request.tenant, rerankModel: deps.modelNames.rerank, error: reranked.rerankError },
      'reranking failed; answering from the fused order',
    );
  }

  const generateStart = performance.now();
  let answer: Pick<AnswerResult, 'answer' | 'notFound' | 'generated' | 'citations' | 'removedCitations'>;
  let passages: AnswerPassage[] = [];
  let contextTruncated: AnswerResult['contextTruncated'];
  let chatUsage = { promptTokens: 0, completionTokens: 0 };
  if (reranked.passages.length === 0) {
    answer = {
      answer: NOT_FOUND_ANSWER,
      notFound: true,
      generated: false,
      citations: [],
      removedCitations: [],
    };
  } else {
    const context = buildContext(reranked.passages, { tokenBudget: request.contextTokens });
    const generated = await generateAnswer({
      models: deps.models,
      chatModel: deps.modelNames.chat,
      question: request.question,
      context,
      maxTokens: request.maxAnswerTokens,
      temperature: request.temperature,
      signal,
    });
    answer = generated;
    chatUsage = generated.usage;
    passages = generated.passageOrder.map((contextNumber, i) => {
      const shown = context.passages[contextNumber - 1]!;
      return answerPassage(i + 1, shown.number, shown.passage, shown.text);
    });
    const shortened = context.passages.some((shown) => shown.truncated);
    if (context.dropped > 0 || shortened) {
      contextTruncated = {
        budget: request.contextTokens ?? DEFAULT_CONTEXT_TOKENS,
        tokens: context.tokens,
        kept: context.passages.length,
        dropped: context.dropped,
        shortened,
      };
      deps.logger?.info(
        { tenant: request.tenant, ...contextTruncated },
        'the context budget left passages out of the answer',
      );
    }
  }
  const generateMs = elapsedMs(generateStart);

  return {
    answer: answer.answer,
    notFound: answer.notFound,
    generated: answer.generated,
    citations: answer.citations,
    passages,
    ...(contextTruncated === undefined ? {} : { contextTruncated }),
    ...(request.includeCandidates === true
      ? { preRerank: retrieved.candidates.map((c, i) => preRerankCandidate(c, i + 1)) }
      : {}),
    reranked: reranked.reranked,
    ...(reranked.rerankError === undefined ? {} : { rerankError: reranked.rerankError }),
    removedCitations: answer.removedCitations,
    usage: {
      embeddingTokens: retrieved.usage.embeddingTokens,
      documentsReranked: reranked.documentsReranked,
      promptTokens: chatUsage.promptTokens,
      completionTokens: chatUsage.completionTokens,
    },
    timingsMs: {
      embed: retrieved.timingsMs.embed,
      search: retrieved.timingsMs.search,
      rerank: rerankMs,
      generate: generateMs,
      total: elapsedMs(totalStart),
    },
    candidates: retrieved.candidates.length,
    promptVersion: ANSWER_PROMPT_VERSION,
  };
}

function answerPassage(
  rank: number,
  contextRank: number,
  passage: RankedPassage,
  text: string,
): AnswerPassage {
  const { record } = passage;
  return {
    rank,
    contextRank,
    documentId: record.documentId,
    sourceName: record.sourceName,
    pageStart: record.pageStart,
    pageEnd: record.pageEnd,
    chunkIndex: record.chunkIndex,
    text,
    retrievalScore: passage.fusedScore,
    rerankScore: passage.rerankScore,
  };
}

function preRerankCandidate(candidate: RetrievalCandidate, fusedRank: number): AnswerCandidate {
  return {
    documentId: candidate.record.documentId,
    chunkIndex: candidate.record.chunkIndex,
    fusedRank,
    fusedScore: candidate.fusedScore,
    denseRank: candidate.denseRank,
    denseScore: candidate.denseScore,
    lexicalRank: candidate.lexicalRank,
    lexicalScore: candidate.lexicalScore,
  };
}
