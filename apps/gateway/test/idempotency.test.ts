import { cleanupPrefix, getTestRedis, type TestRedis, uniquePrefix } from '@quire/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprint, IdempotencyStore, sha256 } from '../src/idempotency.js';

let redis: TestRedis;
let client: Redis;
let prefix: string;
let store: IdempotencyStore;

beforeAll(async () => {
  redis = await getTestRedis();
  client = new Redis(redis.url);
  prefix = uniquePrefix('gateway-idem');
  store = new IdempotencyStore({ redis: client, prefix, ttlSeconds: 60 });
});

afterAll(async () => {
  await cleanupPrefix(client, prefix);
  await client.quit();
  await redis.stop();
});

describe('IdempotencyStore', () => {
  it('gives concurrent requests with one key one job, made once', async () => {
    const print = fingerprint({ question: 'a', options: { topN: 3, candidates: 10 } });
    const claims = await Promise.all(
      Array.from({ length: 8 }, () => store.claim('alpha', 'k-1', 'query', print)),
    );
    expect(new Set(claims.map((c) => c.jobId)).size).toBe(1);
    expect(claims.filter((c) => !c.replayed)).toHaveLength(1);
    expect(claims[0]?.jobId).toBe(IdempotencyStore.jobIdFor('alpha', 'k-1'));
  });

  it('fingerprints canonically: key order does not matter, values do', async () => {
    const a = fingerprint({ question: 'b', options: { candidates: 10, topN: 3 } });
    const b = fingerprint({ options: { topN: 3, candidates: 10 }, question: 'b', webhookUrl: undefined });
    expect(a).toBe(b);
    await store.claim('alpha', 'k-2', 'query', a);
    await expect(store.claim('alpha', 'k-2', 'query', b)).resolves.toMatchObject({ replayed: true });
    await expect(store.claim('alpha', 'k-2', 'query', fingerprint({ question: 'c' }))).rejects.toMatchObject({
      code: 'idempotency_key_mismatch',
    });
  });

  it('keeps tenants apart, remembers a key for its time to live and forgets a released one', async () => {
    const print = fingerprint({ q: 1 });
    const alpha = await store.claim('alpha', 'k-3', 'ingest', print);
    const beta = await store.claim('beta', 'k-3', 'ingest', print);
    expect(beta.jobId).not.toBe(alpha.jobId);
    expect(beta.replayed).toBe(false);
    await store.release('alpha', 'k-3');
    await expect(store.claim('alpha', 'k-3', 'ingest', fingerprint({ q: 2 }))).resolves.toMatchObject({
      jobId: alpha.jobId,
      replayed: false,
    });
    const ttl = await client.ttl(`${prefix}:gateway:idem:alpha:${sha256('k-3')}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
  });

  it('checks the header', () => {
    expect(IdempotencyStore.keyOf({})).toBeNull();
    expect(IdempotencyStore.keyOf({ 'idempotency-key': 'abc-123_XYZ' })).toBe('abc-123_XYZ');
    expect(() => IdempotencyStore.keyOf({ 'idempotency-key': 'has space' })).toThrow(/Idempotency-Key/);
    expect(() => IdempotencyStore.keyOf({ 'idempotency-key': 'x'.repeat(256) })).toThrow(/1-255/);
  });
});
