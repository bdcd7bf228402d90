import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { QueryResult } from '@quire/jobs';
import { makeTempDir } from '@quire/testkit';
import { describe, expect, it } from 'vitest';
import { GatewayBackend, openGatewayBackend, parseQueueDepths } from './gateway.js';

interface Seen {
  method: string;
  path: string;
  headers: Headers;
  body: unknown;
}

/** A fake gateway: answers each request from `routes` ("METHOD /path" → [status, body]) in turn. */
function fakeFetch(routes: Record<string, [number, unknown][]>) {
  const seen: Seen[] = [];
  const impl = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(String(input));
    const key = `${init.method ?? 'GET'} ${url.pathname}`;
    seen.push({
      method: init.method ?? 'GET',
      path: url.pathname + url.search,
      headers: new Headers(init.headers),
      body: init.body,
    });
    const answers = routes[key];
    const next = answers?.length === 1 ? answers[0] : answers?.shift();
    if (!next)
      return new Response('{"error":{"code":"not_found","message":"no route","requestId":"r0"}}', {
        status: 404,
      });
    const [status, body] = next;
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status });
  };
  return { fetch: impl as typeof fetch, seen };
}

const backend = (fake: ReturnType<typeof fakeFetch>) =>
  new GatewayBackend({ baseUrl: 'http://gw.test:8080', apiKey: 'secret-key', fetch: fake.fetch, pollMs: 1 });

const result: QueryResult = {
  v: 1,
  tenant: 'acme',
  question: 'Why?',
  answer: 'Because. [1]',
  notFound: false,
  generated: true,
  citations: [
    {
      number: 1,
      documentId: 'a.md',
      sourceName: 'a.md',
      pageStart: null,
      pageEnd: null,
      chunkIndex: 0,
      excerpt: 'Because.',
    },
  ],
  passages: [],
  reranked: true,
  removedCitations: [],
  usage: { embeddingTokens: 1, documentsReranked: 1, promptTokens: 0, completionTokens: 0 },
  timingsMs: { embed: 1, search: 1, rerank: 1, generate: 1, total: 4 },
  candidates: 1,
  promptVersion: 'p1',
};

const jobStatus = (state: string, extra: Record<string, unknown> = {}) => ({
  jobId: 'j1',
  queue: 'query',
  name: 'query',
  state,
  progress: null,
  result: null,
  failedReason: null,
  attemptsMade: 0,
  createdAt: '2024-01-01T00:00:00.000Z',
  processedAt: null,
  finishedAt: null,
  ...extra,
});

describe('GatewayBackend', () => {
  it('needs an API key, and checks that the gateway answers', async () => {
    await expect(openGatewayBackend({ baseUrl: 'http://gw.test', apiKey: undefined })).rejects.toThrow(
      /needs an API key/,
    );
    const down = (async () => {
      throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    }) as typeof fetch;
    await expect(openGatewayBackend({ baseUrl: 'http://gw.test', apiKey: 'k', fetch: down })).rejects.toThrow(
      'cannot reach the gateway http://gw.test (ECONNREFUSED)',
    );
  });

  it('uploads a file as multipart with its fields, with the key as a bearer token', async () => {
    const tmp = await makeTempDir('cli-gateway');
    try {
      const path = join(tmp.path, 'guide.md');
      await writeFile(path, '# Guide');
      const fake = fakeFetch({ 'POST /v1/documents/upload': [[202, { jobId: 'job-7', queue: 'ingest' }]] });
      const sent = await backend(fake).submitDocument({
        tenant: 'ignored',
        documentId: 'kb/guide.md',
        sourceName: 'guide.md',
        metadata: { team: 'docs' },
        password: 'pässwort',
        force: true,
        input: { kind: 'file', path, name: 'guide.md', documentId: 'kb/guide.md', size: 7 },
      });
      expect(sent).toEqual({ jobId: 'job-7', sentAs: 'upload' });
      expect(fake.seen[0]!.body instanceof FormData && fake.seen[0]!.body.get('password')).toBe('pässwort');
      expect(fake.seen[0]!.body instanceof FormData && fake.seen[0]!.body.get('force')).toBe('true');
      const request = fake.seen[0]!;
      expect(request.headers.get('authorization')).toBe('Bearer secret-key');
      const form = request.body as FormData;
      expect(form.get('documentId')).toBe('kb/guide.md');
      expect(form.get('metadata')).toBe('{"team":"docs"}');
      const file = form.get('file') as File;
      expect(file.name).toBe('guide.md');
      expect(await file.text()).toBe('# Guide');
    } finally {
      await tmp.cleanup();
    }
  });

  it('sends a URL as a url source', async () => {
    const fake = fakeFetch({ 'POST /v1/documents': [[202, { jobId: 'job-8' }]] });
    const sent = await backend(fake).submitDocument({
      tenant: 't',
      documentId: 'https://example.com/a',
      input: {
        kind: 'url',
        url: 'https://example.com/a?x=1',
        name: 'a',
        documentId: 'https://example.com/a',
      },
    });
    expect(sent.sentAs).toBe('url');
    expect(JSON.parse(fake.seen[0]!.body as string)).toEqual({
      documentId: 'https://example.com/a',
      source: { kind: 'url', url: 'https://example.com/a?x=1' },
    });
  });

  it('asks and waits; when the server stops waiting first, it polls the job', async () => {
    const direct = fakeFetch({ 'POST /v1/queries': [[200, { jobId: 'j0', state: 'completed', result }]] });
    expect((await backend(direct).ask({ tenant: 't', question: 'Why?' }, { timeoutMs: 5_000 })).answer).toBe(
      'Because. [1]',
    );
    expect(JSON.parse(direct.seen[0]!.body as string)).toMatchObject({
      question: 'Why?',
      wait: true,
      waitMs: 5_000,
    });

    const polled = fakeFetch({
      'POST /v1/queries': [[202, { jobId: 'j1', queue: 'query' }]],
      'GET /v1/jobs/query/j1': [
        [200, jobStatus('active')],
        [200, jobStatus('completed', { result })],
      ],
    });
    expect(
      (await backend(polled).ask({ tenant: 't', question: 'Why?' }, { timeoutMs: 5_000 })).citations,
    ).toHaveLength(1);

    const failed = fakeFetch({
      'POST /v1/queries': [[202, { jobId: 'j1' }]],
      'GET /v1/jobs/query/j1': [[200, jobStatus('failed', { failedReason: 'model API down' })]],
    });
    await expect(
      backend(failed).ask({ tenant: 't', question: 'Why?' }, { timeoutMs: 5_000 }),
    ).rejects.toThrow('job j1 failed: model API down');
  });

  it('sends a job-creating request again after a 500, with the same Idempotency-Key', async () => {
    const fake = fakeFetch({
      'POST /v1/queries': [
        [500, { error: { code: 'internal', message: 'oops', requestId: 'r1' } }],
        [200, { jobId: 'j0', state: 'completed', result }],
      ],
    });
    await backend(fake).ask({ tenant: 't', question: 'Why?' }, { timeoutMs: 5_000 });
    expect(fake.seen).toHaveLength(2);
    const keys = fake.seen.map((r) => r.headers.get('idempotency-key'));
    expect(keys[0]).toMatch(/^quire-cli-[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);

    const refused = fakeFetch({
      'POST /v1/queries': [[502, { error: { code: 'job_failed', message: 'no model', requestId: 'r2' } }]],
    });
    await expect(
      backend(refused).ask({ tenant: 't', question: 'Why?' }, { timeoutMs: 5_000 }),
    ).rejects.toThrow('no model (job_failed, request r2)');
    expect(refused.seen).toHaveLength(1);
  });

  it("reports the gateway's error code, message and request id", async () => {
    const fake = fakeFetch({
      'GET /v1/documents': [
        [401, { error: { code: 'unauthorized', message: 'unknown API key', requestId: 'req-1' } }],
      ],
    });
    await expect(backend(fake).listDocuments()).rejects.toThrow(
      'the gateway refused the API key (check QUIRE_API_KEY or --api-key): unknown API key (unauthorized, request req-1)',
    );
    const proxy = fakeFetch({ 'GET /v1/documents': [[502, '<html>Bad Gateway</html>']] });
    await expect(backend(proxy).listDocuments()).rejects.toThrow('GET /v1/documents answered HTTP 502');
  });

  it('lists documents page by page, following the gateway’s cursor', async () => {
    const summary = (documentId: string) => ({
      documentId,
      sourceName: `${documentId}.txt`,
      chunks: 1,
      versions: [],
    });
    const fake = fakeFetch({
      'GET /v1/documents': [
        [200, { documents: [summary('a'), summary('b')], next: 'b' }],
        [200, { documents: [summary('c')], next: null }],
      ],
    });
    const documents = await backend(fake).listDocuments();
    expect(documents.map((d) => d.documentId)).toEqual(['a', 'b', 'c']);
    expect(fake.seen.map((s) => s.path)).toEqual([
      '/v1/documents?limit=1000',
      '/v1/documents?limit=1000&after=b',
    ]);
    const looping = fakeFetch({ 'GET /v1/documents': [[200, { documents: [summary('a')], next: 'a' }]] });
    await expect(backend(looping).listDocuments()).rejects.toThrow('document listing came back to "a"');
  });

  it('refuses a response body it does not expect', async () => {
    const fake = fakeFetch({ 'GET /v1/documents': [[200, { documents: [{ documentId: 3 }] }]] });
    await expect(backend(fake).listDocuments()).rejects.toThrow(/unexpected body: documents\.0\.documentId/);
  });

  it('reads a batch, and its report once complete; a missing one is null', async () => {
    const report = {
      v: 1,
      batchId: 'b1',
      tenant: 'acme',
      name: null,
      total: 0,
      answered: 0,
      failed: 0,
      items: [],
    };
    const status = {
      batchId: 'b1',
      name: null,
      state: 'completed',
      total: 0,
      answered: 0,
      failed: 0,
      pending: 0,
      failedReason: null,
    };
    const fake = fakeFetch({
      'GET /v1/batches/b1': [[200, status]],
      'GET /v1/batches/b1/results': [[200, report]],
    });
    expect((await backend(fake).getBatch('b1'))?.report).toEqual(report);
    expect(await backend(fake).getBatch('nope')).toBeNull();
  });

  it('reads queue counts from the metrics, and leaves retries to direct Redis access', async () => {
    const metrics = [
      '# HELP quire_queue_jobs Jobs per queue and state',
      'quire_queue_jobs{queue="ingest",state="failed",service="gateway"} 2',
      'quire_queue_jobs{service="gateway",queue="ingest",state="waiting"} 5',
      'quire_queue_jobs{queue="query",state="completed"} 9',
    ].join('\n');
    const fake = fakeFetch({ 'GET /metrics': [[200, metrics]] });
    // Every tenant's queue depths: the admin key's, not a tenant's.
    await expect(backend(fake).status({ queues: ['ingest'], failedLimit: 10 })).rejects.toThrow(
      /QUIRE_ADMIN_KEY/,
    );
    const admin = new GatewayBackend({
      baseUrl: 'http://gw.test:8080',
      apiKey: 'secret-key',
      adminKey: 'ops-key',
      fetch: fake.fetch,
    });
    const status = await admin.status({ queues: ['ingest', 'query'], failedLimit: 10 });
    expect(status.failedListed).toBe(false);
    expect(status.queues[0]).toMatchObject({ queue: 'ingest', counts: { failed: 2, waiting: 5, active: 0 } });
    expect(status.queues[1]?.counts.completed).toBe(9);
    expect(fake.seen[0]!.headers.get('authorization')).toBe('Bearer ops-key');
    await expect(backend(fake).retryFailed()).rejects.toThrow(/needs direct access to Redis/);
  });
});

describe('parseQueueDepths', () => {
  it('ignores other metrics and malformed samples', () => {
    const depths = parseQueueDepths(
      'quire_jobs_total{queue="ingest"} 3\nquire_queue_jobs{queue="batch",state="active"} NaNx\n',
    );
    expect(depths.size).toBe(0);
  });
});
