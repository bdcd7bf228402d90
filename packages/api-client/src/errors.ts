import { z } from 'zod';
import { redact } from './internal/redact.js';
import { type HeaderReader, parseRetryAfterMs } from './internal/retry-after.js';

/** Fields every {@link ApiError} may carry. None of them ever holds request headers or the API key. */
export interface ApiErrorOptions {
  /** HTTP status of the response, when there was one. */
  status?: number | undefined;
  /** Provider error code (or type) as sent, e.g. `rate_limit_exceeded`. */
  code?: string | undefined;
  /** The provider's own error message, with secrets removed. */
  providerMessage?: string | undefined;
  /** Request id from the `x-request-id` / `request-id` response header. */
  requestId?: string | undefined;
  /** Whether repeating the same request may succeed. Default: derived from `status`. */
  retryable?: boolean | undefined;
  /** Which endpoint failed, e.g. `/embeddings`. */
  endpoint?: string | undefined;
  /** Delay the server asked for before retrying, in milliseconds (uncapped). */
  retryAfterMs?: number | undefined;
  cause?: unknown;
}

/** HTTP statuses worth retrying: timeouts, lock conflicts, rate limits and server errors. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/**
 * Base of every error the model API client (and the built-in models) throws. Carries only
 * plain data, so logging it, `JSON.stringify`-ing it or inspecting it never leaks a secret.
 */
export class ApiError extends Error {
  override readonly name: string = 'ApiError';
  readonly status: number | undefined;
  readonly code: string | undefined;
  readonly providerMessage: string | undefined;
  readonly requestId: string | undefined;
  readonly retryable: boolean;
  readonly endpoint: string | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: ApiErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = options.status;
    this.code = options.code;
    this.providerMessage = options.providerMessage;
    this.requestId = options.requestId;
    this.retryable = options.retryable ?? (options.status !== undefined && isRetryableStatus(options.status));
    this.endpoint = options.endpoint;
    this.retryAfterMs = options.retryAfterMs;
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      message: this.message,
      status: this.status,
      code: this.code,
      providerMessage: this.providerMessage,
      requestId: this.requestId,
      retryable: this.retryable,
      endpoint: this.endpoint,
      retryAfterMs: this.retryAfterMs,
    };
  }
}

/** 400: the request itself is wrong; repeating it cannot help. */
export class BadRequestError extends ApiError {
  override readonly name: string = 'BadRequestError';
}
/** 401: missing or invalid API key. */
export class AuthenticationError extends ApiError {
  override readonly name: string = 'AuthenticationError';
}
/** 403: the key may not use this model or endpoint. */
export class PermissionDeniedError extends ApiError {
  override readonly name: string = 'PermissionDeniedError';
}
/** 404: unknown endpoint or model. */
export class NotFoundError extends ApiError {
  override readonly name: string = 'NotFoundError';
}
/** 409: a conflict on the provider side; retryable. */
export class ConflictError extends ApiError {
  override readonly name: string = 'ConflictError';
}
/** 422: well-formed but unacceptable request (e.g. too many inputs). */
export class UnprocessableEntityError extends ApiError {
  override readonly name: string = 'UnprocessableEntityError';
}
/** 429: rate limited; `retryAfterMs` holds the delay the server asked for, when it said. */
export class RateLimitError extends ApiError {
  override readonly name: string = 'RateLimitError';
}
/** 5xx: the provider failed; retryable. */
export class InternalServerError extends ApiError {
  override readonly name: string = 'InternalServerError';
}

/** No HTTP response at all: DNS, refused or reset connection, broken body stream. Retryable. */
export class ApiConnectionError extends ApiError {
  override readonly name: string = 'ApiConnectionError';
  constructor(message: string, options: ApiErrorOptions = {}) {
    super(message, { retryable: true, ...options });
  }
}

/** An attempt took longer than its timeout. Retryable. */
export class ApiTimeoutError extends ApiConnectionError {
  override readonly name: string = 'ApiTimeoutError';
}

/** The caller aborted through its `AbortSignal`. Never retried. */
export class ApiAbortError extends ApiError {
  override readonly name: string = 'ApiAbortError';
  constructor(message = 'Request was aborted', options: ApiErrorOptions = {}) {
    super(message, { ...options, retryable: false });
  }
}

/** The server answered 2xx with something unusable: not JSON, wrong shape, wrong dimension. */
export class InvalidResponseError extends ApiError {
  override readonly name: string = 'InvalidResponseError';
  constructor(message: string, options: ApiErrorOptions = {}) {
    super(message, { retryable: false, ...options });
  }
}

/**
 * Embedding vectors whose length is not the one expected (or not all the same). Retryable: a
 * sporadic one is a provider fault that another attempt may cure; a persistent one is a
 * configuration error, which workers detect at start-up by probing the model once.
 */
export class DimensionMismatchError extends InvalidResponseError {
  override readonly name: string = 'DimensionMismatchError';
  readonly expected: number;
  readonly got: number;
  constructor(message: string, expected: number, got: number, options: ApiErrorOptions = {}) {
    super(message, { retryable: true, ...options });
    this.expected = expected;
    this.got = got;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), expected: this.expected, got: this.got };
  }
}

/** True for errors that repeating the same request may cure (see {@link ApiError.retryable}). */
export function isRetryableError(error: unknown): boolean {
  return error instanceof ApiError && error.retryable;
}

// ------------------------------------------------------------------ provider bodies

/** What we can read out of a provider's error body, whatever its dialect. */
export interface ProviderErrorInfo {
  message?: string;
  code?: string;
}

const codeLike = z.union([z.string(), z.number()]).transform(String);

const openAiShape = z.object({
  error: z.object({
    message: z.string().optional(),
    type: z.string().nullish(),
    code: codeLike.nullish(),
  }),
});
const errorStringShape = z.object({
  error: z.string(),
  error_type: z.string().optional(),
  code: codeLike.optional(),
});
const flatShape = z.object({
  message: z.string(),
  code: codeLike.nullish(),
  type: z.string().nullish(),
});
const detailItem = z.object({
  msg: z.string().optional(),
  message: z.string().optional(),
  loc: z.array(z.union([z.string(), z.number()])).optional(),
  type: z.string().optional(),
});
const detailShape = z.object({ detail: z.union([z.string(), z.array(detailItem)]) });

/** Longest provider message kept: an HTML error page from a proxy is not worth more. */
const MAX_PROVIDER_MESSAGE = 500;

function clip(text: string): string {
  const trimmed = text.trim();
  return trimmed.length > MAX_PROVIDER_MESSAGE ? `${trimmed.slice(0, MAX_PROVIDER_MESSAGE)}…` : trimmed;
}

/**
 * Reads the message and code out of a provider error body: OpenAI `{error:{message,type,code}}`,
 * `{error:"...", error_type}`, flat `{message, code}`, FastAPI `{detail: string | [...]}`, or
 * plain text.
 */
export function parseProviderError(body: unknown): ProviderErrorInfo {
  if (typeof body === 'string') return body.trim() === '' ? {} : { message: clip(body) };
  const openAi = openAiShape.safeParse(body);
  if (openAi.success) {
    const { message, code, type } = openAi.data.error;
    return withDefined(message, code ?? type ?? undefined);
  }
  const errorString = errorStringShape.safeParse(body);
  if (errorString.success) {
    return withDefined(errorString.data.error, errorString.data.code ?? errorString.data.error_type);
  }
  const flat = flatShape.safeParse(body);
  if (flat.success) return withDefined(flat.data.message, flat.data.code ?? flat.data.type ?? undefined);
  const detail = detailShape.safeParse(body);
  if (detail.success) {
    const value = detail.data.detail;
    if (typeof value === 'string') return withDefined(value, undefined);
    const parts = value.map((item) => {
      const text = item.msg ?? item.message ?? 'invalid value';
      return item.loc && item.loc.length > 0 ? `${item.loc.join('.')}: ${text}` : text;
    });
    return withDefined(parts.join('; '), value[0]?.type);
  }
  return {};
}

function withDefined(message: string | undefined, code: string | undefined): ProviderErrorInfo {
  const info: ProviderErrorInfo = {};
  if (message !== undefined && message.trim() !== '') info.message = clip(message);
  if (code !== undefined && code !== '') info.code = code;
  return info;
}

/** Request id a provider sent back, for support tickets and log correlation. */
export function readRequestId(headers: HeaderReader | undefined): string | undefined {
  return headers?.get('x-request-id') ?? headers?.get('request-id') ?? undefined;
}

// ------------------------------------------------------------------ the factory

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export interface MakeApiErrorInput {
  /** HTTP status of the failed response. */
  status: number;
  /** Parsed JSON body, or the raw text when it was not JSON. */
  body?: unknown;
  /** Response headers (request id, retry-after). */
  headers?: HeaderReader | undefined;
  /** Endpoint that failed, e.g. `/rerank`. */
  endpoint?: string | undefined;
  /** Strings to strip from every message (the API key). */
  secrets?: readonly string[] | undefined;
  cause?: unknown;
}

/** Makes the {@link ApiError} subclass that matches an HTTP status: the one place that mapping lives. */
export function makeApiError(input: MakeApiErrorInput): ApiError {
  const { status, headers, endpoint } = input;
  const secrets = input.secrets ?? [];
  const info = parseProviderError(input.body);
  const providerMessage = info.message === undefined ? undefined : redact(info.message, secrets);
  const code = info.code === undefined ? undefined : redact(info.code, secrets);
  const requestId = readRequestId(headers);
  const retryAfterMs = parseRetryAfterMs(headers);

  let message = `${endpoint === undefined ? '' : `${endpoint}: `}${status} ${providerMessage ?? STATUS_TEXT[status] ?? 'status code'}`;
  if (code !== undefined) message += ` (code ${code})`;
  if (requestId !== undefined) message += ` [request id ${requestId}]`;

  const options: ApiErrorOptions = { status, code, providerMessage, requestId, endpoint, retryAfterMs };
  if (input.cause !== undefined) options.cause = input.cause;
  switch (status) {
    case 400:
      return new BadRequestError(message, options);
    case 401:
      return new AuthenticationError(message, options);
    case 403:
      return new PermissionDeniedError(message, options);
    case 404:
      return new NotFoundError(message, options);
    case 409:
      return new ConflictError(message, options);
    case 422:
      return new UnprocessableEntityError(message, options);
    case 429:
      return new RateLimitError(message, options);
    default:
      return status >= 500 ? new InternalServerError(message, options) : new ApiError(message, options);
  }
}
