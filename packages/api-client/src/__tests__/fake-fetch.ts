import type { Fetch } from '../internal/http.js';
import type { Logger } from '../types.js';

/** One request as the fake server saw it. */
export interface RecordedCall {
  url: string;
  method: string;
  headers: Headers;
  /** The parsed JSON body. */
  body: Record<string, unknown>;
  signal: AbortSignal | undefined;
}

export type Handler = (call: RecordedCall) => Response | Promise<Response>;

/**
 * A `fetch` answering with `handlers` in order, one per request; the last one answers any further
 * request. Records every call.
 */
export function fakeFetch(...handlers: Handler[]): { fetch: Fetch; calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  const fetch: Fetch = async (url, init) => {
    const call: RecordedCall = {
      url,
      method: init.method ?? 'GET',
      headers: new Headers(init.headers),
      body: JSON.parse(String(init.body)) as Record<string, unknown>,
      signal: init.signal ?? undefined,
    };
    calls.push(call);
    const handler = handlers[Math.min(calls.length, handlers.length) - 1];
    if (handler === undefined) throw new Error('fakeFetch: no handler');
    return handler(call);
  };
  return { fetch, calls };
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

/** Never answers; rejects like fetch does when its signal aborts. */
export function hang(call: RecordedCall): Promise<Response> {
  return new Promise((_, reject) => {
    call.signal?.addEventListener('abort', () => reject(call.signal?.reason), { once: true });
  });
}

/** An event-stream response delivering `chunks` (strings or raw bytes) one by one. */
export function sse(
  chunks: readonly (string | Uint8Array)[],
  options: { hangAtEnd?: boolean } = {},
): Response {
  const encoder = new TextEncoder();
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const chunk = chunks[i++];
      if (chunk !== undefined) {
        controller.enqueue(typeof chunk === 'string' ? encoder.encode(chunk) : chunk);
        return;
      }
      // A server that stops talking without closing the connection.
      if (options.hangAtEnd) await new Promise<void>(() => undefined);
      controller.close();
    },
  });
  return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
}

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  obj: object;
  msg: string | undefined;
}

/** A logger that keeps what it is told. */
export function recordingLogger(): Logger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at =
    (level: LogEntry['level']) =>
    (obj: object, msg?: string): void => {
      entries.push({ level, obj, msg });
    };
  return { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
