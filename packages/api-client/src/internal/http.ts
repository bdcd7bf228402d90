import {
  ApiAbortError,
  ApiConnectionError,
  ApiError,
  ApiTimeoutError,
  InvalidResponseError,
  makeApiError,
  readRequestId,
} from '../errors.js';
import { readRateLimitHeaders } from '../rate-limit-headers.js';
import type { Logger, RateLimitInfo } from '../types.js';
import { redact } from './redact.js';
import { type RetryOptions, withRetries } from './retry.js';
import type { HttpAnswer, Send } from './senders.js';
import { type SseEvent, SseParser } from './sse.js';

export type { Fetch } from './senders.js';

export interface TransportConfig {
  baseURL: string;
  apiKey: string | undefined;
  /** How requests go out: an injected `fetch`, or undici's keep-alive pool. */
  send: Send;
  logger: Logger | undefined;
  defaultHeaders: Record<string, string>;
  initialRetryDelay: number;
  maxRetryDelay: number;
}

/** Per-call settings after the client defaults have been applied. */
export interface CallSettings {
  signal: AbortSignal | undefined;
  timeout: number;
  maxRetries: number;
  headers: Record<string, string>;
  onRequest: (() => void) | undefined;
  onRateLimit: ((info: RateLimitInfo) => void) | undefined;
}

export interface JsonResponse {
  data: unknown;
  status: number;
  requestId: string | undefined;
}

/** Header names whose values are credentials, whatever the provider calls them. */
const SECRET_HEADER_RE = /authorization|api[-_]?key|token|secret|password/i;

/**
 * One attempt's lifetime: an AbortController fired by the caller's signal or by the attempt
 * timeout, whichever comes first, remembering which it was so the failure gets the right type.
 */
class Attempt {
  readonly controller = new AbortController();
  #timedOut = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #userSignal: AbortSignal | undefined;
  readonly #timeout: number;
  readonly #onUserAbort = (): void => this.controller.abort(this.#userSignal?.reason);

  constructor(userSignal: AbortSignal | undefined, timeout: number) {
    this.#userSignal = userSignal;
    this.#timeout = timeout;
    if (userSignal?.aborted) this.controller.abort(userSignal.reason);
    else userSignal?.addEventListener('abort', this.#onUserAbort, { once: true });
    this.restartTimer();
  }

  /** Starts the timeout again: for streams it bounds the silence between chunks, not the whole answer. */
  restartTimer(): void {
    clearTimeout(this.#timer);
    if (this.controller.signal.aborted) return;
    this.#timer = setTimeout(() => {
      this.#timedOut = true;
      this.controller.abort(new Error('timeout'));
    }, this.#timeout);
  }

  pauseTimer(): void {
    clearTimeout(this.#timer);
  }

  /**
   * Settles with `promise`, or rejects as soon as the attempt is aborted — even if an injected
   * `fetch` ignores its signal, a timeout still ends the call.
   */
  race<T>(promise: Promise<T>): Promise<T> {
    const signal = this.controller.signal;
    if (signal.aborted) {
      promise.catch(() => undefined);
      return Promise.reject(signal.reason);
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason);
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

  /** Turns whatever went wrong into the matching {@link ApiError}. */
  failure(error: unknown, endpoint: string, secrets: readonly string[]): ApiError {
    if (error instanceof ApiError) return error;
    if (this.#userSignal?.aborted) {
      return new ApiAbortError(`${endpoint}: request was aborted`, {
        endpoint,
        cause: this.#userSignal.reason,
      });
    }
    if (this.#timedOut) {
      return new ApiTimeoutError(`${endpoint}: request timed out after ${this.#timeout} ms`, { endpoint });
    }
    const detail = error instanceof Error ? describeCause(error) : String(error);
    return new ApiConnectionError(`${endpoint}: connection error: ${redact(detail, secrets)}`, {
      endpoint,
      cause: sanitizeCause(error, secrets),
    });
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.#userSignal?.removeEventListener('abort', this.#onUserAbort);
  }
}

/** `fetch failed` says little; undici puts the useful part (ECONNREFUSED, ...) in `cause`. */
function describeCause(error: Error): string {
  const inner = error.cause;
  if (inner instanceof Error && inner.message !== '' && inner.message !== error.message) {
    return `${error.message} (${inner.message})`;
  }
  return error.message;
}

/** A cause whose message or stack would reveal a secret is replaced by a redacted copy. */
function sanitizeCause(error: unknown, secrets: readonly string[]): unknown {
  if (!(error instanceof Error)) return typeof error === 'string' ? redact(error, secrets) : error;
  const text = `${error.message}\n${error.stack ?? ''}`;
  if (redact(text, secrets) === text) return error;
  const copy = new Error(redact(error.message, secrets));
  copy.name = error.name;
  copy.stack = redact(error.stack ?? '', secrets);
  return copy;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/**
 * Sends JSON requests to the model API: headers, per-attempt timeout, caller abort, error mapping
 * and retries. Holds the API key in a private field, so neither `util.inspect` nor
 * `JSON.stringify` of a client shows it.
 */
export class Transport {
  readonly #config: TransportConfig;
  readonly #secrets: readonly string[];

  constructor(config: TransportConfig) {
    this.#config = { ...config, baseURL: config.baseURL.replace(/\/+$/, '') };
    const secrets: string[] = [];
    if (config.apiKey) secrets.push(config.apiKey);
    for (const [name, value] of Object.entries(config.defaultHeaders)) {
      if (SECRET_HEADER_RE.test(name) && value !== '') secrets.push(value);
    }
    this.#secrets = secrets;
  }

  /** Secrets of this call: the client's, plus credential-like headers given for the call only. */
  #secretsFor(settings: CallSettings): readonly string[] {
    const extra = Object.entries(settings.headers)
      .filter(([name, value]) => SECRET_HEADER_RE.test(name) && value !== '')
      .map(([, value]) => value);
    return extra.length === 0 ? this.#secrets : [...this.#secrets, ...extra];
  }

  /** `text` with the secrets of this call removed, for messages built from provider data. */
  redact(text: string, settings: CallSettings): string {
    return redact(text, this.#secretsFor(settings));
  }

  get baseURL(): string {
    return this.#config.baseURL;
  }

  /** POSTs `body` and returns the parsed JSON of a 2xx answer, retrying as configured. */
  async postJson(path: string, body: unknown, settings: CallSettings): Promise<JsonResponse> {
    const secrets = this.#secretsFor(settings);
    return withRetries(
      async (attemptNumber) => {
        const attempt = new Attempt(settings.signal, settings.timeout);
        try {
          const response = await this.#send(path, body, settings, secrets, attempt, attemptNumber, false);
          const text = await attempt.race(response.text());
          const requestId = readRequestId(response.headers);
          const parsed = parseJson(text);
          if (!parsed.ok) {
            throw new InvalidResponseError(
              `${path}: response is not valid JSON (status ${response.status})`,
              {
                // A body cut short or garbled on its way is a transport fault: asking again may cure it.
                retryable: true,
                status: response.status,
                requestId,
                endpoint: path,
              },
            );
          }
          return { data: parsed.value, status: response.status, requestId };
        } catch (error) {
          throw attempt.failure(error, path, secrets);
        } finally {
          attempt.dispose();
        }
      },
      this.#retryOptions(path, settings),
    );
  }

  /**
   * POSTs `body` asking for an event stream and yields its events. Retries cover getting a 2xx
   * response; once events flow, a failure ends the stream (a retry would repeat what was read).
   * The timeout bounds each wait for data.
   */
  async *postStream(path: string, body: unknown, settings: CallSettings): AsyncGenerator<SseEvent> {
    const secrets = this.#secretsFor(settings);
    let attempt: Attempt | undefined;
    const response = await withRetries(
      async (attemptNumber) => {
        const current = new Attempt(settings.signal, settings.timeout);
        try {
          const result = await this.#send(path, body, settings, secrets, current, attemptNumber, true);
          attempt = current;
          return result;
        } catch (error) {
          current.dispose();
          throw current.failure(error, path, secrets);
        }
      },
      this.#retryOptions(path, settings),
    );
    const live = attempt!;
    const requestId = readRequestId(response.headers);
    const reader = response.reader();
    if (reader === null) {
      live.dispose();
      throw new InvalidResponseError(`${path}: streaming response has no body`, {
        status: response.status,
        requestId,
        endpoint: path,
      });
    }
    const decoder = new TextDecoder();
    const parser = new SseParser();
    try {
      for (;;) {
        live.restartTimer();
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
          chunk = await live.race(reader.read());
        } catch (error) {
          throw live.failure(error, path, secrets);
        }
        // A slow consumer is not a silent server: the clock runs only while we wait for data.
        live.pauseTimer();
        const events = chunk.done
          ? [...parser.push(decoder.decode()), ...parser.end()]
          : parser.push(decoder.decode(chunk.value, { stream: true }));
        for (const event of events) yield event;
        if (chunk.done) return;
      }
    } finally {
      live.dispose();
      // Stops the download when the consumer leaves early ([DONE], break, error).
      reader.cancel().catch(() => undefined);
    }
  }

  async #send(
    path: string,
    body: unknown,
    settings: CallSettings,
    secrets: readonly string[],
    attempt: Attempt,
    attemptNumber: number,
    stream: boolean,
  ): Promise<HttpAnswer> {
    // Aborted before we started (or while waiting to retry): no request at all.
    attempt.controller.signal.throwIfAborted();
    const url = `${this.#config.baseURL}${path}`;
    const started = Date.now();
    this.#config.logger?.debug(
      { endpoint: path, url: redact(url, secrets), attempt: attemptNumber },
      'model API request',
    );
    const request = this.#config.send(url, {
      headers: this.#headers(settings, stream),
      body: JSON.stringify(body),
      signal: attempt.controller.signal,
    });
    try {
      settings.onRequest?.();
    } catch {
      // The caller's business; the request goes on.
    }
    const response = await attempt.race(request);
    if (settings.onRateLimit !== undefined) {
      const info = readRateLimitHeaders(response.headers, response.status);
      try {
        if (info !== undefined) settings.onRateLimit(info);
      } catch {
        // The caller's business; the answer goes on.
      }
    }
    this.#config.logger?.debug(
      {
        endpoint: path,
        status: response.status,
        requestId: readRequestId(response.headers),
        durationMs: Date.now() - started,
      },
      'model API response',
    );
    if (response.status >= 200 && response.status < 300) return response;
    const text = await attempt.race(response.text());
    const parsed = parseJson(text);
    throw makeApiError({
      status: response.status,
      body: parsed.ok ? parsed.value : text,
      headers: response.headers,
      endpoint: path,
      secrets,
    });
  }

  /** Lower-case names, so that a per-call header replaces a default one whatever its case. */
  #headers(settings: CallSettings, stream: boolean): Record<string, string> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: stream ? 'text/event-stream' : 'application/json',
    };
    if (this.#config.apiKey) headers.authorization = `Bearer ${this.#config.apiKey}`;
    for (const [name, value] of Object.entries(this.#config.defaultHeaders))
      headers[name.toLowerCase()] = value;
    for (const [name, value] of Object.entries(settings.headers)) headers[name.toLowerCase()] = value;
    return headers;
  }

  #retryOptions(path: string, settings: CallSettings): RetryOptions {
    return {
      maxRetries: settings.maxRetries,
      signal: settings.signal,
      logger: this.#config.logger,
      endpoint: path,
      initialDelayMs: this.#config.initialRetryDelay,
      maxDelayMs: this.#config.maxRetryDelay,
    };
  }
}
