import { once } from 'node:events';
import { getTestRedis, type TestRedis } from '@quire/testkit';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, duplicateRedis, roleOptions } from '../src/connection.js';

let redis: TestRedis;
const clients: Redis[] = [];

function track(client: Redis): Redis {
  clients.push(client);
  return client;
}

/** A request-path client has no offline queue: wait for its connection before the first command. */
async function ready(client: Redis): Promise<Redis> {
  if (client.status !== 'ready') await once(client, 'ready');
  return client;
}

beforeAll(async () => {
  redis = await getTestRedis();
});
afterEach(() => {
  for (const client of clients.splice(0)) client.disconnect();
});
afterAll(async () => {
  await redis.stop();
});

describe('roleOptions', () => {
  it('gives blocking clients no command timeout, an offline queue and unbounded retries', () => {
    expect(roleOptions('blocking')).toEqual({
      maxRetriesPerRequest: null,
      enableOfflineQueue: true,
      commandTimeout: undefined,
    });
  });

  it('makes request clients fail fast, with overridable timeouts', () => {
    expect(roleOptions('request')).toMatchObject({
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      commandTimeout: 5_000,
      connectTimeout: 2_000,
    });
    expect(roleOptions('request', { commandTimeoutMs: 300 }).commandTimeout).toBe(300);
  });
});

describe('connectRedis and duplicateRedis', () => {
  it('lets a blocking wait outlast the request timeout of the client it was duplicated from', async () => {
    const request = await ready(track(connectRedis(redis.url, 'request', { commandTimeoutMs: 200 })));
    // A request-path client cannot block: its own timeout cuts the wait.
    await expect(request.blpop('quire-test:connection:none', 1)).rejects.toThrow(/timed out/i);

    const blocking = track(duplicateRedis(request, 'blocking'));
    expect(blocking.options.commandTimeout).toBeUndefined();
    expect(blocking.options.maxRetriesPerRequest).toBeNull();
    // Same server, and a one-second wait that ends normally (empty) instead of failing.
    await expect(blocking.blpop('quire-test:connection:none', 1)).resolves.toBeNull();
  });

  it('keeps the address and database when switching roles, and overrides what the caller set', async () => {
    const url = new URL(redis.url);
    const blocking = track(
      connectRedis({ host: url.hostname, port: Number(url.port), db: 3, commandTimeout: 50 }, 'blocking'),
    );
    expect(blocking.options.commandTimeout).toBeUndefined();
    const request = await ready(track(duplicateRedis(blocking, 'request')));
    expect(request.options).toMatchObject({ host: url.hostname, port: Number(url.port), db: 3 });
    expect(request.options.enableOfflineQueue).toBe(false);
    await request.ping();
  });

  it('returns a live client as it is: the caller owns it', () => {
    const mine = track(connectRedis(redis.url, 'blocking'));
    expect(connectRedis(mine, 'request')).toBe(mine);
  });
});
