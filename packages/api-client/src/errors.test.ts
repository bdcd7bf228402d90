import { describe, expect, it } from 'vitest';
import {
  ApiAbortError,
  ApiConnectionError,
  ApiError,
  ApiTimeoutError,
  AuthenticationError,
  BadRequestError,
  ConflictError,
  DimensionMismatchError,
  InternalServerError,
  InvalidResponseError,
  isRetryableError,
  makeApiError,
  NotFoundError,
  PermissionDeniedError,
  parseProviderError,
  RateLimitError,
  UnprocessableEntityError,
} from './errors.js';

describe('makeApiError', () => {
  it.each([
    [400, BadRequestError, false],
    [401, AuthenticationError, false],
    [403, PermissionDeniedError, false],
    [404, NotFoundError, false],
    [408, ApiError, true],
    [409, ConflictError, true],
    [413, ApiError, false],
    [422, UnprocessableEntityError, false],
    [429, RateLimitError, true],
    [500, InternalServerError, true],
    [503, InternalServerError, true],
  ])('maps %i to its class and retryability', (status, type, retryable) => {
    const error = makeApiError({ status, endpoint: '/rerank' });
    expect(error).toBeInstanceOf(type);
    expect(error.constructor).toBe(type);
    expect(error.retryable).toBe(retryable);
    expect(error.status).toBe(status);
    expect(error.endpoint).toBe('/rerank');
  });

  it('reads message, code, request id and retry-after', () => {
    const error = makeApiError({
      status: 429,
      body: { error: { message: 'Slow down', type: 'requests', code: 'rate_limit_exceeded' } },
      headers: new Headers({ 'x-request-id': 'req_1', 'retry-after': '2' }),
      endpoint: '/embeddings',
    });
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({
      providerMessage: 'Slow down',
      code: 'rate_limit_exceeded',
      requestId: 'req_1',
      retryAfterMs: 2000,
      name: 'RateLimitError',
    });
    expect(error.message).toBe('/embeddings: 429 Slow down (code rate_limit_exceeded) [request id req_1]');
    expect(makeApiError({ status: 500, headers: new Headers({ 'request-id': 'r2' }) }).requestId).toBe('r2');
  });

  it('removes secrets from the provider message', () => {
    const error = makeApiError({
      status: 401,
      body: { error: { message: 'Incorrect API key provided: sk-secret-123456' } },
      secrets: ['sk-secret-123456'],
    });
    expect(error.message).not.toContain('sk-secret-123456');
    expect(error.providerMessage).toBe('Incorrect API key provided: [redacted]');
  });

  it('serialises to plain data', () => {
    const error = makeApiError({
      status: 400,
      body: { message: 'bad input', code: 'invalid' },
      endpoint: '/chat',
    });
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      name: 'BadRequestError',
      message: '/chat: 400 bad input (code invalid)',
      status: 400,
      code: 'invalid',
      providerMessage: 'bad input',
      retryable: false,
      endpoint: '/chat',
    });
  });
});

describe('parseProviderError', () => {
  it('reads every provider dialect', () => {
    expect(parseProviderError({ error: { message: 'm1', type: 't1', code: null } })).toEqual({
      message: 'm1',
      code: 't1',
    });
    expect(parseProviderError({ error: { message: 'm1', type: 't1', code: 42 } })).toEqual({
      message: 'm1',
      code: '42',
    });
    expect(parseProviderError({ message: 'm2', code: 'c2' })).toEqual({ message: 'm2', code: 'c2' });
    expect(parseProviderError({ error: 'm3', error_type: 'Validation' })).toEqual({
      message: 'm3',
      code: 'Validation',
    });
    expect(parseProviderError({ detail: 'm4' })).toEqual({ message: 'm4' });
    expect(
      parseProviderError({
        detail: [
          { loc: ['body', 'top_n'], msg: 'must be positive', type: 'value_error' },
          { loc: ['body', 'query'], msg: 'field required', type: 'missing' },
        ],
      }),
    ).toEqual({ message: 'body.top_n: must be positive; body.query: field required', code: 'value_error' });
    expect(parseProviderError('<html>Bad gateway</html>')).toEqual({ message: '<html>Bad gateway</html>' });
    expect(parseProviderError({ unexpected: true })).toEqual({});
    expect(parseProviderError('x'.repeat(2000)).message).toHaveLength(501);
  });
});

describe('error classes', () => {
  it('know which are retryable', () => {
    expect(isRetryableError(new ApiConnectionError('x'))).toBe(true);
    expect(isRetryableError(new ApiTimeoutError('x'))).toBe(true);
    expect(new ApiTimeoutError('x')).toBeInstanceOf(ApiConnectionError);
    expect(isRetryableError(new ApiAbortError())).toBe(false);
    expect(isRetryableError(new InvalidResponseError('x', { status: 200 }))).toBe(false);
    expect(isRetryableError(new Error('x'))).toBe(false);
  });

  it('name expected and actual dimension', () => {
    const error = new DimensionMismatchError('wrong', 384, 768);
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect(error.toJSON()).toMatchObject({ name: 'DimensionMismatchError', expected: 384, got: 768 });
  });
});
