/**
 * The two ways the transport sends a request: an injected `fetch`, or by default undici's
 * `Agent.request` over a keep-alive pool. Both give the transport the same small answer shape, so
 * timeouts, abort, retries, error mapping and redaction stay in one place (`http.ts`).
 */
import type { Agent } from 'undici';
import type { HeaderReader } from './retry-after.js';

/** The subset of `fetch` the client needs; `globalThis.fetch` fits. */
export type Fetch = (url: string, init: RequestInit) => Promise<Response>;

export interface HttpRequest {
  /** Lower-case names. */
  headers: Record<string, string>;
  body: string;
  /** Aborts the request and its body: the attempt's timeout or the caller's abort. */
  signal: AbortSignal;
}

/** The body of an answer read piece by piece (event streams). */
export interface BodyReader {
  read(): Promise<{ done: true; value?: undefined } | { done: false; value: Uint8Array }>;
  /** Stops the download and gives the connection up. */
  cancel(): Promise<void>;
}

export interface HttpAnswer {
  status: number;
  headers: HeaderReader;
  /** The whole body as UTF-8 text. */
  text(): Promise<string>;
  /** The body piece by piece; null when the answer has none. */
  reader(): BodyReader | null;
}

/** POSTs one request. */
export type Send = (url: string, request: HttpRequest) => Promise<HttpAnswer>;

/** Sends through a `fetch` (an injected one, or `globalThis.fetch` when asked for). */
export function fetchSender(fetch: Fetch): Send {
  return async (url, request) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      signal: request.signal,
    });
    return {
      status: response.status,
      headers: response.headers,
      text: () => response.text(),
      reader: () => {
        const reader = response.body?.getReader();
        if (reader === undefined) return null;
        return {
          read: () => reader.read() as ReturnType<BodyReader['read']>,
          cancel: () => reader.cancel(),
        };
      },
    };
  };
}

let sharedAgent: Promise<Agent> | undefined;

/**
 * One pool of keep-alive connections per origin for every client of the process, as the global
 * `fetch` has. undici's own timeouts are off: the transport's attempt timeout (the caller's
 * `timeout`) bounds the wait for headers and, for streams, each silence, whatever its length.
 * Idle connections do not keep the process alive.
 *
 * undici is loaded when the first client is made (~0.17 s of CPU), not with this package: a
 * process on the built-in models never loads it. A failure to load it is tried again next time.
 */
function agent(): Promise<Agent> {
  sharedAgent ??= import('undici').then(
    ({ Agent }) => new Agent({ headersTimeout: 0, bodyTimeout: 0 }),
    (error: unknown) => {
      sharedAgent = undefined;
      throw error;
    },
  );
  return sharedAgent;
}

/**
 * Sends with undici's `Agent.request`: the same HTTP client as Node's `fetch`, without the WHATWG
 * `Request`/`Response`/stream objects around it, which cost several times the CPU per request.
 * Redirects are not followed (model APIs answer where they are asked) and bodies are not
 * decompressed: no `accept-encoding` is sent, so servers answer uncompressed.
 */
export function undiciSender(): Send {
  // Loading starts with the client, so that its first request seldom waits for it.
  agent().catch(() => undefined);
  return async (url, request) => {
    const target = new URL(url);
    const dispatcher = await agent();
    const answer = await dispatcher.request({
      origin: target.origin,
      path: `${target.pathname}${target.search}`,
      method: 'POST',
      headers: request.headers,
      body: request.body,
      signal: request.signal,
    });
    const headers = answer.headers;
    const body = answer.body;
    return {
      status: answer.statusCode,
      headers: {
        get(name: string): string | null {
          const value = headers[name.toLowerCase()];
          if (value === undefined) return null;
          return Array.isArray(value) ? value.join(', ') : value;
        },
      },
      text: () => body.text(),
      reader: () => {
        const chunks = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
        return {
          async read() {
            const next = await chunks.next();
            return next.done === true ? { done: true } : { done: false, value: next.value };
          },
          async cancel() {
            body.destroy();
          },
        };
      },
    };
  };
}
