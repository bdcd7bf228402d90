/**
 * Redis going away under a running gateway: submissions fail fast with 503 instead of hanging,
 * readiness says so, liveness does not, and everything works again once Redis is back.
 * Uses a private Redis, never the shared one.
 */
import { join } from 'node:path';
import { makeTempDir, type PrivateRedis, startPrivateRedis, type TempDir, waitFor } from '@quire/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../src/auth.js';
import { type RunningGateway, startGateway } from './harness.js';

let redis: PrivateRedis;
let tmp: TempDir;
let gateway: RunningGateway;
const auth = { authorization: 'Bearer down-key', 'content-type': 'application/json' };

beforeAll(async () => {
  redis = await startPrivateRedis();
  tmp = await makeTempDir('gateway-redis-down');
  gateway = await startGateway({
    REDIS_URL: redis.url,
    QUIRE_QUEUE_PREFIX: 'qt-gateway-down',
    QUIRE_DATA_DIR: join(tmp.path, 'data'),
    QUIRE_API_KEYS: `acme:${hashApiKey('down-key')}`,
    QUIRE_ADMIN_KEY_SHA256: hashApiKey('ops-key'),
    // Started before Redis goes: the reconnecting clients must not flood the test's output.
    LOG_LEVEL: 'fatal',
  });
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await redis?.stop();
  await tmp?.cleanup();
});

const ask = () =>
  fetch(`${gateway.url}/v1/queries`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ question: 'Anyone?' }),
  });
const get = (path: string) => fetch(`${gateway.url}${path}`, { headers: auth });
/** Readiness and metrics take the admin key on the API port. */
const ops = (path: string) =>
  fetch(`${gateway.url}${path}`, { headers: { authorization: 'Bearer ops-key' } });

describe('gateway without Redis', () => {
  it('is ready, then answers 503 at once while Redis is down, then recovers', async () => {
    expect((await ops('/readyz')).status).toBe(200);
    const before = await ask();
    expect(before.status).toBe(202);
    const { jobId } = (await before.json()) as { jobId: string };

    await redis.kill();
    await waitFor(() => gateway.services.redis.status !== 'ready', { timeoutMs: 5_000 });

    const submitted = await ask();
    expect(submitted.status).toBe(503);
    expect(await submitted.json()).toMatchObject({ error: { code: 'unavailable' } });
    const upload = new FormData();
    upload.append('file', new Blob(['hello']), 'a.txt');
    const uploaded = await fetch(`${gateway.url}/v1/documents/upload`, {
      method: 'POST',
      headers: { authorization: auth.authorization },
      body: upload,
    });
    expect(uploaded.status).toBe(503);
    expect((await get(`/v1/jobs/query/${jobId}`)).status).toBe(503);
    expect((await get('/v1/batches/some-batch')).status).toBe(503);

    const ready = await ops('/readyz');
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({
      ok: false,
      checks: { redis: { ok: false }, store: { ok: true } },
    });
    expect((await get('/healthz')).status).toBe(200);
    for (const path of ['/admin/queues/api/queues', '/admin/queues']) {
      const board = await ops(path);
      expect(board.status, path).toBe(503);
      expect(await board.json()).toMatchObject({ error: { code: 'unavailable' } });
    }
    const metrics = await (await ops('/metrics')).text();
    expect(metrics).toMatch(/^quire_gateway_redis_up\{service="gateway"\} 0$/m);

    await redis.restart();
    await waitFor(async () => (await ops('/readyz')).status === 200, { timeoutMs: 20_000, intervalMs: 100 });
    const after = await ask();
    expect(after.status).toBe(202);
    const { statusUrl } = (await after.json()) as { statusUrl: string };
    expect((await get(statusUrl)).status).toBe(200);
  });
});
