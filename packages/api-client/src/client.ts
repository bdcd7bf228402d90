import { ApiError, DimensionMismatchError, InvalidResponseError, parseProviderError } from './errors.js';
import { decodeFloat32Base64 } from './float32-base64.js';
import { type CallSettings, Transport } from './internal/http.js';
import { invalidRequest } from './internal/invalid-request.js';
import {
  chatChunkSchema,
  chatResponseSchema,
  embeddingsResponseSchema,
  normaliseRerank,
  parseResponse,
  rerankResponseSchema,
  toTokenUsage,
} from './internal/schemas.js';
import { type Fetch, fetchSender, undiciSender } from './internal/senders.js';
import type {
  ChatParams,
  ChatResult,
  ChatStreamChunk,
  EmbeddingsParams,
  EmbeddingsResult,
  Logger,
  ModelApi,
  RequestOptions,
  RerankItem,
  RerankParams,
  RerankResult,
} from './types.js';

export type { Fetch } from './internal/senders.js';

/** Options of {@link ModelClient}. Every {@link RequestOptions} field can be overridden per call. */
export interface ModelClientOptions {
  /** Base URL of the OpenAI-compatible API including its version prefix, e.g. `https://host/v1`. Required. */
  baseURL: string;
  /** Sent as `Authorization: Bearer <apiKey>`; never logged nor put in errors. Default: none (local gateways). */
  apiKey?: string;
  /** Per-attempt timeout in milliseconds; for streams, the longest silence between chunks. Default 60 000 ms. */
  timeout?: number;
  /** Retries after the first attempt, for retryable failures only. Default 2. */
  maxRetries?: number;
  /**
   * A `fetch` to send requests with (e.g. `globalThis.fetch`, or a fake in tests). Default: none —
   * requests go through undici's `Agent.request` over keep-alive connections shared by every client
   * of the process, which costs several times less CPU per request than `fetch`.
   */
  fetch?: Fetch;
  /** Receives debug lines per request and a warning per retry. Default: silent. */
  logger?: Logger;
  /** Headers sent with every request; credential-like values are redacted like the key. Default none. */
  defaultHeaders?: Record<string, string>;
  /** Most inputs per embeddings request; larger calls are split. Default 256. */
  maxEmbeddingInputs?: number;
  /** Most documents per rerank request; larger calls are split and merged. Default 1000. */
  maxRerankDocuments?: number;
  /** Dimension every embedding must have (unless a call asks for `dimensions`). Default: not checked. */
  expectedDimension?: number;
  /**
   * `encoding_format` of calls that do not name one. `base64` (what OpenAI's own SDKs ask for) is
   * 4 bytes a value on the wire and cheap to read; a server that answers with numbers anyway is
   * still understood. Default `float`.
   */
  embeddingEncoding?: 'float' | 'base64';
  /** First backoff step in milliseconds, doubled on each retry. Default 500 ms. */
  initialRetryDelay?: number;
  /** Largest backoff step in milliseconds. Default 8 000 ms. */
  maxRetryDelay?: number;
}

const EMBEDDINGS = '/embeddings';
const RERANK = '/rerank';
const CHAT = '/chat/completions';

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`ModelClient: ${name} must be a positive integer, got ${value}`);
  return value;
}

function retries(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0)
    throw new RangeError(`ModelClient: ${name} must be an integer >= 0, got ${value}`);
  return value;
}

function milliseconds(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0)
    throw new RangeError(`ModelClient: ${name} must be a positive number of ms, got ${value}`);
  return value;
}

/**
 * Client of an OpenAI-compatible model API: `/embeddings`, `/rerank` and `/chat/completions`
 * (plain and streamed). Batches and splits large calls, validates every response, types every
 * error, retries transient failures with backoff and `Retry-After`, and never lets the API key out.
 */
export class ModelClient implements ModelApi {
  readonly #transport: Transport;
  readonly #timeout: number;
  readonly #maxRetries: number;
  readonly #maxEmbeddingInputs: number;
  readonly #maxRerankDocuments: number;
  readonly #expectedDimension: number | undefined;
  readonly #embeddingEncoding: 'float' | 'base64';

  constructor(options: ModelClientOptions) {
    let url: URL;
    try {
      url = new URL(options.baseURL);
    } catch {
      throw new TypeError('ModelClient: baseURL must be an absolute URL, e.g. https://host/v1');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TypeError(`ModelClient: baseURL must use http or https, got ${url.protocol}`);
    }
    const injected = options.fetch;
    this.#timeout = milliseconds('timeout', options.timeout ?? 60_000);
    this.#maxRetries = retries('maxRetries', options.maxRetries ?? 2);
    this.#maxEmbeddingInputs = positiveInteger('maxEmbeddingInputs', options.maxEmbeddingInputs ?? 256);
    this.#maxRerankDocuments = positiveInteger('maxRerankDocuments', options.maxRerankDocuments ?? 1000);
    const encoding = options.embeddingEncoding ?? 'float';
    if (encoding !== 'float' && encoding !== 'base64') {
      throw new RangeError(
        `ModelClient: embeddingEncoding must be "float" or "base64", got ${String(encoding)}`,
      );
    }
    this.#embeddingEncoding = encoding;
    this.#expectedDimension =
      options.expectedDimension === undefined
        ? undefined
        : positiveInteger('expectedDimension', options.expectedDimension);
    this.#transport = new Transport({
      baseURL: options.baseURL,
      apiKey: options.apiKey,
      // An injected fetch is called through a wrapper: some refuse to run with another `this`.
      send: injected === undefined ? undiciSender() : fetchSender((url, init) => injected(url, init)),
      logger: options.logger,
      defaultHeaders: options.defaultHeaders ?? {},
      initialRetryDelay: milliseconds('initialRetryDelay', options.initialRetryDelay ?? 500),
      maxRetryDelay: milliseconds('maxRetryDelay', options.maxRetryDelay ?? 8_000),
    });
  }

  /** The API base URL, without trailing slash. */
  get baseURL(): string {
    return this.#transport.baseURL;
  }

  /**
   * Embeds `input` in batches of `maxEmbeddingInputs`, one request after the other, and returns the
   * vectors in input order (each batch is ordered by the `index` of its items, not by their
   * position). `encoding_format` is always sent; base64 answers are decoded exactly. Every vector
   * must have the same length, equal to `dimensions` or `expectedDimension` when set.
   */
  async embeddings(params: EmbeddingsParams, options: RequestOptions = {}): Promise<EmbeddingsResult> {
    const settings = this.#settings(options);
    const encodingFormat = params.encodingFormat ?? this.#embeddingEncoding;
    if (params.dimensions !== undefined && (!Number.isInteger(params.dimensions) || params.dimensions < 1)) {
      throw invalidRequest(EMBEDDINGS, `\`dimensions\` must be a positive integer, got ${params.dimensions}`);
    }
    const expected = params.dimensions ?? this.#expectedDimension;
    const expectedFrom = params.dimensions !== undefined ? '`dimensions`' : 'expectedDimension';
    const vectors = new Array<number[]>(params.input.length);
    let dimension = expected;
    let model: string | undefined;
    let promptTokens = 0;
    let totalTokens = 0;
    let requests = 0;

    for (let offset = 0; offset < params.input.length; offset += this.#maxEmbeddingInputs) {
      const batch = params.input.slice(offset, offset + this.#maxEmbeddingInputs);
      const body: Record<string, unknown> = {
        model: params.model,
        input: batch,
        encoding_format: encodingFormat,
      };
      if (params.dimensions !== undefined) body.dimensions = params.dimensions;
      const response = await this.#transport.postJson(EMBEDDINGS, body, settings);
      requests++;
      const context = { endpoint: EMBEDDINGS, status: response.status, requestId: response.requestId };
      const parsed = parseResponse(embeddingsResponseSchema, response.data, context);
      const invalid = (message: string): InvalidResponseError =>
        new InvalidResponseError(`${EMBEDDINGS}: ${message}`, context);
      if (parsed.data.length !== batch.length) {
        throw invalid(`response has ${parsed.data.length} vectors for ${batch.length} inputs`);
      }
      const seen = new Set<number>();
      for (const item of parsed.data) {
        if (item.index >= batch.length || seen.has(item.index)) {
          throw invalid(
            `response index ${item.index} is ${seen.has(item.index) ? 'repeated' : 'out of range'} (batch of ${batch.length})`,
          );
        }
        seen.add(item.index);
        const position = offset + item.index;
        const vector =
          typeof item.embedding === 'string' ? decodeFloat32Base64(item.embedding) : item.embedding;
        if (vector === undefined) throw invalid(`embedding for input ${position} is not base64 float32 data`);
        if (vector.length === 0) throw invalid(`embedding for input ${position} is empty`);
        if (!vector.every(Number.isFinite))
          throw invalid(`embedding for input ${position} holds a non-finite value`);
        if (dimension === undefined) dimension = vector.length;
        if (vector.length !== dimension) {
          const source = expected === undefined ? 'the first vector' : expectedFrom;
          throw new DimensionMismatchError(
            `${EMBEDDINGS}: embedding for input ${position} has dimension ${vector.length}, expected ${dimension} (from ${source})`,
            dimension,
            vector.length,
            context,
          );
        }
        vectors[position] = vector;
      }
      model ??= parsed.model;
      promptTokens += parsed.usage?.prompt_tokens ?? parsed.usage?.total_tokens ?? 0;
      totalTokens += parsed.usage?.total_tokens ?? parsed.usage?.prompt_tokens ?? 0;
    }
    return {
      model: model ?? params.model,
      vectors,
      dimension: dimension ?? 0,
      usage: { promptTokens, totalTokens },
      requests,
    };
  }

  /**
   * Reranks `documents` against `query`. Sends exactly `model`, `query`, `documents`, `top_n` (and
   * `return_documents` when given); accepts the common response dialects (see README). More than
   * `maxRerankDocuments` documents are split over several requests, each asked for its own top n,
   * and merged by score with indices mapped back to `documents` — sound for rerankers whose scores
   * are absolute, as cross-encoders' are. No documents: no request.
   */
  async rerank(params: RerankParams, options: RequestOptions = {}): Promise<RerankResult> {
    const settings = this.#settings(options);
    const { documents, topN } = params;
    if (topN !== undefined && (!Number.isInteger(topN) || topN < 1)) {
      throw invalidRequest(RERANK, `\`top_n\` must be a positive integer, got ${topN}`);
    }
    if (documents.length === 0)
      return { model: params.model, results: [], usage: { totalTokens: 0 }, requests: 0 };

    const merged: { index: number; score: number; document: string | undefined }[] = [];
    let model: string | undefined;
    let totalTokens = 0;
    let searchUnits: number | undefined;
    let requests = 0;
    for (let offset = 0; offset < documents.length; offset += this.#maxRerankDocuments) {
      const chunk = documents.slice(offset, offset + this.#maxRerankDocuments);
      const body: Record<string, unknown> = {
        model: params.model,
        query: params.query,
        documents: chunk,
        top_n: Math.min(topN ?? chunk.length, chunk.length),
      };
      if (params.returnDocuments !== undefined) body.return_documents = params.returnDocuments;
      const response = await this.#transport.postJson(RERANK, body, settings);
      requests++;
      const context = { endpoint: RERANK, status: response.status, requestId: response.requestId };
      const normalised = normaliseRerank(
        parseResponse(rerankResponseSchema(response.data), response.data, context),
      );
      const seen = new Set<number>();
      for (const item of normalised.items) {
        if (item.index >= chunk.length || seen.has(item.index)) {
          throw new InvalidResponseError(
            `${RERANK}: result index ${item.index} is ${seen.has(item.index) ? 'repeated' : 'out of range'} (${chunk.length} documents sent)`,
            context,
          );
        }
        seen.add(item.index);
        merged.push({ ...item, index: offset + item.index });
      }
      model ??= normalised.model;
      totalTokens += normalised.totalTokens;
      if (normalised.searchUnits !== undefined) searchUnits = (searchUnits ?? 0) + normalised.searchUnits;
    }

    merged.sort((a, b) => b.score - a.score || a.index - b.index);
    const results = merged.slice(0, topN ?? merged.length).map((item): RerankItem => {
      const result: RerankItem = { index: item.index, relevanceScore: item.score };
      if (params.returnDocuments) result.document = item.document ?? documents[item.index]!;
      return result;
    });
    const usage: RerankResult['usage'] = { totalTokens };
    if (searchUnits !== undefined) usage.searchUnits = searchUnits;
    return { model: model ?? params.model, results, usage, requests };
  }

  /** One chat completion (non-streaming); the first choice is returned. */
  async chat(params: ChatParams, options: RequestOptions = {}): Promise<ChatResult> {
    const settings = this.#settings(options);
    const response = await this.#transport.postJson(CHAT, chatBody(params), settings);
    const parsed = parseResponse(chatResponseSchema, response.data, {
      endpoint: CHAT,
      status: response.status,
      requestId: response.requestId,
    });
    const choice = parsed.choices[0]!;
    return {
      model: parsed.model ?? params.model,
      content: choice.message.content ?? '',
      finishReason: choice.finish_reason ?? null,
      usage: toTokenUsage(parsed.usage),
    };
  }

  /**
   * A streamed chat completion (`stream: true`, usage requested with `stream_options`). Yields the
   * text as it arrives; the chunk carrying usage comes last when the server reports it. Retries
   * happen only before the first chunk. A stream that ends with neither `[DONE]` nor a finish
   * reason was cut short: {@link InvalidResponseError}.
   */
  async *chatStream(params: ChatParams, options: RequestOptions = {}): AsyncGenerator<ChatStreamChunk> {
    const settings = this.#settings(options);
    const body = { ...chatBody(params), stream: true, stream_options: { include_usage: true } };
    const context = { endpoint: CHAT, status: undefined, requestId: undefined };
    let finished = false;
    for await (const event of this.#transport.postStream(CHAT, body, settings)) {
      if (event.data === '[DONE]') return;
      let data: unknown;
      try {
        data = JSON.parse(event.data);
      } catch {
        throw new InvalidResponseError(`${CHAT}: stream event is not valid JSON`, context);
      }
      if (event.event === 'error' || (typeof data === 'object' && data !== null && 'error' in data)) {
        throw this.#streamError(data, settings);
      }
      const chunk = parseResponse(chatChunkSchema, data, context);
      const choice = chunk.choices?.[0];
      const delta = choice?.delta?.content ?? '';
      const finishReason = choice?.finish_reason ?? null;
      const usage = chunk.usage ? toTokenUsage(chunk.usage) : undefined;
      if (finishReason !== null) finished = true;
      // Role-only and empty keep-alive chunks carry nothing for the caller.
      if (delta === '' && finishReason === null && usage === undefined) continue;
      const out: ChatStreamChunk = { delta, finishReason };
      if (usage !== undefined) out.usage = usage;
      yield out;
    }
    // Neither [DONE] nor a finish reason: the connection was cut and the answer is truncated.
    if (!finished)
      throw new InvalidResponseError(`${CHAT}: stream ended before the answer was complete`, context);
  }

  /** An error the server reported inside an already-open stream: not retried, the output so far stands. */
  #streamError(data: unknown, settings: CallSettings): ApiError {
    const info = parseProviderError(data);
    const providerMessage =
      info.message === undefined ? undefined : this.#transport.redact(info.message, settings);
    return new ApiError(`${CHAT}: error in stream: ${providerMessage ?? 'unknown error'}`, {
      code: info.code,
      providerMessage,
      endpoint: CHAT,
      retryable: false,
    });
  }

  #settings(options: RequestOptions): CallSettings {
    return {
      signal: options.signal,
      timeout: options.timeout === undefined ? this.#timeout : milliseconds('timeout', options.timeout),
      maxRetries:
        options.maxRetries === undefined ? this.#maxRetries : retries('maxRetries', options.maxRetries),
      headers: options.headers ?? {},
      onRequest: options.onRequest,
      onRateLimit: options.onRateLimit,
    };
  }
}

function chatBody(params: ChatParams): Record<string, unknown> {
  const body: Record<string, unknown> = { model: params.model, messages: params.messages };
  if (params.temperature !== undefined) body.temperature = params.temperature;
  if (params.maxTokens !== undefined) body.max_tokens = params.maxTokens;
  if (params.stop !== undefined) body.stop = params.stop;
  return body;
}
