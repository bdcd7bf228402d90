import { ApiAbortError } from '../errors.js';
import { invalidRequest as invalid } from '../internal/invalid-request.js';
import type {
  ChatParams,
  ChatResult,
  ChatStreamChunk,
  EmbeddingsParams,
  EmbeddingsResult,
  ModelApi,
  RequestOptions,
  RerankItem,
  RerankParams,
  RerankResult,
  TokenUsage,
} from '../types.js';
import { countTokens } from './analyze.js';
import { answerFromMessages } from './answerer.js';
import { DEFAULT_BUILTIN_DIMENSION, hashedEmbedding } from './embedder.js';
import { lexicalRerank } from './reranker.js';

/** Options of {@link BuiltinModels}. */
export interface BuiltinModelsOptions {
  /** Embedding width when a request does not ask for `dimensions`. Default 384. */
  dimension?: number;
  /** Name of the embedding model, reported when a request names none. Default `quire-builtin-embed`. */
  embeddingModel?: string;
  /** Name of the reranker, reported when a request names none. Default `quire-builtin-rerank`. */
  rerankModel?: string;
  /** Name of the answerer, reported when a request names none. Default `quire-builtin-answer`. */
  chatModel?: string;
}

/** Largest `dimensions` a request may ask for; beyond it a hashed vector only wastes memory. */
const MAX_DIMENSION = 65_536;
/** Words per streamed chunk. */
const WORDS_PER_CHUNK = 3;

/**
 * Offline stand-ins for the three model endpoints, behind the same {@link ModelApi} as the HTTP
 * client: hashed lexical embeddings, a lexical reranker and an extractive answerer that quotes and
 * cites its passages. Deterministic, instant and download-free, so that everything runs and tests
 * without a model provider. They match words, not meaning: a fallback, not a model.
 *
 * Requests name a model as usual; any name is accepted and echoed back, so switching between the
 * real API and these needs no other change. Invalid parameters throw `BadRequestError`, as a
 * server would answer 400.
 */
export class BuiltinModels implements ModelApi {
  readonly dimension: number;
  readonly models: { readonly embedding: string; readonly rerank: string; readonly chat: string };

  constructor(options: BuiltinModelsOptions = {}) {
    const dimension = options.dimension ?? DEFAULT_BUILTIN_DIMENSION;
    if (!Number.isInteger(dimension) || dimension < 1 || dimension > MAX_DIMENSION) {
      throw new RangeError(
        `BuiltinModels: dimension must be an integer in 1..${MAX_DIMENSION}, got ${dimension}`,
      );
    }
    this.dimension = dimension;
    this.models = {
      embedding: options.embeddingModel ?? 'quire-builtin-embed',
      rerank: options.rerankModel ?? 'quire-builtin-rerank',
      chat: options.chatModel ?? 'quire-builtin-answer',
    };
  }

  async embeddings(params: EmbeddingsParams, options: RequestOptions = {}): Promise<EmbeddingsResult> {
    throwIfAborted(options.signal);
    const endpoint = '/embeddings';
    if (!Array.isArray(params.input) || params.input.some((text) => typeof text !== 'string')) {
      throw invalid(endpoint, '`input` must be an array of strings');
    }
    const dimension = params.dimensions ?? this.dimension;
    if (!Number.isInteger(dimension) || dimension < 1 || dimension > MAX_DIMENSION) {
      throw invalid(endpoint, `\`dimensions\` must be an integer in 1..${MAX_DIMENSION}, got ${dimension}`);
    }
    const vectors = params.input.map((text) => hashedEmbedding(text, dimension));
    const tokens = params.input.reduce((sum, text) => sum + countTokens(text), 0);
    return {
      model: params.model || this.models.embedding,
      vectors,
      dimension,
      usage: { promptTokens: tokens, totalTokens: tokens },
      requests: 0,
    };
  }

  async rerank(params: RerankParams, options: RequestOptions = {}): Promise<RerankResult> {
    throwIfAborted(options.signal);
    const endpoint = '/rerank';
    if (typeof params.query !== 'string') throw invalid(endpoint, '`query` must be a string');
    if (!Array.isArray(params.documents) || params.documents.some((doc) => typeof doc !== 'string')) {
      throw invalid(endpoint, '`documents` must be an array of strings');
    }
    if (params.topN !== undefined && (!Number.isInteger(params.topN) || params.topN < 1)) {
      throw invalid(endpoint, `\`top_n\` must be a positive integer, got ${params.topN}`);
    }
    const ranked =
      params.topN === undefined
        ? lexicalRerank(params.query, params.documents)
        : lexicalRerank(params.query, params.documents, { topN: params.topN });
    const results = ranked.map((item): RerankItem => {
      const result: RerankItem = { index: item.index, relevanceScore: item.relevanceScore };
      if (params.returnDocuments) result.document = params.documents[item.index]!;
      return result;
    });
    const tokens =
      params.documents.length === 0
        ? 0
        : countTokens(params.query) + params.documents.reduce((sum, doc) => sum + countTokens(doc), 0);
    return {
      model: params.model || this.models.rerank,
      results,
      usage: { totalTokens: tokens },
      requests: 0,
    };
  }

  async chat(params: ChatParams, options: RequestOptions = {}): Promise<ChatResult> {
    throwIfAborted(options.signal);
    return this.answer(params);
  }

  async *chatStream(params: ChatParams, options: RequestOptions = {}): AsyncGenerator<ChatStreamChunk> {
    throwIfAborted(options.signal);
    const result = this.answer(params);
    const words = result.content.match(/\S+\s*/g) ?? [];
    for (let i = 0; i < words.length; i += WORDS_PER_CHUNK) {
      throwIfAborted(options.signal);
      yield { delta: words.slice(i, i + WORDS_PER_CHUNK).join(''), finishReason: null };
    }
    throwIfAborted(options.signal);
    yield { delta: '', finishReason: result.finishReason, usage: result.usage };
  }

  private answer(params: ChatParams): ChatResult {
    const endpoint = '/chat/completions';
    if (!Array.isArray(params.messages) || params.messages.length === 0) {
      throw invalid(endpoint, '`messages` must be a non-empty array');
    }
    if (params.maxTokens !== undefined && (!Number.isInteger(params.maxTokens) || params.maxTokens < 1)) {
      throw invalid(endpoint, `\`max_tokens\` must be a positive integer, got ${params.maxTokens}`);
    }
    let content = answerFromMessages(params.messages).content;
    let finishReason = 'stop';
    for (const stop of params.stop ?? []) {
      const at = stop === '' ? -1 : content.indexOf(stop);
      if (at >= 0) content = content.slice(0, at);
    }
    if (params.maxTokens !== undefined && countTokens(content) > params.maxTokens) {
      content = truncateToTokens(content, params.maxTokens);
      finishReason = 'length';
    }
    const promptTokens = params.messages.reduce((sum, message) => sum + countTokens(message.content), 0);
    const completionTokens = countTokens(content);
    const usage: TokenUsage = {
      promptTokens,
      completionTokens,
      totalTokens: promptTokens + completionTokens,
    };
    return { model: params.model || this.models.chat, content, finishReason, usage };
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ApiAbortError('Request was aborted', { cause: signal.reason });
}

/** The longest prefix of `text` holding at most `maxTokens` tokens (see `countTokens`). */
function truncateToTokens(text: string, maxTokens: number): string {
  let out = '';
  for (const piece of text.match(/\S+\s*/g) ?? []) {
    if (countTokens(out + piece) <= maxTokens) {
      out += piece;
      continue;
    }
    // A piece of unsegmented script can hold many tokens: take it character by character.
    for (const char of piece) {
      if (countTokens(out + char) > maxTokens) break;
      out += char;
    }
    break;
  }
  return out.trimEnd();
}
