import { BadRequestError } from '../errors.js';

/**
 * The error for parameters no server could accept, raised before any request is sent. Same type,
 * status and code from the HTTP client and the built-in models, so callers handle it once.
 */
export function invalidRequest(endpoint: string, message: string): BadRequestError {
  return new BadRequestError(`${endpoint}: 400 ${message}`, {
    status: 400,
    code: 'invalid_request',
    providerMessage: message,
    endpoint,
  });
}
