/**
 * Documents fetched over http(s). Every hop's host is resolved here, each of its addresses is
 * checked against the network policy, and the connection is pinned to the checked addresses, so
 * that a DNS answer changed between check and connect (rebinding) cannot reach a private host.
 */
import { Buffer } from 'node:buffer';
import type { LookupAddress } from 'node:dns';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { pipeline, type Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import contentDisposition from 'content-disposition';
import { DocumentError, QuireError } from '../errors.js';
import { type AddressPolicy, parseAddress } from './address-policy.js';
import { ownedBytes } from './inline-source.js';
import { redactUrl, safeFileName } from './origin.js';
import { bareHost, pinnedRequest, systemLookup, vetHost as vetAddresses } from './pinned-http.js';
import type { HostLookup, ResolvedSource, UrlSource } from './types.js';

export interface UrlReadOptions {
  maxBytes: number;
  urlTimeoutMs: number;
  maxRedirects: number;
  policy: AddressPolicy;
  lookup?: HostLookup;
  signal?: AbortSignal;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const USER_AGENT = 'Quire (document ingestion)';

/**
 * Parses a source URL and checks its scheme. The URL itself never appears in a message: it may
 * hold credentials.
 */
export function parseSourceUrl(text: string): URL {
  if (!URL.canParse(text)) {
    throw new DocumentError('(invalid URL)', 'invalid_input', 'url is not a valid absolute URL');
  }
  const url = new URL(text);
  checkScheme(url, redactUrl(url), 'url');
  return url;
}

function checkScheme(url: URL, label: string, what: string): void {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new DocumentError(label, 'source_forbidden', `${what} must use http or https, not ${url.protocol}`);
  }
}

/** The IP address a URL names directly (`http://10.0.0.1/`, `http://[::1]/`), else null. */
export function literalAddress(url: URL): string | null {
  const host = bareHost(url);
  return parseAddress(host) === null ? null : host;
}

export async function readUrlSource(source: UrlSource, options: UrlReadOptions): Promise<ResolvedSource> {
  const first = parseSourceUrl(source.url);
  const origin = redactUrl(first);
  options.signal?.throwIfAborted();
  // One controller for the caller's signal and the time limit, unlinked when done: AbortSignal.any
  // keeps a dependant per call on a long-lived caller signal in some Node versions.
  const controller = new AbortController();
  const { signal } = controller;
  const timer = setTimeout(
    () => controller.abort(new DOMException(`no response within ${options.urlTimeoutMs} ms`, 'TimeoutError')),
    options.urlTimeoutMs,
  );
  const onCallerAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onCallerAbort, { once: true });
  try {
    let url = first;
    for (let redirects = 0; ; redirects++) {
      const addresses = await vetHost(url, origin, options, signal);
      const response = await send(url, addresses, requestHeaders(url, first), signal);
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if (REDIRECT_STATUSES.has(status) && location !== undefined) {
        response.destroy();
        if (redirects >= options.maxRedirects) {
          throw new DocumentError(origin, 'source_forbidden', `more than ${options.maxRedirects} redirects`);
        }
        url = redirectTarget(location, url, origin);
        continue;
      }
      if (status < 200 || status > 299) {
        response.destroy();
        throw statusError(status, response, url, first, origin);
      }
      const bytes = await readBody(response, options.maxBytes, origin);
      const claimedType = response.headers['content-type']?.trim();
      return {
        bytes,
        name: responseName(response, url),
        ...(claimedType ? { claimedType } : {}),
        origin,
      };
    }
  } catch (error) {
    throw failure(error, origin, options, signal);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onCallerAbort);
  }
}

/** Resolves the hop's host and returns its addresses, all of them allowed by the policy. */
async function vetHost(
  url: URL,
  origin: string,
  options: UrlReadOptions,
  signal: AbortSignal,
): Promise<LookupAddress[]> {
  const host = bareHost(url);
  const lookup = options.lookup ?? systemLookup;
  const vetted = await vetAddresses(url, options.policy, (name) => untilAborted(lookup(name), signal));
  if (vetted.ok) return vetted.addresses;
  switch (vetted.problem) {
    case 'refused':
      throw new DocumentError(
        origin,
        'source_forbidden',
        `${url.protocol}//${url.host} is refused: ${vetted.reason}`,
      );
    case 'no_address':
      throw new DocumentError(origin, 'source_not_found', `host ${host} has no address`);
    case 'lookup_failed':
      if (signal.aborted) throw vetted.error;
      throw lookupError(vetted.error, host, origin);
  }
}

function lookupError(error: unknown, host: string, origin: string): DocumentError {
  const code = errorCode(error);
  if (code === 'ENOTFOUND' || code === 'ENODATA') {
    return new DocumentError(origin, 'source_not_found', `host ${host} not found`, { cause: error });
  }
  return new DocumentError(
    origin,
    'source_unavailable',
    `host ${host} cannot be resolved (${code ?? 'lookup failed'})`,
    {
      retryable: true,
      cause: error,
    },
  );
}

function send(
  url: URL,
  addresses: readonly LookupAddress[],
  headers: OutgoingHttpHeaders,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = pinnedRequest(url, addresses, { method: 'GET', headers, signal });
    request.on('response', resolve);
    request.on('error', reject);
    request.end();
  });
}

function requestHeaders(url: URL, first: URL): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {
    'user-agent': USER_AGENT,
    accept: '*/*',
    // Compressed bodies are still decoded (and capped) when a server ignores this.
    'accept-encoding': 'identity',
  };
  // Credentials of the source URL go to its own origin only, never to a redirect elsewhere.
  if (url.origin === first.origin && (first.username !== '' || first.password !== '')) {
    const credentials = `${decodeLoose(first.username)}:${decodeLoose(first.password)}`;
    headers.authorization = `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`;
  }
  return headers;
}

function redirectTarget(location: string, from: URL, origin: string): URL {
  if (!URL.canParse(location, from.href)) {
    throw new DocumentError(origin, 'source_forbidden', `redirect from ${redactUrl(from)} to an invalid URL`);
  }
  const target = new URL(location, from);
  checkScheme(target, origin, `redirect from ${redactUrl(from)}`);
  return target;
}

function statusError(
  status: number,
  response: IncomingMessage,
  url: URL,
  first: URL,
  origin: string,
): DocumentError {
  const where = url === first ? '' : ` (at ${redactUrl(url)})`;
  const details = { status };
  if (status === 404 || status === 410) {
    return new DocumentError(origin, 'source_not_found', `HTTP ${status}${where}`, { details });
  }
  // 408 and 429 say "not now" rather than "never".
  if (status === 408 || status === 429 || status >= 500) {
    const retryAfter = response.headers['retry-after'];
    return new DocumentError(origin, 'source_unavailable', `HTTP ${status}${where}`, {
      retryable: true,
      details: retryAfter === undefined ? details : { ...details, retryAfter },
    });
  }
  return new DocumentError(origin, 'source_forbidden', `HTTP ${status}${where}`, { details });
}

async function readBody(response: IncomingMessage, maxBytes: number, origin: string): Promise<Uint8Array> {
  const encoding = (response.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  const declared = response.headers['content-length'];
  if (
    encoding === 'identity' &&
    declared !== undefined &&
    /^\d+$/.test(declared) &&
    Number(declared) > maxBytes
  ) {
    response.destroy();
    throw tooLarge(origin, maxBytes, Number(declared));
  }
  const body = decoded(response, encoding, origin);
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of body) {
      const piece = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      total += piece.byteLength;
      if (total > maxBytes) throw tooLarge(origin, maxBytes);
      chunks.push(piece);
    }
  } catch (error) {
    // Data that does not decompress will not on the next attempt; a cut connection might.
    if (errorCode(error) === 'Z_DATA_ERROR') {
      throw new DocumentError(origin, 'corrupt', 'compressed response body cannot be decoded', {
        cause: error,
      });
    }
    throw error;
  } finally {
    response.destroy();
  }
  return ownedBytes(Buffer.concat(chunks, total));
}

function decoded(response: IncomingMessage, encoding: string, origin: string): Readable {
  const decoder =
    encoding === 'identity'
      ? null
      : encoding === 'gzip' || encoding === 'x-gzip'
        ? createGunzip()
        : encoding === 'deflate'
          ? createInflate()
          : encoding === 'br'
            ? createBrotliDecompress()
            : undefined;
  if (decoder === null) return response;
  if (decoder === undefined) {
    response.destroy();
    throw new DocumentError(
      origin,
      'unsupported_type',
      `content-encoding ${JSON.stringify(encoding)} is not supported`,
    );
  }
  // pipeline destroys the decoder with the response's error, which ends the reading loop.
  pipeline(response, decoder, () => {});
  return decoder;
}

function tooLarge(origin: string, maxBytes: number, size?: number): DocumentError {
  const reason =
    size === undefined
      ? `response body is more than the limit of ${maxBytes} bytes`
      : `response body is ${size} bytes, more than the limit of ${maxBytes}`;
  return new DocumentError(origin, 'too_large', reason, {
    details: { maxBytes, ...(size === undefined ? {} : { bytes: size }) },
  });
}

/** The response's file name, else the URL's last path segment, else the host. */
function responseName(response: IncomingMessage, url: URL): string {
  const header = response.headers['content-disposition'];
  if (header !== undefined) {
    try {
      const filename = contentDisposition.parse(header).parameters.filename;
      const name = filename === undefined ? null : safeFileName(filename);
      if (name !== null) return name;
    } catch {
      // A malformed header is only a missed hint: the URL still gives a name.
    }
  }
  const segment = url.pathname.slice(url.pathname.lastIndexOf('/') + 1);
  return safeFileName(decodeLoose(segment)) ?? bareHost(url);
}

/** Turns whatever ended the fetch into the error the caller should see. */
function failure(error: unknown, origin: string, options: UrlReadOptions, combined: AbortSignal): unknown {
  if (error instanceof QuireError) return error;
  if (options.signal?.aborted) return options.signal.reason;
  if (combined.aborted) {
    return new DocumentError(
      origin,
      'source_unavailable',
      `no complete response within ${options.urlTimeoutMs} ms`,
      {
        retryable: true,
        details: { timeoutMs: options.urlTimeoutMs },
      },
    );
  }
  const code = errorCode(error);
  // A certificate that does not verify will not verify on the next attempt either.
  if (code !== undefined && /^ERR_TLS_|CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/.test(code)) {
    return new DocumentError(origin, 'source_forbidden', `TLS certificate rejected (${code})`, {
      cause: error,
    });
  }
  return new DocumentError(origin, 'source_unavailable', `connection failed (${code ?? describe(error)})`, {
    retryable: true,
    cause: error,
  });
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function decodeLoose(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : 'unknown error';
}
