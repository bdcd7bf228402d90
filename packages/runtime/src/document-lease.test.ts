import { documentOrderKeys } from '@quire/contracts';
import { cleanupPrefix, getTestRedis, type TestRedis, uniquePrefix } from '@quire/testkit';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DocumentLease } from './document-lease.js';

let redis: TestRedis;
let client: Redis;
let prefix: string;

beforeAll(async () => {
  redis = await getTestRedis();
  client = new Redis(redis.url, { maxRetriesPerRequest: null });
});
afterEach(async () => {
  await cleanupPrefix(redis.url, prefix);
});
afterAll(async () => {
  client.disconnect();
  await redis.stop();
});
beforeEach(() => {
  prefix = uniquePrefix('lease');
});

describe('DocumentLease', () => {
  it('lets one holder in at a time, lets the same holder back in, and releases', async () => {
    const keys = documentOrderKeys(prefix, 't', 'doc/ü');
    const a = new DocumentLease(client, keys, 'job:1', { ttlMs: 5_000 });
    const b = new DocumentLease(client, keys, 'job:2', { ttlMs: 5_000 });
    expect(await a.acquire()).toBe(true);
    expect(await b.acquire()).toBe(false);
    // A retried job (same holder) takes its lease back after a crash.
    const again = new DocumentLease(client, keys, 'job:1', { ttlMs: 5_000 });
    expect(await again.acquire()).toBe(true);
    await again.release();
    await a.release();
    expect(await b.acquire()).toBe(true);
    await b.release();
    expect(await client.exists(keys.lease)).toBe(0);
  });

  it('expires a lease whose holder died, and keeps a renewed one', async () => {
    const keys = documentOrderKeys(prefix, 't', 'doc');
    const dead = new DocumentLease(client, keys, 'job:dead', { ttlMs: 300 });
    expect(await dead.acquire()).toBe(true);
    // The holder dies: its renewals stop but the key stays until it expires.
    await dead.release();
    await client.set(keys.lease, 'job:dead', 'PX', 300);
    const next = new DocumentLease(client, keys, 'job:next', { ttlMs: 300 });
    expect(await next.acquire()).toBe(false);
    await new Promise((r) => setTimeout(r, 400));
    expect(await next.acquire()).toBe(true);
    // Renewed while held: still ours well after one ttl.
    await new Promise((r) => setTimeout(r, 700));
    expect(await client.get(keys.lease)).toBe('job:next');
    await next.release();
  });

  it('tells a holder when it lost its lease or a later job was applied', async () => {
    const keys = documentOrderKeys(prefix, 't', 'doc');
    const lease = new DocumentLease(client, keys, 'job:1', { ttlMs: 5_000 });
    expect(await lease.acquire()).toBe(true);
    expect(await lease.stillHeld(4)).toBe(true);
    await lease.markApplied(5);
    expect(await lease.stillHeld(4)).toBe(false);
    expect(await lease.stillHeld(5)).toBe(true);
    // The lease expires (Redis was away longer than it) and another job takes it.
    await client.set(keys.lease, 'job:2');
    expect(await lease.stillHeld(5)).toBe(false);
    await lease.release();
    expect(await client.get(keys.lease)).toBe('job:2');
  });

  it('records the highest applied sequence number', async () => {
    const keys = documentOrderKeys(prefix, 't', 'doc');
    const lease = new DocumentLease(client, keys, 'job:1');
    expect(await lease.lastApplied()).toBe(-1);
    await lease.markApplied(3);
    await lease.markApplied(2);
    expect(await lease.lastApplied()).toBe(3);
  });
});
