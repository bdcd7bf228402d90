/**
 * The gateway end to end: real Redis, the ingest and query workers as processes sharing an SQLite
 * store with the gateway, and the gateway on a real port, called over HTTP like any client.
 */
import { readdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { IngestProgressSchema } from '@quire/jobs';
import { createLogger } from '@quire/runtime';
import {
  cleanupPrefix,
  getTestRedis,
  makePdf,
  makeTempDir,
  type SpawnedProcess,
  type TempDir,
  type TestRedis,
  uniquePrefix,
  waitFor,
} from '@quire/testkit';
import { validate } from '@readme/openapi-parser';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../src/auth.js';
import { createOpsServer } from '../src/server.js';
import { SIGNATURE_HEADER, verifyWebhookSignature, WEBHOOK_EVENT_HEADER } from '../src/webhooks/index.js';
import { type RunningGateway, readEvents, type Sse, startGateway, startWorker } from './harness.js';

const KEYS = { acme: 'acme-secret-key', globex: 'globex-secret-key', admin: 'ops-secret-key' };
const INLINE_MAX = 1024;

let redis: TestRedis;
let tmp: TempDir;
let prefix: string;
let uploadDir: string;
let workers: SpawnedProcess[] = [];
let gateway: RunningGateway;
let receiver: Server;
let receiverUrl: string;
const deliveries: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];

beforeAll(async () => {
  redis = await getTestRedis();
  tmp = await makeTempDir('gateway-e2e');
  prefix = uniquePrefix('gateway');
  uploadDir = join(tmp.path, 'uploads');
  const shared = {
    REDIS_URL: redis.url,
    QUIRE_QUEUE_PREFIX: prefix,
    QUIRE_DATA_DIR: join(tmp.path, 'data'),
  };
  // The webhook receiver answers 500 to the first delivery, so a retry is needed.
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    req.on('end', () => {
      deliveries.push({ headers: req.headers, body });
      res.writeHead(deliveries.length === 1 ? 500 : 200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/quire`;

  workers = await Promise.all([
    startWorker('ingest', { ...shared, QUIRE_FILE_ROOTS: uploadDir, INGEST_CONCURRENCY: '2' }),
    startWorker('query', shared),
  ]);
  gateway = await startGateway({
    ...shared,
    QUIRE_API_KEYS: `acme:${hashApiKey(KEYS.acme)},globex:${hashApiKey(KEYS.globex)}`,
    QUIRE_ADMIN_KEY_SHA256: hashApiKey(KEYS.admin),
    GATEWAY_UPLOAD_DIR: uploadDir,
    GATEWAY_INLINE_UPLOAD_MAX_BYTES: String(INLINE_MAX),
    GATEWAY_WEBHOOK_SECRET: 'gateway-e2e-master-secret-0123456789',
    GATEWAY_WEBHOOK_ALLOW_ADDRESSES: '127.0.0.1',
    GATEWAY_WEBHOOK_BACKOFF_MS: '50',
    GATEWAY_SSE_HEARTBEAT_MS: '1000',
  });
}, 120_000);

afterAll(async () => {
  await gateway?.close();
  await Promise.all(workers.map((w) => w.kill('SIGTERM')));
  await new Promise((resolve) => receiver?.close(resolve));
  if (redis) await cleanupPrefix(redis.url, prefix);
  await redis?.stop();
  await tmp?.cleanup();
});

type Json = Record<string, unknown> & { error?: { code: string; message: string; requestId: string } };

async function call(
  method: string,
  path: string,
  options: { key?: keyof typeof KEYS | null; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: Json; headers: Headers }> {
  const key = options.key === undefined ? 'acme' : options.key;
  const headers: Record<string, string> = { ...options.headers };
  if (key !== null) headers.authorization = `Bearer ${KEYS[key]}`;
  let body: string | FormData | undefined;
  if (options.body instanceof FormData) body = options.body;
  else if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  const response = await fetch(`${gateway.url}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body }),
  });
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  return {
    status: response.status,
    body: type.startsWith('application/json') ? (JSON.parse(text) as Json) : { text },
    headers: response.headers,
  };
}

/** Polls a job's status until it is completed or failed. */
async function finished(statusUrl: string, key: keyof typeof KEYS = 'acme'): Promise<Json> {
  return waitFor(
    async () => {
      const { status, body } = await call('GET', statusUrl, { key });
      expect(status).toBe(200);
      return body.state === 'completed' || body.state === 'failed' ? body : null;
    },
    { timeoutMs: 60_000, intervalMs: 100 },
  );
}

function upload(
  name: string,
  content: string | Buffer,
  type: string,
  fields: Record<string, string> = {},
): FormData {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('file', new Blob([content], { type }), name);
  return form;
}

const HARBOUR = [
  '# Harbour rules',
  '',
  'Boats must be moored before the storm bell rings.',
  '',
  '## Lighthouse',
  '',
  'The lighthouse keeper lights the lamp at dusk and logs every passing ship.',
].join('\n');

const ORDER = IngestProgressSchema.shape.stage.options;

describe('gateway, end to end', () => {
  const jobs: { ingest?: string; query?: string; batch?: string } = {};

  it('refuses requests without a key or with an unknown key (401, one error shape)', async () => {
    const none = await call('GET', '/v1/documents', { key: null });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/Bearer/);
    expect(none.body.error).toMatchObject({
      code: 'unauthorized',
      requestId: none.headers.get('x-request-id'),
    });
    const wrong = await call('GET', '/v1/documents', { key: null, headers: { 'x-api-key': 'not-a-key' } });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error?.message).toBe('unknown API key');
    // The key is the tenant: the admin key opens no tenant.
    expect((await call('GET', '/v1/documents', { key: 'admin' })).status).toBe(401);
    // X-API-Key works as well as Bearer.
    const ok = await call('GET', '/v1/documents', { key: null, headers: { 'x-api-key': KEYS.acme } });
    expect(ok.status).toBe(200);
  });

  it('uploads files (inline and spooled), follows them to completion and lists the documents', async () => {
    const small = await call('POST', '/v1/documents/upload', {
      body: upload('harbour.md', HARBOUR, 'text/markdown', { metadata: '{"area":"north"}' }),
    });
    expect(small.status).toBe(202);
    expect(small.body).toMatchObject({ queue: 'ingest', documentId: 'harbour.md', replayed: false });
    expect(small.headers.get('location')).toBe(small.body.statusUrl);

    const pdf = await makePdf([
      ['Quarterly Lighthouse Report', 'The survey covers the northern coast.'],
      ['Findings', 'Fog came in on ninety days and the foghorn sounded every night.'],
    ]);
    expect(pdf.byteLength).toBeGreaterThan(INLINE_MAX);
    const large = await call('POST', '/v1/documents/upload', {
      body: upload('report.pdf', pdf, 'application/pdf', { documentId: 'report-2024' }),
    });
    expect(large.status).toBe(202);

    const smallDone = await finished(String(small.body.statusUrl));
    expect(smallDone).toMatchObject({
      state: 'completed',
      result: { outcome: 'ingested', documentId: 'harbour.md' },
    });
    const largeDone = await finished(String(large.body.statusUrl));
    expect(largeDone).toMatchObject({ state: 'completed', result: { outcome: 'ingested', pages: 2 } });
    jobs.ingest = String(small.body.jobId);

    // The spooled copy is removed once its job is done.
    await waitFor(async () => (await readdir(uploadDir)).length === 0, { timeoutMs: 10_000 });

    const list = await call('GET', '/v1/documents');
    expect(list.status).toBe(200);
    const documents = list.body.documents as {
      documentId: string;
      chunks: number;
      pages: number | null;
      versions: unknown[];
    }[];
    expect(documents.map((d) => d.documentId)).toEqual(['harbour.md', 'report-2024']);
    // Pages of the PDF; none for Markdown.
    expect(documents.map((d) => d.pages)).toEqual([null, 2]);
    for (const d of documents) {
      expect(d.chunks).toBeGreaterThan(0);
      expect(d.versions).toHaveLength(1);
    }
    expect(list.body.next).toBeNull();
    // A page at a time: `next` is the cursor of the following page.
    const first = await call('GET', '/v1/documents?limit=1');
    expect(first.body).toMatchObject({ documents: [{ documentId: 'harbour.md' }], next: 'harbour.md' });
    const second = await call('GET', `/v1/documents?limit=1&after=${encodeURIComponent('harbour.md')}`);
    expect(second.body).toMatchObject({ documents: [{ documentId: 'report-2024' }], next: null });
    const badLimit = await call('GET', '/v1/documents?limit=0');
    expect([badLimit.status, badLimit.body.error?.code]).toEqual([400, 'invalid_request']);
    const one = await call('GET', '/v1/documents/report-2024');
    expect(one.body).toMatchObject({ documentId: 'report-2024', sourceName: 'report.pdf' });
  });

  it('refuses an upload without a file, a bad field, and a JSON path source', async () => {
    const form = new FormData();
    form.append('documentId', 'x');
    expect((await call('POST', '/v1/documents/upload', { body: form })).body.error?.message).toMatch(
      /no file/,
    );
    const bad = await call('POST', '/v1/documents/upload', {
      body: upload('a.txt', 'text', 'text/plain', { metadata: '[1,2]' }),
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error?.message).toMatch(/metadata/);
    const path = await call('POST', '/v1/documents', {
      body: { documentId: 'etc', source: { kind: 'path', path: '/etc/passwd' } },
    });
    expect(path.status).toBe(400);
    expect(path.body.error?.code).toBe('invalid_request');
  });

  it('answers a question while the caller waits (200), or later (202, then the job)', async () => {
    const sync = await call('POST', '/v1/queries', {
      body: { question: 'When does the lighthouse keeper light the lamp?', wait: true },
    });
    expect(sync.status).toBe(200);
    const result = (
      sync.body as { result: { answer: string; notFound: boolean; citations: { documentId: string }[] } }
    ).result;
    expect(result.notFound).toBe(false);
    expect(result.answer).toMatch(/dusk/);
    expect(result.citations.map((c) => c.documentId)).toContain('harbour.md');

    const async = await call('POST', '/v1/queries?wait=false', {
      body: { question: 'How many days of fog?' },
    });
    expect(async.status).toBe(202);
    const done = await finished(String(async.body.statusUrl));
    expect(done).toMatchObject({ state: 'completed', result: { notFound: false } });
    jobs.query = String(async.body.jobId);

    // Not ready within the wait (no worker takes it meanwhile): 202 with the job, which completes later.
    const query = gateway.services.producer.queue('query');
    await query.pause();
    const late = await call('POST', '/v1/queries?wait=true&waitMs=200', {
      body: { question: 'What covers the survey?' },
    });
    await query.resume();
    expect(late.status).toBe(202);
    expect((await finished(String(late.body.statusUrl))).state).toBe('completed');
  });

  it('runs a batch: status, 409 before it is done, then results and JSONL and CSV exports that parse back', async () => {
    const query = gateway.services.producer.queue('query');
    await query.pause();
    const submitted = await call('POST', '/v1/batches', {
      body: {
        name: 'harbour questions',
        questions: [
          { id: 'dusk', question: 'When is the lamp lit?' },
          { question: 'What must happen before the storm bell rings?' },
          { id: '=fog', question: 'How many days of fog were there?' },
        ],
      },
    });
    expect(submitted.status).toBe(202);
    const batchId = String(submitted.body.batchId);
    jobs.batch = batchId;
    expect(submitted.body.statusUrl).toBe(`/v1/batches/${batchId}`);
    const early = await call('GET', `/v1/batches/${batchId}/results`);
    expect(early.status).toBe(409);
    expect(early.body.error?.code).toBe('not_ready');
    expect((await call('GET', `/v1/batches/${batchId}`)).body).toMatchObject({ total: 3, pending: 3 });
    await query.resume();

    const status = await waitFor(
      async () => {
        const { body } = await call('GET', `/v1/batches/${batchId}`);
        return body.state === 'completed' ? body : null;
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    expect(status).toMatchObject({ total: 3, answered: 3, failed: 0, pending: 0 });

    const results = await call('GET', String(status.resultsUrl));
    const items = (
      results.body as { items: { index: number; id: string | null; ok: boolean; answer: string }[] }
    ).items;
    expect(items.map((i) => [i.index, i.id, i.ok])).toEqual([
      [0, 'dusk', true],
      [1, null, true],
      [2, '=fog', true],
    ]);

    const jsonl = await call('GET', `/v1/batches/${batchId}/export?format=jsonl`);
    expect(jsonl.headers.get('content-type')).toMatch(/application\/x-ndjson/);
    expect(jsonl.headers.get('content-disposition')).toBe(`attachment; filename="batch-${batchId}.jsonl"`);
    const lines = String(jsonl.body.text)
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as unknown);
    expect(lines).toEqual(items);

    const csv = await call('GET', `/v1/batches/${batchId}/export?format=csv`);
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    const rows = parseCsv(String(csv.body.text), { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => [r.index, r.id, r.ok])).toEqual([
      ['0', 'dusk', 'true'],
      ['1', '', 'true'],
      // A cell a spreadsheet would run as a formula is escaped by default…
      ['2', "'=fog", 'true'],
    ]);
    expect(rows.map((r) => r.answer)).toEqual(items.map((i) => i.answer));
    expect(JSON.parse(rows[0]?.citations ?? 'null')).toEqual(
      (items[0] as unknown as { citations: unknown }).citations,
    );
    // …and kept as it is when asked.
    const kept = await call('GET', `/v1/batches/${batchId}/export?format=csv&formulas=keep`);
    const keptRows = parseCsv(String(kept.body.text), { columns: true }) as Record<string, string>[];
    expect(keptRows.map((r) => r.id)).toEqual(['dusk', '', '=fog']);
    const refused = await call('GET', `/v1/batches/${batchId}/export?format=csv&formulas=run`);
    expect(refused.status).toBe(400);
  });

  it('runs an eval: ingests its corpus, reports the stages side by side, exports, cleans up, hides it from other tenants', async () => {
    const corpus = [
      { id: 'eval-kiln', text: 'The pottery kiln is fired to twelve hundred degrees for stoneware.' },
      { id: 'eval-loom', text: 'The weaving loom in the east hall has sixty heddles per shaft.' },
      { id: 'eval-press', text: 'The cider press squeezes apples with a screw of oak.' },
    ];
    const submitted = await call('POST', '/v1/evals', {
      body: {
        name: 'crafts',
        corpus,
        queries: [
          { id: 'k', text: 'How hot is the pottery kiln fired for stoneware?' },
          { id: 'l', text: 'How many heddles does the weaving loom have per shaft?' },
          { id: 'none', text: 'What is the speed of light in a vacuum?' },
        ],
        qrels: [
          { queryId: 'k', documentId: 'eval-kiln', grade: 1 },
          { queryId: 'l', documentId: 'eval-loom', grade: 1 },
        ],
        answers: [{ queryId: 'k', answers: ['twelve hundred degrees'] }],
        cleanup: true,
      },
    });
    expect(submitted.status).toBe(202);
    const evalId = String(submitted.body.evalId);
    expect(submitted.body.statusUrl).toBe(`/v1/evals/${evalId}`);
    const status = await waitFor(
      async () => {
        const { body } = await call('GET', `/v1/evals/${evalId}`);
        return body.state === 'completed' ? body : null;
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    expect(status).toMatchObject({ documents: 3, documentsDone: 3, questions: 3, questionsDone: 3 });
    const report = (await call('GET', String(status.reportUrl))).body as {
      retrieval: Record<string, { recallAt1: number }>;
      documents: { cleanedUp: boolean };
      answerable: number;
      unanswerable: number;
    };
    expect(Object.keys(report.retrieval)).toEqual(['lexical', 'dense', 'fused', 'reranked']);
    expect(report).toMatchObject({ answerable: 2, unanswerable: 1, documents: { cleanedUp: true } });
    expect(report.retrieval.lexical?.recallAt1).toBe(1);

    const markdown = await call('GET', `/v1/evals/${evalId}/export?format=markdown`);
    expect(markdown.headers.get('content-type')).toMatch(/text\/markdown/);
    expect(String(markdown.body.text)).toContain('| fused + rerank |');
    const csv = await call('GET', `/v1/evals/${evalId}/export?format=csv`);
    const rows = parseCsv(String(csv.body.text), { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => [r.id, r.relevant])).toEqual([
      ['k', 'eval-kiln'],
      ['l', 'eval-loom'],
      ['none', ''],
    ]);
    const documents = (await call('GET', '/v1/documents')).body as { documents: { documentId: string }[] };
    expect(documents.documents.map((d) => d.documentId).filter((id) => id.startsWith('eval-'))).toEqual([]);
    expect((await call('GET', `/v1/evals/${evalId}`, { key: 'globex' })).status).toBe(404);
    const listed = (await call('GET', '/v1/evals')).body as { evals: Record<string, unknown>[] };
    expect(listed.evals[0]).toMatchObject({
      evalId,
      name: 'crafts',
      state: 'completed',
      questionsDone: 3,
      statusUrl: `/v1/evals/${evalId}`,
    });
    const others = (await call('GET', '/v1/evals', { key: 'globex' })).body as {
      evals: { evalId: string }[];
    };
    expect(others.evals.map((e) => e.evalId)).not.toContain(evalId);
    expect((await call('GET', '/v1/evals?limit=0')).status).toBe(400);

    const bad = await call('POST', '/v1/evals', {
      body: { queries: [{ id: 'a', text: 'Why?' }], qrels: [{ queryId: 'b', documentId: 'x', grade: 1 }] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error?.message).toMatch(/no query has id "b"/);
  });

  it("streams a job's progress as server-sent events, in order, ending with its completion", async () => {
    const ingest = gateway.services.producer.queue('ingest');
    // Held back until the stream is open, so that every progress event happens after it.
    await ingest.pause();
    const submitted = await call('POST', '/v1/documents', {
      body: {
        documentId: 'tides',
        source: {
          kind: 'text',
          text: '# Tides\n\nHigh tide comes twice a day at the harbour.',
          mediaType: 'text/markdown',
        },
      },
    });
    expect(submitted.status).toBe(202);
    const response = await fetch(`${gateway.url}${submitted.body.eventsUrl}`, {
      headers: { authorization: `Bearer ${KEYS.acme}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    let resumed = false;
    const events = await readEvents(response, (event) => {
      if (event.event === 'state' && !resumed) {
        resumed = true;
        void ingest.resume();
      }
    });

    expect(events[0]).toMatchObject({ event: 'state', data: { state: 'waiting' } });
    expect(events.at(-1)).toMatchObject({
      event: 'completed',
      data: { result: { outcome: 'ingested', documentId: 'tides' } },
    });
    const stages = events
      .filter((e) => e.event === 'progress')
      .map((e) => (e.data as { progress: { stage: (typeof ORDER)[number] } }).progress.stage);
    expect(stages).toContain('loading');
    expect(stages.at(-1)).toBe('done');
    const ranks = stages.map((stage) => ORDER.indexOf(stage));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    expect(events.map((e: Sse) => Number(e.id))).toEqual(events.map((_, i) => i + 1));

    // A finished job's stream says so at once and ends.
    const again = await readEvents(
      await fetch(`${gateway.url}${submitted.body.eventsUrl}`, {
        headers: { authorization: `Bearer ${KEYS.acme}` },
      }),
    );
    expect(again.map((e) => e.event)).toEqual(['state', 'completed']);
  });

  it('honours Idempotency-Key: same key, same job; other request, 422; other tenant, its own job', async () => {
    const headers = { 'idempotency-key': 'order-7781' };
    const first = await call('POST', '/v1/queries', {
      headers,
      body: { question: 'Who logs passing ships?' },
    });
    const second = await call('POST', '/v1/queries', {
      headers,
      body: { question: 'Who logs passing ships?' },
    });
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.body.jobId).toBe(first.body.jobId);
    expect([first.body.replayed, second.body.replayed]).toEqual([false, true]);
    // Waiting is not part of the request's identity: a retry that waits gets the same job.
    const waiting = await call('POST', '/v1/queries', {
      headers,
      body: { question: 'Who logs passing ships?', wait: true },
    });
    expect(waiting.status).toBe(200);
    expect(waiting.body.jobId).toBe(first.body.jobId);

    const other = await call('POST', '/v1/queries', { headers, body: { question: 'Something else?' } });
    expect(other.status).toBe(422);
    expect(other.body.error?.code).toBe('idempotency_key_mismatch');

    const globex = await call('POST', '/v1/queries', {
      key: 'globex',
      headers,
      body: { question: 'Who logs passing ships?' },
    });
    expect(globex.status).toBe(202);
    expect(globex.body.jobId).not.toBe(first.body.jobId);

    const form = () => upload('dup.txt', 'Duplicate uploads make one job.', 'text/plain');
    const up1 = await call('POST', '/v1/documents/upload', {
      headers: { 'idempotency-key': 'upload-1' },
      body: form(),
    });
    const up2 = await call('POST', '/v1/documents/upload', {
      headers: { 'idempotency-key': 'upload-1' },
      body: form(),
    });
    expect(up2.body).toMatchObject({ jobId: up1.body.jobId, replayed: true });
    await finished(String(up1.body.statusUrl));
  });

  it('delivers a signed webhook when a job completes, retrying after a failed attempt', async () => {
    const secret = await call('GET', '/v1/webhooks/signing-secret');
    expect(secret.status).toBe(200);
    expect(secret.body.header).toBe(SIGNATURE_HEADER);

    const submitted = await call('POST', '/v1/queries', {
      body: { question: 'When must boats be moored?', webhookUrl: receiverUrl },
    });
    expect(submitted.status).toBe(202);
    await waitFor(() => deliveries.length >= 2, { timeoutMs: 30_000 });
    const [failedAttempt, delivered] = deliveries;
    for (const attempt of [failedAttempt, delivered]) {
      const header = String(attempt?.headers[SIGNATURE_HEADER]);
      expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
      expect(verifyWebhookSignature(String(secret.body.secret), header, attempt?.body ?? '')).toBe(true);
    }
    // Another tenant's secret does not verify it.
    const other = await call('GET', '/v1/webhooks/signing-secret', { key: 'globex' });
    const last = delivered!;
    expect(
      verifyWebhookSignature(String(other.body.secret), String(last.headers[SIGNATURE_HEADER]), last.body),
    ).toBe(false);
    expect(last.headers[WEBHOOK_EVENT_HEADER]).toBe('job.completed');
    const payload = JSON.parse(last.body) as {
      type: string;
      data: { jobId: string; state: string; result: { answer: string } };
    };
    expect(payload).toMatchObject({
      type: 'job.completed',
      data: { jobId: submitted.body.jobId, state: 'completed' },
    });
    expect(payload.data.result.answer).toMatch(/storm bell/);
    expect(deliveries).toHaveLength(2);

    const refused = await call('POST', '/v1/queries', {
      body: { question: 'Anything?', webhookUrl: 'http://10.1.2.3/hook' },
    });
    expect(refused.status).toBe(422);
    expect(refused.body.error).toMatchObject({ code: 'webhook_refused' });
    expect(refused.body.error?.message).toMatch(/non-public address/);
  });

  it("keeps tenants apart: another tenant's jobs, documents and batches are not found (404)", async () => {
    const ingestJob = jobs.ingest ?? '';
    const queryJob = jobs.query ?? '';
    const batchId = jobs.batch ?? '';
    expect((await call('GET', `/v1/jobs/ingest/${ingestJob}`)).status).toBe(200);
    for (const path of [
      `/v1/jobs/ingest/${ingestJob}`,
      `/v1/jobs/query/${queryJob}`,
      `/v1/jobs/ingest/${ingestJob}/events`,
      `/v1/documents/harbour.md`,
      `/v1/batches/${batchId}`,
      `/v1/batches/${batchId}/results`,
      `/v1/batches/${batchId}/export?format=csv`,
    ]) {
      const { status, body } = await call('GET', path, { key: 'globex' });
      expect([path, status, body.error?.code]).toEqual([path, 404, 'not_found']);
    }
    expect((await call('GET', '/v1/documents', { key: 'globex' })).body).toEqual({
      documents: [],
      next: null,
    });
    // A job id in the wrong queue is not found either.
    expect((await call('GET', `/v1/jobs/query/${ingestJob}`)).status).toBe(404);
  });

  it('deletes a document', async () => {
    const submitted = await call('DELETE', '/v1/documents/harbour.md');
    expect(submitted.status).toBe(202);
    expect(await finished(String(submitted.body.statusUrl))).toMatchObject({
      result: { outcome: 'deleted' },
    });
    expect((await call('GET', '/v1/documents/harbour.md')).status).toBe(404);
  });

  it('keeps a large JSON document out of its job: spooled, read by the worker, removed with the job', async () => {
    const text = `# Ledger\n\n${'The keeper counts every lantern in the tower. '.repeat(60)}`;
    const data = Buffer.from(text).toString('base64');
    expect(text.length).toBeGreaterThan(INLINE_MAX);
    const sent = await call('POST', '/v1/documents', {
      key: 'globex',
      body: { documentId: 'ledger', source: { kind: 'base64', data, name: 'ledger.md' } },
    });
    expect(sent.status).toBe(202);
    const job = await gateway.services.producer.queue('ingest').getJob(String(sent.body.jobId));
    expect(job?.data.source).toMatchObject({ kind: 'path' });
    expect(JSON.stringify(job?.data)).not.toContain(data.slice(0, 64));
    const done = await finished(String(sent.body.statusUrl), 'globex');
    expect(done).toMatchObject({
      state: 'completed',
      result: { outcome: 'ingested', sourceName: 'ledger.md' },
    });
    await waitFor(async () => (await readdir(uploadDir)).length === 0, { timeoutMs: 10_000 });
  });

  it('serves a valid OpenAPI document and its interactive docs', async () => {
    const doc = await call('GET', '/docs/json', { key: null });
    expect(doc.status).toBe(200);
    await expect(validate(structuredClone(doc.body) as never)).resolves.toMatchObject({ valid: true });
    const paths = Object.keys(doc.body.paths as object);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/v1/documents/upload',
        '/v1/queries',
        '/v1/batches/{batchId}/export',
        '/v1/jobs/{queue}/{jobId}/events',
      ]),
    );
    expect(paths.some((p) => p.startsWith('/admin'))).toBe(false);
    const ui = await fetch(`${gateway.url}/docs/`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toMatch(/swagger-ui/i);
  });

  it('serves the queue dashboard to the admin key only', async () => {
    expect((await call('GET', '/admin/queues', { key: null })).status).toBe(401);
    const tenant = await call('GET', '/admin/queues', { key: 'acme' });
    expect(tenant.status).toBe(401);
    expect(tenant.headers.get('www-authenticate')).toMatch(/^Basic/);
    const page = await call('GET', '/admin/queues', { key: 'admin' });
    expect(page.status).toBe(200);
    expect(String(page.body.text)).toMatch(/<html/i);
    const basic = Buffer.from(`ops:${KEYS.admin}`).toString('base64');
    const api = await call('GET', '/admin/queues/api/queues', {
      key: null,
      headers: { authorization: `Basic ${basic}` },
    });
    expect(api.status).toBe(200);
    const names = (api.body.queues as { name: string }[]).map((q) => q.name).sort();
    expect(names).toEqual(['batch', 'ingest', 'query', 'webhooks']);
  });

  it('keeps readiness and metrics (every queue, all tenants) to the admin key on the API port', async () => {
    for (const path of ['/metrics', '/readyz']) {
      expect((await call('GET', path, { key: null })).status, path).toBe(401);
      expect((await call('GET', path, { key: 'acme' })).status, path).toBe(401);
    }
    // Liveness stays cheap and open.
    expect((await call('GET', '/healthz', { key: null })).status).toBe(200);
    // The OpenAPI document tells the routes' keys apart, but its UI gives no way around them.
    const docs = await call('GET', '/docs/json', { key: null });
    expect(JSON.stringify(docs.body)).toMatch(/admin key/);
  });

  it('serves liveness, readiness and metrics without a key on the ops port only', async () => {
    const ops = await createOpsServer({
      env: gateway.env,
      logger: createLogger({ service: 'gateway', level: 'warn', format: 'json' }),
      services: gateway.services,
      version: '0.0.0-test',
    });
    try {
      expect((await ops.inject({ url: '/healthz' })).json()).toEqual({ ok: true });
      expect((await ops.inject({ url: '/readyz' })).statusCode).toBe(200);
      const metrics = await ops.inject({ url: '/metrics' });
      expect(metrics.statusCode).toBe(200);
      expect(metrics.body).toMatch(/^quire_queue_jobs\{/m);
      expect((await ops.inject({ url: '/v1/documents' })).statusCode).toBe(404);
      expect((await ops.inject({ url: '/admin/queues' })).statusCode).toBe(404);
    } finally {
      await ops.close();
    }
  });

  it('exposes Prometheus metrics with queue depth and requests by route', async () => {
    const { status, body, headers } = await call('GET', '/metrics', { key: 'admin' });
    expect(status).toBe(200);
    expect(headers.get('content-type')).toMatch(/text\/plain/);
    const text = String(body.text);
    expect(text).toMatch(
      /^quire_queue_jobs\{queue="ingest",state="completed",service="gateway"\} [1-9]\d*$/m,
    );
    expect(text).toMatch(/^quire_queue_jobs\{queue="query",state="waiting",service="gateway"\} \d+$/m);
    expect(text).toMatch(
      /^quire_http_requests_total\{method="POST",route="\/v1\/queries",status="202",service="gateway"\} [1-9]/m,
    );
    expect(text).toMatch(/^quire_gateway_redis_up\{service="gateway"\} 1$/m);
  });

  it('answers /healthz and /readyz', async () => {
    expect((await call('GET', '/healthz', { key: null })).body).toEqual({ ok: true });
    expect((await call('GET', '/readyz', { key: 'admin' })).body).toEqual({
      ok: true,
      checks: { redis: { ok: true }, store: { ok: true } },
    });
  });
});
