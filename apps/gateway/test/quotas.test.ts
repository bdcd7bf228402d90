/**
 * Tenant limits, shared by two gateways on one Redis: jobs per minute and queued document bytes,
 * answered with 429 and Retry-After; another tenant is not held back; bytes come back when a job
 * ends (a real ingest worker process).
 */
import { join } from 'node:path';
import {
  cleanupPrefix,
  getTestRedis,
  makeTempDir,
  type SpawnedProcess,
  type TempDir,
  type TestRedis,
  uniquePrefix,
  waitFor,
} from '@quire/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../src/auth.js';
import { type RunningGateway, startGateway, startWorker } from './harness.js';

const TENANTS = ['acme', 'globex', 'initech'] as const;
let redis: TestRedis;
let tmp: TempDir;
let prefix: string;
let gateways: RunningGateway[] = [];
let worker: SpawnedProcess | undefined;
let vars: Record<string, string>;

beforeAll(async () => {
  redis = await getTestRedis();
  tmp = await makeTempDir('gateway-quotas');
  prefix = uniquePrefix('gateway-quotas');
  vars = {
    REDIS_URL: redis.url,
    QUIRE_QUEUE_PREFIX: prefix,
    QUIRE_DATA_DIR: join(tmp.path, 'data'),
  };
  const gateway = {
    ...vars,
    QUIRE_API_KEYS: TENANTS.map((t) => `${t}:${hashApiKey(`${t}-key`)}`).join(','),
    GATEWAY_TENANT_JOBS_PER_MINUTE: '3',
    GATEWAY_TENANT_QUEUED_BYTES: '5000',
  };
  gateways = [await startGateway(gateway), await startGateway(gateway)];
}, 60_000);

afterAll(async () => {
  for (const gateway of gateways) await gateway.close();
  await worker?.kill('SIGTERM');
  if (redis) await cleanupPrefix(redis.url, prefix);
  await redis?.stop();
  await tmp?.cleanup();
});

async function post(gateway: number, tenant: string, path: string, body: unknown) {
  const response = await fetch(`${gateways[gateway]!.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tenant}-key`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body: (await response.json()) as { jobId?: string; error?: { code: string; message: string } },
  };
}

const ask = (gateway: number, tenant: string) =>
  post(gateway, tenant, '/v1/queries', { question: 'Any news?' });
const text = (gateway: number, tenant: string, id: string) =>
  post(gateway, tenant, '/v1/documents', {
    documentId: id,
    source: { kind: 'text', text: 'lantern '.repeat(375) },
  });

describe('tenant limits', () => {
  it('refuses a tenant past its jobs per minute on every gateway (429, Retry-After), not the others', async () => {
    for (const gateway of [0, 1, 0]) expect((await ask(gateway, 'acme')).status).toBe(202);
    for (const gateway of [1, 0]) {
      const refused = await ask(gateway, 'acme');
      expect(refused.status).toBe(429);
      expect(refused.body.error?.code).toBe('too_many_requests');
      const wait = Number(refused.retryAfter);
      expect(wait).toBeGreaterThanOrEqual(1);
      expect(wait).toBeLessThanOrEqual(60);
    }
    expect((await ask(1, 'globex')).status).toBe(202);
    // A batch counts its questions.
    const batch = await post(0, 'globex', '/v1/batches', {
      questions: [{ question: 'a' }, { question: 'b' }, { question: 'c' }],
    });
    expect(batch.status).toBe(429);
  });

  it('holds queued document bytes until the job ends, across gateways', async () => {
    const first = await text(0, 'initech', 'one');
    expect(first.status).toBe(202);
    const refused = await text(1, 'initech', 'two');
    expect(refused.status).toBe(429);
    expect(refused.body.error?.message).toMatch(/5000 bytes/);
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    expect(await gateways[1]!.services.quotas.queuedBytes('initech')).toBe(3000);

    worker = await startWorker('ingest', vars);
    await waitFor(async () => (await gateways[0]!.services.quotas.queuedBytes('initech')) === 0, {
      timeoutMs: 60_000,
      intervalMs: 100,
    });
    expect((await text(1, 'initech', 'two')).status).toBe(202);
  });
});
