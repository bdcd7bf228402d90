export * from './builtin/index.js';
export { type Fetch, ModelClient, type ModelClientOptions } from './client.js';
export {
  ApiAbortError,
  ApiConnectionError,
  ApiError,
  type ApiErrorOptions,
  ApiTimeoutError,
  AuthenticationError,
  BadRequestError,
  ConflictError,
  DimensionMismatchError,
  InternalServerError,
  InvalidResponseError,
  isRetryableError,
  isRetryableStatus,
  type MakeApiErrorInput,
  makeApiError,
  NotFoundError,
  PermissionDeniedError,
  type ProviderErrorInfo,
  parseProviderError,
  RateLimitError,
  UnprocessableEntityError,
} from './errors.js';
export { decodeFloat32Base64, encodeFloat32Base64 } from './float32-base64.js';
export { parseResetDuration, readRateLimitHeaders } from './rate-limit-headers.js';
export type * from './types.js';
