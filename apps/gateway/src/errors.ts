/**
 * The gateway's errors: a closed list of codes, each with one HTTP status (in `@quire/contracts`), and one function that
 * turns anything thrown while serving a request into one of them. Every error response has the
 * body `{ error: { code, message, requestId } }`.
 */
import { ERROR_CODES, ERROR_STATUS, type ErrorBody, ErrorBodySchema, type ErrorCode } from '@quire/contracts';
import { isQuireError } from '@quire/core';
import { JobInputError } from '@quire/jobs';

export { ERROR_CODES, ERROR_STATUS, type ErrorBody, ErrorBodySchema, type ErrorCode };

export class ApiError extends Error {
  override name = 'ApiError';
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

/** Redis could not be reached (or did not answer in time). */
export class UnavailableError extends ApiError {
  constructor(what: string, options: { cause?: unknown } = {}) {
    super('unavailable', `${what} is unavailable; try again later`, options);
  }
}

export function errorBody(error: ApiError, requestId: string): ErrorBody {
  return { error: { code: error.code, message: error.message, requestId } };
}

interface FastifyLikeError {
  code?: unknown;
  statusCode?: unknown;
  message?: unknown;
  validation?: unknown;
  validationContext?: unknown;
}

interface ValidationIssue {
  instancePath?: unknown;
  message?: unknown;
}

/** Maps whatever a handler, hook or parser threw to an ApiError. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof JobInputError) return new ApiError('invalid_request', error.message);
  if (isQuireError(error)) {
    if (error.code === 'store_unavailable') return new UnavailableError('the vector store', { cause: error });
    if (error.code === 'too_large') return new ApiError('payload_too_large', error.message);
    return new ApiError('invalid_request', error.message);
  }
  if (isRedisUnavailable(error)) return new UnavailableError('the queue (Redis)', { cause: error });
  const e = (typeof error === 'object' && error !== null ? error : {}) as FastifyLikeError;
  if (Array.isArray(e.validation)) {
    const where = typeof e.validationContext === 'string' ? e.validationContext : 'request';
    return new ApiError('invalid_request', describeValidation(where, e.validation as ValidationIssue[]));
  }
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  const message = typeof e.message === 'string' ? e.message : 'internal error';
  if (status === 413) return new ApiError('payload_too_large', message);
  if (status === 415 || e.code === 'FST_INVALID_MULTIPART_CONTENT_TYPE') {
    return new ApiError('unsupported_media_type', message);
  }
  if (status === 404) return new ApiError('not_found', message);
  if (status >= 400 && status < 500) return new ApiError('invalid_request', message);
  return new ApiError('internal', 'internal error', { cause: error });
}

function describeValidation(where: string, issues: ValidationIssue[]): string {
  const parts = issues.slice(0, 10).map((issue) => {
    const path =
      typeof issue.instancePath === 'string'
        ? issue.instancePath.replace(/^\//, '').replaceAll('/', '.')
        : '';
    const message = typeof issue.message === 'string' ? issue.message : 'invalid';
    return `${where}${path === '' ? '' : `.${path}`}: ${message}`;
  });
  const more = issues.length > 10 ? `; and ${issues.length - 10} more` : '';
  return `invalid request: ${parts.join('; ')}${more}`;
}

const REDIS_DOWN_MESSAGES = [
  /enableOfflineQueue/i,
  /Connection is closed/i,
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND/,
  /Reached the max retries per request limit/i,
];

/** Whether an error means Redis could not be reached (as opposed to a bad command). */
export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'MaxRetriesPerRequestError') return true;
  return REDIS_DOWN_MESSAGES.some((pattern) => pattern.test(error.message));
}
