/**
 * The gateway backend (`--url`): Quire's HTTP API under `/v1`, for machines that cannot reach Redis.
 * The tenant is the API key's (the gateway never takes it from a request), files are uploaded
 * (the gateway refuses `path` sources: its workers cannot see this machine's files), and every
 * response is validated before use.
 *
 * `status` reads the queue counts from the gateway's Prometheus metrics (with the admin key); failed jobs and
 * `--retry-failed` need direct Redis access, which the HTTP API does not give tenants.
 */
import { randomUUID } from 'node:crypto';
import { openAsBlob } from 'node:fs';
import { basename } from 'node:path';
import {
  AnswerSchema,
  BatchStatusSchema,
  DocumentListSchema,
  type DocumentSummary,
  ErrorBodySchema,
  EvalStatusSchema,
  HealthSchema,
  JobAcceptedSchema,
  JobStatusSchema,
} from '@quire/contracts';
import {
  type BatchInput,
  BatchReportSchema,
  type EvalInput,
  EvalReportSchema,
  JobFailedError,
  type JobStatus,
  JobTimeoutError,
  type QueryJobInput,
  type QueryResult,
  QueryResultSchema,
  type QueueName,
} from '@quire/jobs';
import * as z from 'zod';
import { CliError, errorMessage } from '../errors.js';
import { pause } from '../poll.js';
import { redactUrl } from '../redact.js';
import {
  type AskOptions,
  type Backend,
  type BatchView,
  COUNTED_STATES,
  type CountedState,
  type DocumentSubmission,
  type EvalView,
  type QueueCounts,
  type SentAs,
  type StatusOptions,
  type StatusReport,
} from './types.js';

export interface GatewayBackendOptions {
  /** Base URL of the gateway, without `/v1`. */
  baseUrl: string;
  apiKey: string | undefined;
  /**
   * The gateway's admin key, for `status`: its queue counts (all tenants together) come from
   * `/metrics`, which takes the admin key. Never printed.
   */
  adminKey?: string | undefined;
  /** Time limit of one HTTP request, in ms. Default 30,000 (uploads get ten times as long). */
  requestTimeoutMs?: number;
  /** Interval between polls of a job, in ms. Default 250. */
  pollMs?: number;
  /** Further tries after a connection error, a 500 or a 503 (POSTs are made safe to repeat by an Idempotency-Key). Default 2. */
  retries?: number;
  /** Replaces the global `fetch` (tests). */
  fetch?: typeof fetch;
}

// --- Response bodies: the gateway's own schemas, from `@quire/contracts`

// The CLI reads the fields it uses, so a gateway that adds fields (or, for `next`, one from before
// document pages) is still understood.
const AcceptedSchema = JobAcceptedSchema.pick({ jobId: true });
const BatchStatusBodySchema = BatchStatusSchema.pick({
  batchId: true,
  state: true,
  total: true,
  answered: true,
  failed: true,
  failedReason: true,
});
const EvalStatusBodySchema = EvalStatusSchema.pick({
  evalId: true,
  state: true,
  step: true,
  documents: true,
  documentsDone: true,
  questions: true,
  questionsDone: true,
  failedReason: true,
});
const DocumentListBodySchema = DocumentListSchema.extend({ next: DocumentListSchema.shape.next.optional() });

/** Documents asked for per page when listing through a gateway (its most). */
const DOCUMENT_PAGE = 1000;

/** Opens the backend after checking that the gateway answers, so a wrong URL fails at once. */
export async function openGatewayBackend(options: GatewayBackendOptions): Promise<GatewayBackend> {
  if (options.apiKey === undefined || options.apiKey === '') {
    throw new CliError('the gateway needs an API key: set QUIRE_API_KEY (or pass --api-key)', 2);
  }
  const backend = new GatewayBackend(options);
  await backend.checkHealth();
  return backend;
}

/** An HTTP answer the CLI did not expect, with the gateway's own code and message. */
export class GatewayError extends CliError {
  override name = 'GatewayError';
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | null,
  ) {
    super(message);
  }
}

export class GatewayBackend implements Backend {
  readonly target: string;
  readonly tenantFromKey = true;
  readonly #base: URL;
  readonly #apiKey: string;
  readonly #adminKey: string | undefined;
  readonly #timeoutMs: number;
  readonly #pollMs: number;
  readonly #retries: number;
  readonly #fetch: typeof fetch;

  constructor(options: GatewayBackendOptions) {
    this.#base = new URL(options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`);
    this.#apiKey = options.apiKey ?? '';
    this.#adminKey = options.adminKey === '' ? undefined : options.adminKey;
    this.#timeoutMs = options.requestTimeoutMs ?? 30_000;
    this.#pollMs = options.pollMs ?? 250;
    this.#retries = options.retries ?? 2;
    this.#fetch = options.fetch ?? fetch;
    this.target = `gateway ${redactUrl(this.#base.toString())}`;
  }

  async checkHealth(): Promise<void> {
    await this.#request('GET', 'healthz', { schema: HealthSchema, auth: false });
  }

  async submitDocument(document: DocumentSubmission): Promise<{ jobId: string; sentAs: SentAs }> {
    const { input } = document;
    if (input.kind === 'url') {
      const body = {
        documentId: document.documentId,
        source: { kind: 'url', url: input.url },
        ...(document.sourceName !== undefined ? { sourceName: document.sourceName } : {}),
        ...(document.metadata !== undefined ? { metadata: document.metadata } : {}),
        ...(document.password !== undefined ? { password: document.password } : {}),
        ...(document.force === true ? { force: true } : {}),
        ...(document.ocr !== undefined ? { ocr: document.ocr } : {}),
      };
      const { jobId } = await this.#request('POST', 'v1/documents', { schema: AcceptedSchema, json: body });
      return { jobId, sentAs: 'url' };
    }
    const form = new FormData();
    form.append('documentId', document.documentId);
    if (document.sourceName !== undefined) form.append('sourceName', document.sourceName);
    if (document.metadata !== undefined) form.append('metadata', JSON.stringify(document.metadata));
    if (document.password !== undefined) form.append('password', document.password);
    if (document.force === true) form.append('force', 'true');
    if (document.ocr?.mode !== undefined) form.append('ocr', document.ocr.mode);
    if (document.ocr?.langs !== undefined) form.append('ocrLangs', document.ocr.langs.join(','));
    // Appended last: the gateway reads the fields either way, but a streaming reader prefers them first.
    form.append('file', await openAsBlob(input.path), basename(input.path));
    const { jobId } = await this.#request('POST', 'v1/documents/upload', {
      schema: AcceptedSchema,
      form,
      timeoutMs: this.#timeoutMs * 10,
    });
    return { jobId, sentAs: 'upload' };
  }

  async enqueueDelete(input: { tenant: string; documentId: string }): Promise<{ jobId: string }> {
    const { jobId } = await this.#request('DELETE', `v1/documents/${encodeURIComponent(input.documentId)}`, {
      schema: AcceptedSchema,
    });
    return { jobId };
  }

  getDocumentJob(jobId: string): Promise<JobStatus | null> {
    return this.#job('ingest', jobId);
  }

  async ask(input: QueryJobInput, options: AskOptions): Promise<QueryResult> {
    const deadline = Date.now() + options.timeoutMs;
    const body = {
      question: input.question,
      ...(input.filter ? { filter: input.filter } : {}),
      ...(input.options ? { options: input.options } : {}),
      wait: true,
      // The server caps its own wait; past it the answer is polled for.
      waitMs: Math.min(options.timeoutMs, 600_000),
    };
    const answered = await this.#request('POST', 'v1/queries', {
      schema: z.union([AnswerSchema, AcceptedSchema]),
      json: body,
      timeoutMs: options.timeoutMs + this.#timeoutMs,
    });
    if ('result' in answered) return answered.result;
    const { jobId } = answered;
    for (;;) {
      const status = await this.#job('query', jobId);
      if (status === null) throw new JobFailedError(jobId, 'the job no longer exists');
      if (status.state === 'completed') {
        const result = QueryResultSchema.safeParse(status.result);
        if (!result.success) throw new CliError(`the gateway returned a malformed answer for job ${jobId}`);
        return result.data;
      }
      if (status.state === 'failed') throw new JobFailedError(jobId, status.failedReason ?? 'failed');
      if (Date.now() >= deadline) throw new JobTimeoutError(jobId, options.timeoutMs);
      if (!(await pause(this.#pollMs, options.signal))) {
        throw new CliError(`stopped waiting; question job ${jobId} goes on`, 130);
      }
    }
  }

  async enqueueBatch(input: BatchInput): Promise<{ batchId: string }> {
    const { tenant: _tenant, ...body } = input;
    const { jobId } = await this.#request('POST', 'v1/batches', { schema: AcceptedSchema, json: body });
    return { batchId: jobId };
  }

  async getBatch(batchId: string): Promise<BatchView | null> {
    const path = `v1/batches/${encodeURIComponent(batchId)}`;
    const status = await this.#request('GET', path, { schema: BatchStatusBodySchema, notFound: true });
    if (status === null) return null;
    const view: BatchView = { ...status, report: null };
    if (status.state === 'completed') {
      view.report = await this.#request('GET', `${path}/results`, { schema: BatchReportSchema });
    }
    return view;
  }

  async enqueueEval(input: EvalInput, options: { maxTokens?: number }): Promise<{ evalId: string }> {
    const { tenant: _tenant, ...body } = input;
    const json = options.maxTokens === undefined ? body : { ...body, maxTokens: options.maxTokens };
    const { jobId } = await this.#request('POST', 'v1/evals', { schema: AcceptedSchema, json });
    return { evalId: jobId };
  }

  async getEval(evalId: string): Promise<EvalView | null> {
    const path = `v1/evals/${encodeURIComponent(evalId)}`;
    const status = await this.#request('GET', path, { schema: EvalStatusBodySchema, notFound: true });
    if (status === null) return null;
    const view: EvalView = { ...status, report: null };
    if (status.state === 'completed') {
      view.report = await this.#request('GET', `${path}/report`, { schema: EvalReportSchema });
    }
    return view;
  }

  async listDocuments(): Promise<DocumentSummary[]> {
    const all: DocumentSummary[] = [];
    const cursors = new Set<string>();
    let after: string | null | undefined;
    do {
      const query = new URLSearchParams({ limit: String(DOCUMENT_PAGE) });
      if (after) query.set('after', after);
      const page = await this.#request('GET', `v1/documents?${query}`, { schema: DocumentListBodySchema });
      all.push(...page.documents);
      const next = page.next;
      // A cursor seen before would page forever.
      if (next && cursors.has(next)) {
        throw new Error(`the gateway's document listing came back to ${JSON.stringify(next)}`);
      }
      if (next) cursors.add(next);
      after = next;
    } while (after);
    return all;
  }

  async status(options: StatusOptions): Promise<StatusReport> {
    if (this.#adminKey === undefined) {
      throw new CliError(
        "status through the gateway reads its /metrics, which takes the gateway's admin key: set QUIRE_ADMIN_KEY (or run status with REDIS_URL)",
        2,
      );
    }
    const text = await this.#request('GET', 'metrics', { text: true, auth: 'admin' });
    const depths = parseQueueDepths(text);
    const queues: QueueCounts[] = options.queues.map((queue) => ({
      queue,
      counts: Object.fromEntries(COUNTED_STATES.map((s) => [s, depths.get(`${queue}/${s}`) ?? 0])) as Record<
        CountedState,
        number
      >,
      workers: null,
    }));
    return { queues, failed: [], failedListed: false };
  }

  async retryFailed(): Promise<number> {
    throw new CliError(
      '--retry-failed needs direct access to Redis (run it without --url, with REDIS_URL); the gateway does not retry jobs for tenants',
      2,
    );
  }

  async workerCount(): Promise<number | null> {
    return null;
  }

  async close(): Promise<void> {}

  async #job(queue: QueueName, jobId: string): Promise<JobStatus | null> {
    const body = await this.#request('GET', `v1/jobs/${queue}/${encodeURIComponent(jobId)}`, {
      schema: JobStatusSchema,
      notFound: true,
    });
    if (body === null) return null;
    const ms = (iso: string | null) => (iso === null ? null : Date.parse(iso));
    return {
      id: body.jobId,
      queue: body.queue,
      name: body.name,
      state: body.state,
      tenant: null,
      progress: body.progress ?? null,
      result: body.result ?? null,
      failedReason: body.failedReason,
      attemptsMade: body.attemptsMade,
      createdAt: Date.parse(body.createdAt),
      processedAt: ms(body.processedAt),
      finishedAt: ms(body.finishedAt),
    };
  }

  #request(method: string, path: string, options: { text: true; auth?: boolean | 'admin' }): Promise<string>;
  #request<S extends z.ZodType>(
    method: string,
    path: string,
    options: RequestOptions<S> & { notFound: true },
  ): Promise<z.infer<S> | null>;
  #request<S extends z.ZodType>(
    method: string,
    path: string,
    options: RequestOptions<S>,
  ): Promise<z.infer<S>>;
  async #request<S extends z.ZodType>(
    method: string,
    path: string,
    options: RequestOptions<S> | { text: true; auth?: boolean | 'admin' },
  ): Promise<z.infer<S> | string | null> {
    const url = new URL(path, this.#base);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.auth === 'admin') headers.authorization = `Bearer ${this.#adminKey ?? ''}`;
    else if (options.auth !== false) headers.authorization = `Bearer ${this.#apiKey}`;
    let body: string | FormData | undefined;
    if ('json' in options && options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if ('form' in options && options.form !== undefined) {
      body = options.form;
    }
    const timeoutMs = ('timeoutMs' in options ? options.timeoutMs : undefined) ?? this.#timeoutMs;
    // Requests that create a job carry an Idempotency-Key, so that sending one again after a lost
    // connection or a 500/503 gives the same job instead of a second one.
    if (method !== 'GET') headers['idempotency-key'] = `quire-cli-${randomUUID()}`;
    let response: Response | undefined;
    let text = '';
    for (let attempt = 0; ; attempt += 1) {
      const last = attempt >= this.#retries;
      try {
        response = await this.#fetch(url, { method, headers, body, signal: AbortSignal.timeout(timeoutMs) });
      } catch (error) {
        const timedOut = error instanceof Error && error.name === 'TimeoutError';
        if (last || timedOut)
          throw new CliError(`cannot reach the ${this.target} (${describeFetchError(error)})`);
        await pause(RETRY_DELAY_MS * 2 ** attempt);
        continue;
      }
      text = await response.text();
      if (last || !RETRIED_STATUSES.has(response.status)) break;
      await pause(RETRY_DELAY_MS * 2 ** attempt);
    }
    if ('notFound' in options && options.notFound && response.status === 404) return null;
    if (!response.ok) throw gatewayError(response.status, text, method, url.pathname);
    if ('text' in options) return text;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new CliError(
        `the ${this.target} answered ${method} ${url.pathname} with something other than JSON`,
      );
    }
    const parsed = options.schema.safeParse(json);
    if (!parsed.success) {
      throw new CliError(
        `the ${this.target} answered ${method} ${url.pathname} with an unexpected body: ${parsed.error.issues[0]?.path.join('.') || '(root)'}: ${parsed.error.issues[0]?.message}`,
      );
    }
    return parsed.data;
  }
}

/** Answers worth one more try: the gateway's own fault, or Redis briefly out of reach. */
const RETRIED_STATUSES = new Set([500, 503]);
const RETRY_DELAY_MS = 200;

interface RequestOptions<S extends z.ZodType> {
  schema: S;
  json?: unknown;
  form?: FormData;
  auth?: boolean;
  notFound?: boolean;
  timeoutMs?: number;
}

function gatewayError(status: number, text: string, method: string, path: string): GatewayError {
  let code: string | null = null;
  let message = `${method} ${path} answered HTTP ${status}`;
  try {
    const parsed = ErrorBodySchema.safeParse(JSON.parse(text));
    if (parsed.success) {
      code = parsed.data.error.code;
      const id = parsed.data.error.requestId ? `, request ${parsed.data.error.requestId}` : '';
      message = `${parsed.data.error.message} (${code}${id})`;
    }
  } catch {
    // Not the gateway's error body (a proxy's page, say): the status line says enough.
  }
  if (status === 401)
    message = `the gateway refused the API key (check QUIRE_API_KEY or --api-key): ${message}`;
  return new GatewayError(message, status, code);
}

function describeFetchError(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return 'no answer in time';
  const cause =
    error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  return cause?.code ?? cause?.message ?? errorMessage(error);
}

/** Reads `quire_queue_jobs{queue="…",state="…"} n` samples from Prometheus text into `queue/state → n`. */
export function parseQueueDepths(text: string): Map<string, number> {
  const depths = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^quire_queue_jobs\{([^}]*)\}\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels = new Map(
      [...(match[1] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    const value = Number(match[2]);
    const queue = labels.get('queue');
    const state = labels.get('state');
    if (queue !== undefined && state !== undefined && Number.isFinite(value))
      depths.set(`${queue}/${state}`, value);
  }
  return depths;
}
