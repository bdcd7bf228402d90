/** A document's OCR settings through the gateway, JSON and upload, as they reach the queue (no workers). */
import { join } from 'node:path';
import {
  cleanupPrefix,
  getTestRedis,
  makeTempDir,
  type TempDir,
  type TestRedis,
  uniquePrefix,
} from '@quire/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../src/auth.js';
import { type RunningGateway, startGateway } from './harness.js';

let redis: TestRedis;
let client: Redis;
let tmp: TempDir;
let prefix: string;
let gateway: RunningGateway;
const authorization = 'Bearer ocr-key';

beforeAll(async () => {
  redis = await getTestRedis();
  client = new Redis(redis.url);
  tmp = await makeTempDir('gateway-ocr');
  prefix = uniquePrefix('gateway-ocr');
  gateway = await startGateway({
    REDIS_URL: redis.url,
    QUIRE_QUEUE_PREFIX: prefix,
    QUIRE_DATA_DIR: join(tmp.path, 'data'),
    QUIRE_API_KEYS: `acme:${hashApiKey('ocr-key')}`,
  });
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  client?.disconnect();
  if (redis) await cleanupPrefix(redis.url, prefix);
  await redis?.stop();
  await tmp?.cleanup();
});

async function post(path: string, body: FormData | string) {
  const headers: Record<string, string> = { authorization };
  if (typeof body === 'string') headers['content-type'] = 'application/json';
  const response = await fetch(`${gateway.url}${path}`, { method: 'POST', headers, body });
  return {
    status: response.status,
    body: (await response.json()) as { jobId?: string; error?: { message: string } },
  };
}

async function jobData(jobId: string): Promise<Record<string, unknown>> {
  return JSON.parse((await client.hget(`${prefix}:ingest:${jobId}`, 'data')) ?? '{}') as Record<
    string,
    unknown
  >;
}

describe('OCR settings of a document', () => {
  it('queue a version 3 job from a JSON body', async () => {
    const { status, body } = await post(
      '/v1/documents',
      JSON.stringify({
        documentId: 'scan',
        source: { kind: 'text', text: 'hello' },
        ocr: { mode: 'force', langs: ['eng', 'fra'] },
      }),
    );
    expect(status, JSON.stringify(body)).toBe(202);
    expect(await jobData(body.jobId!)).toMatchObject({ v: 3, ocr: { mode: 'force', langs: ['eng', 'fra'] } });
  });

  it('queue a version 3 job from upload fields, and a version 1 job without them', async () => {
    const form = new FormData();
    form.append('ocr', 'off');
    form.append('ocrLangs', 'eng,deu');
    form.append('file', new Blob(['hello'], { type: 'text/plain' }), 'a.txt');
    const withOcr = await post('/v1/documents/upload', form);
    expect(withOcr.status, JSON.stringify(withOcr.body)).toBe(202);
    expect(await jobData(withOcr.body.jobId!)).toMatchObject({
      v: 3,
      ocr: { mode: 'off', langs: ['eng', 'deu'] },
    });

    const plain = new FormData();
    plain.append('file', new Blob(['hello'], { type: 'text/plain' }), 'b.txt');
    const without = await post('/v1/documents/upload', plain);
    const data = await jobData(without.body.jobId!);
    expect(data.v).toBe(1);
    expect(data).not.toHaveProperty('ocr');
  });

  it('refuses languages that are not Tesseract names, naming the field', async () => {
    const form = new FormData();
    form.append('ocrLangs', 'eng;rm -rf');
    form.append('file', new Blob(['hello'], { type: 'text/plain' }), 'c.txt');
    const { status, body } = await post('/v1/documents/upload', form);
    expect(status).toBe(400);
    expect(body.error?.message).toMatch(/ocrLangs/);
  });
});
