/**
 * Secrets at rest: a PDF password and a source URL's credentials and token go through the gateway,
 * the queue and a real ingest worker process. They must never be readable in Redis (while the
 * jobs wait, run or after they end), in the vector store's files, in API responses or in the
 * queue dashboard, yet the worker must still use them.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  cleanupPrefix,
  getTestRedis,
  makeEncryptedPdf,
  makeTempDir,
  type SpawnedProcess,
  type TempDir,
  type TestRedis,
  uniquePrefix,
  waitFor,
} from '@quire/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../src/auth.js';
import { type RunningGateway, startGateway, startWorker } from './harness.js';

const PDF_PASSWORD = 'Pdf-pässwort-7731';
const URL_USER = 'reader';
const URL_PASSWORD = 'Url-hunter2-9924';
const URL_TOKEN = 'Tok3n-5521-presigned';
const SECRETS = [PDF_PASSWORD, URL_PASSWORD, URL_TOKEN];
const KEYS = { acme: 'secrets-acme-key', admin: 'secrets-admin-key' };

let redis: TestRedis;
let client: Redis;
let tmp: TempDir;
let prefix: string;
let worker: SpawnedProcess;
let gateway: RunningGateway;
let docServer: Server;
let docBase: string;
let dataDir: string;

beforeAll(async () => {
  redis = await getTestRedis();
  client = new Redis(redis.url);
  tmp = await makeTempDir('gateway-secrets');
  prefix = uniquePrefix('gateway-secrets');
  dataDir = join(tmp.path, 'data');
  docServer = createServer((req, res) => {
    const expected = `Basic ${Buffer.from(`${URL_USER}:${URL_PASSWORD}`).toString('base64')}`;
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.headers.authorization !== expected || url.searchParams.get('token') !== URL_TOKEN) {
      res.writeHead(401).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/markdown' });
    res.end('# Vault\n\nThe vault opens at dawn when the keeper rings the brass bell twice.\n');
  });
  await new Promise<void>((resolve) => docServer.listen(0, '127.0.0.1', resolve));
  docBase = `http://127.0.0.1:${(docServer.address() as AddressInfo).port}`;
  const common = {
    REDIS_URL: redis.url,
    QUIRE_QUEUE_PREFIX: prefix,
    QUIRE_DATA_DIR: dataDir,
    QUIRE_ALLOW_PRIVATE_URLS: 'true',
    QUIRE_SECRET_KEYS: `k1:${randomBytes(32).toString('base64')}`,
  };
  worker = await startWorker('ingest', common);
  gateway = await startGateway({
    ...common,
    QUIRE_API_KEYS: `acme:${hashApiKey(KEYS.acme)}`,
    QUIRE_ADMIN_KEY_SHA256: hashApiKey(KEYS.admin),
  });
}, 120_000);

afterAll(async () => {
  await gateway?.close();
  await worker?.kill('SIGTERM');
  await new Promise((resolve) => docServer?.close(resolve));
  await client?.quit();
  if (redis) await cleanupPrefix(redis.url, prefix);
  await redis?.stop();
  await tmp?.cleanup();
});

/** Every value of every key under the test's prefix, as text. */
async function redisDump(): Promise<string> {
  const parts: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    for (const key of keys) {
      const type = await client.type(key);
      parts.push(key);
      if (type === 'string') parts.push((await client.get(key)) ?? '');
      else if (type === 'hash') parts.push(JSON.stringify(await client.hgetall(key)));
      else if (type === 'list') parts.push(JSON.stringify(await client.lrange(key, 0, -1)));
      else if (type === 'set') parts.push(JSON.stringify(await client.smembers(key)));
      else if (type === 'zset') parts.push(JSON.stringify(await client.zrange(key, 0, -1)));
      else if (type === 'stream') parts.push(JSON.stringify(await client.xrange(key, '-', '+')));
    }
  } while (cursor !== '0');
  return parts.join('\n');
}

/** Every file of the embedded store (database, WAL), as bytes read as latin1 and UTF-8. */
async function storeDump(): Promise<string> {
  const parts: string[] = [];
  for (const name of await readdir(dataDir, { recursive: true })) {
    const bytes = await readFile(join(dataDir, name)).catch(() => null);
    if (bytes) parts.push(bytes.toString('utf8'), bytes.toString('latin1'));
  }
  return parts.join('\n');
}

function expectNoSecret(text: string, where: string): void {
  for (const secret of SECRETS) {
    expect(text.includes(secret), `${where} holds ${secret}`).toBe(false);
    expect(text.includes(Buffer.from(secret).toString('base64')), `${where} holds ${secret} in base64`).toBe(
      false,
    );
  }
}

async function call(path: string, init: RequestInit & { key?: keyof typeof KEYS } = {}) {
  const response = await fetch(`${gateway.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${KEYS[init.key ?? 'acme']}`, ...(init.headers ?? {}) },
  });
  return { status: response.status, text: await response.text() };
}

describe('secrets at rest', () => {
  it('never stores a PDF password or URL credentials in clear, and forgets them once the job ends', async () => {
    const url = `http://${URL_USER}:${URL_PASSWORD}@${docBase.slice('http://'.length)}/vault.md?token=${URL_TOKEN}`;
    const byUrl = await call('/v1/documents', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ documentId: 'vault', source: { kind: 'url', url } }),
    });
    expect(byUrl.status, byUrl.text).toBe(202);
    const form = new FormData();
    form.append('password', PDF_PASSWORD);
    form.append('documentId', 'locked');
    const pdf = await makeEncryptedPdf([['The locked ledger lists every lantern.']], {
      userPassword: PDF_PASSWORD,
      pdfVersion: '1.7ext3',
    });
    form.append('file', new Blob([pdf], { type: 'application/pdf' }), 'locked.pdf');
    const byUpload = await call('/v1/documents/upload', { method: 'POST', body: form });
    expect(byUpload.status, byUpload.text).toBe(202);
    expectNoSecret(byUrl.text + byUpload.text, 'the 202 answers');
    // Whatever state the jobs are in now (waiting or running), nothing is readable.
    expectNoSecret(await redisDump(), 'Redis while the jobs are queued');

    const jobIds = [byUrl.text, byUpload.text].map((t) => (JSON.parse(t) as { jobId: string }).jobId);
    for (const jobId of jobIds) {
      const done = await waitFor(
        async () => {
          const status = await call(`/v1/jobs/ingest/${jobId}`);
          const body = JSON.parse(status.text) as { state: string; failedReason: string | null };
          return body.state === 'completed' || body.state === 'failed' ? status : null;
        },
        { timeoutMs: 60_000, intervalMs: 200 },
      );
      // The worker opened the secrets: both documents were read and stored.
      expect(JSON.parse(done.text)).toMatchObject({ state: 'completed', result: { outcome: 'ingested' } });
      expectNoSecret(done.text, 'the job status');
      const board = await call(`/admin/queues/api/queues/ingest/${jobId}`, { key: 'admin' });
      expect(board.status).toBe(200);
      expectNoSecret(board.text, 'the dashboard');
      // Ended for good: the sealed box goes too.
      await waitFor(
        async () => !(await client.hget(`${prefix}:ingest:${jobId}`, 'data'))?.includes('sealed'),
        {
          timeoutMs: 10_000,
        },
      );
    }
    const list = await call('/admin/queues/api/queues?activeQueue=ingest&status=completed', { key: 'admin' });
    expectNoSecret(list.text, 'the dashboard listing');
    expectNoSecret(await redisDump(), 'Redis after the jobs ended');
    expectNoSecret(await storeDump(), 'the vector store');
    expect(worker.output()).not.toContain(URL_PASSWORD);
  });

  it('refuses a job with a secret when no keys are configured, rather than store it in clear', async () => {
    const bare = await startGateway({
      REDIS_URL: redis.url,
      QUIRE_QUEUE_PREFIX: prefix,
      QUIRE_DATA_DIR: dataDir,
      QUIRE_API_KEYS: `acme:${hashApiKey(KEYS.acme)}`,
    });
    try {
      const response = await fetch(`${bare.url}/v1/documents`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEYS.acme}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          documentId: 'x',
          source: { kind: 'text', text: 'x' },
          password: PDF_PASSWORD,
        }),
      });
      expect(response.status).toBe(400);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('invalid_request');
      expect(body.error.message).toMatch(/QUIRE_SECRET_KEYS/);
      expect(body.error.message).not.toContain(PDF_PASSWORD);
    } finally {
      await bare.close();
    }
  });
});
