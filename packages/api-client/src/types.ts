/**
 * The model API as Quire uses it: embeddings, rerank and chat. Both the HTTP client
 * (`ModelClient`) and the built-in offline models (`BuiltinModels`) implement `ModelApi`,
 * so callers never know which one they hold.
 */

/** Options every call accepts; each overrides the client's own setting for this call only. */
export interface RequestOptions {
  /** Abort the call (and its retries, also while waiting between them). Default: none. */
  signal?: AbortSignal;
  /** Per-attempt timeout in milliseconds. Default: the client's `timeout` (60 000 ms). */
  timeout?: number;
  /** Retries after the first attempt for retryable failures. Default: the client's `maxRetries` (2). */
  maxRetries?: number;
  /** Extra HTTP headers for this call; they win over the client's default headers. Default: none. */
  headers?: Record<string, string>;
  /**
   * Tokens the caller expects this request to use, when it knows better than a guess from the
   * text length (e.g. chunks counted by the chunker). Never sent; read by wrappers that enforce a
   * provider's token rate limit.
   */
  estimatedTokens?: number;
  /**
   * Called each time a request of this call is handed to `fetch` (the first attempt, each retry,
   * each part of a split call), so that a caller can start other work once the call is on its way
   * (after any wait for a rate limit). Never sent; an error it throws is ignored.
   */
  onRequest?: () => void;
  /**
   * Called with the provider's rate-limit headers (`x-ratelimit-*`) of each answer that has them,
   * successes and errors (429s) alike, so that a caller can learn the provider's real limits.
   * Never sent; an error it throws is ignored.
   */
  onRateLimit?: (info: RateLimitInfo) => void;
}

/** What an answer's `x-ratelimit-*` headers said; a field is `undefined` when its header was absent. */
export interface RateLimitInfo {
  /** The answer's HTTP status. */
  status: number;
  /** `x-ratelimit-limit-requests`: requests allowed per window. */
  limitRequests: number | undefined;
  /** `x-ratelimit-limit-tokens`: tokens allowed per window. */
  limitTokens: number | undefined;
  remainingRequests: number | undefined;
  remainingTokens: number | undefined;
  /** `x-ratelimit-reset-requests`, in milliseconds: until the request budget is whole again. */
  resetRequestsMs: number | undefined;
  /** `x-ratelimit-reset-tokens`, in milliseconds. */
  resetTokensMs: number | undefined;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

// ---------------------------------------------------------------- embeddings

export interface EmbeddingsParams {
  model: string;
  input: string[];
  /** Wire format asked of the server; vectors come back as numbers either way. Default `float`. */
  encodingFormat?: 'float' | 'base64';
  /** Output dimension for models that support shortening. */
  dimensions?: number;
}

export interface EmbeddingsResult {
  model: string;
  /** One vector per input, in input order. */
  vectors: number[][];
  dimension: number;
  usage: { promptTokens: number; totalTokens: number };
  /** HTTP requests made (after batching; retries not counted; 0 for the built-in models). */
  requests: number;
}

// ---------------------------------------------------------------- rerank

export interface RerankParams {
  model: string;
  query: string;
  documents: string[];
  /** Keep the best n results; applied client-side as well since some servers ignore it. */
  topN?: number;
  returnDocuments?: boolean;
}

export interface RerankItem {
  /** Index into the `documents` given. */
  index: number;
  relevanceScore: number;
  /** Present when `returnDocuments` was asked: the server's copy, or else the document as given. */
  document?: string;
}

export interface RerankResult {
  model: string;
  /** Sorted by `relevanceScore`, best first; at most `topN`. */
  results: RerankItem[];
  usage: { totalTokens: number; searchUnits?: number };
  requests: number;
}

// ---------------------------------------------------------------- chat

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatParams {
  model: string;
  messages: ChatMessage[];
  temperature?: number;
  maxTokens?: number;
  stop?: string[];
}

export interface ChatResult {
  model: string;
  content: string;
  finishReason: string | null;
  usage: TokenUsage;
}

export interface ChatStreamChunk {
  /** Text added by this chunk (may be empty). */
  delta: string;
  finishReason: string | null;
  /** Present on the final chunk when the server reports usage. */
  usage?: TokenUsage;
}

export interface ModelApi {
  embeddings(params: EmbeddingsParams, options?: RequestOptions): Promise<EmbeddingsResult>;
  rerank(params: RerankParams, options?: RequestOptions): Promise<RerankResult>;
  chat(params: ChatParams, options?: RequestOptions): Promise<ChatResult>;
  chatStream(params: ChatParams, options?: RequestOptions): AsyncIterable<ChatStreamChunk>;
}

/** The minimal logger libraries accept (pino's shape); libraries stay quiet unless given one. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
