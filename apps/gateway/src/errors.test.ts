import { DocumentError, QuireError } from '@quire/core';
import { JobInputError } from '@quire/jobs';
import { describe, expect, it } from 'vitest';
import { ApiError, ERROR_STATUS, errorBody, isRedisUnavailable, toApiError } from './errors.js';

describe('toApiError', () => {
  it('keeps ApiErrors and maps each code to one status', () => {
    const error = new ApiError('not_ready', 'later');
    expect(toApiError(error)).toBe(error);
    expect(error.status).toBe(409);
    expect(ERROR_STATUS).toMatchObject({ unauthorized: 401, not_found: 404, unavailable: 503 });
  });

  it('maps bad job input and refused sources to invalid_request, oversize to payload_too_large', () => {
    expect(toApiError(new JobInputError('invalid ingest job: documentId: empty'))).toMatchObject({
      code: 'invalid_request',
      message: 'invalid ingest job: documentId: empty',
    });
    expect(toApiError(new DocumentError('http://10.0.0.1/a', 'source_forbidden', 'refused'))).toMatchObject({
      code: 'invalid_request',
    });
    expect(toApiError(new QuireError('too_large', 'too big')).code).toBe('payload_too_large');
    expect(toApiError(new QuireError('store_unavailable', 'down')).code).toBe('unavailable');
  });

  it('maps Redis being unreachable to unavailable', () => {
    const offline = new Error("Stream isn't writeable and enableOfflineQueue options is false");
    expect(isRedisUnavailable(offline)).toBe(true);
    expect(toApiError(offline)).toMatchObject({ code: 'unavailable', status: 503 });
    expect(toApiError(Object.assign(new Error('x'), { name: 'MaxRetriesPerRequestError' })).code).toBe(
      'unavailable',
    );
    expect(isRedisUnavailable(new Error('ERR wrong number of arguments'))).toBe(false);
  });

  it('maps Fastify validation, size and media-type errors', () => {
    const validation = Object.assign(new Error('body/question too small'), {
      statusCode: 400,
      validationContext: 'body',
      validation: [{ instancePath: '/options/topN', message: 'Too big' }],
    });
    expect(toApiError(validation)).toMatchObject({
      code: 'invalid_request',
      message: 'invalid request: body.options.topN: Too big',
    });
    expect(toApiError(Object.assign(new Error('too large'), { statusCode: 413 })).code).toBe(
      'payload_too_large',
    );
    expect(toApiError(Object.assign(new Error('bad type'), { statusCode: 415 })).code).toBe(
      'unsupported_media_type',
    );
    expect(toApiError(Object.assign(new Error('bad json'), { statusCode: 400 })).code).toBe(
      'invalid_request',
    );
  });

  it('hides the message of an unexpected error', () => {
    const error = toApiError(new TypeError('secret internals'));
    expect(error).toMatchObject({ code: 'internal', message: 'internal error' });
    expect(errorBody(error, 'req-1')).toEqual({
      error: { code: 'internal', message: 'internal error', requestId: 'req-1' },
    });
  });
});
