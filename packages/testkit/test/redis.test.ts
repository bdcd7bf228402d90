import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanupPrefix,
  freePort,
  getTestRedis,
  makeTempDir,
  type PrivateRedis,
  startPrivateRedis,
  type TestRedis,
  uniquePrefix,
} from '../src/index.js';

async function withClient<T>(url: string, use: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    return await use(client);
  } finally {
    client.disconnect();
  }
}

describe('getTestRedis', () => {
  let redis: TestRedis;

  beforeAll(async () => {
    redis = await getTestRedis();
  });

  afterAll(async () => {
    await redis.stop();
  });

  it('gives a Redis that answers PING', async () => {
    expect(redis.url).toMatch(/^redis:\/\//);
    expect(await withClient(redis.url, (client) => client.ping())).toBe('PONG');
  });

  it('uses REDIS_URL when set, and stop() leaves that server alone', async () => {
    const viaEnv = await getTestRedis({ env: { REDIS_URL: redis.url } });
    expect(viaEnv.url).toBe(redis.url);
    await viaEnv.stop();
    expect(await withClient(redis.url, (client) => client.ping())).toBe('PONG');
  });

  it('names REDIS_URL, without its password, when it does not answer', async () => {
    const port = await freePort();
    const attempt = getTestRedis({ env: { REDIS_URL: `redis://:hunter2@127.0.0.1:${port}` } });
    await expect(attempt).rejects.toThrow(
      /REDIS_URL \(redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\) does not answer PING/,
    );
    await expect(attempt).rejects.not.toThrow(/hunter2/);
  });
});

describe('uniquePrefix and cleanupPrefix', () => {
  let redis: TestRedis;

  beforeAll(async () => {
    redis = await getTestRedis();
  });

  afterAll(async () => {
    await redis.stop();
  });

  it('makes distinct, readable prefixes', () => {
    const a = uniquePrefix('Ingest Worker!');
    expect(a).toMatch(/^qt-ingest-worker-[0-9a-f]{8}$/);
    expect(uniquePrefix('Ingest Worker!')).not.toBe(a);
  });

  it('deletes the keys under its prefix and no others', async () => {
    const mine = uniquePrefix('cleanup');
    const other = uniquePrefix('cleanup');
    await withClient(redis.url, async (client) => {
      for (let i = 0; i < 1200; i += 1) await client.set(`${mine}:queue:${i}`, 'x');
      await client.set(mine, 'meta');
      await client.set(`${other}:queue:1`, 'y');
      await client.set(`${mine}-lookalike`, 'z');
    });
    expect(await cleanupPrefix(redis.url, mine)).toBe(1201);
    await withClient(redis.url, async (client) => {
      expect(await client.keys(`${mine}*`)).toEqual([`${mine}-lookalike`]);
      expect(await client.get(`${other}:queue:1`)).toBe('y');
      expect(await cleanupPrefix(client, other)).toBe(1);
      // A client passed in stays open.
      expect(await client.ping()).toBe('PONG');
      await client.del(`${mine}-lookalike`);
    });
  });
});

describe('startPrivateRedis', () => {
  let redis: PrivateRedis | undefined;

  afterAll(async () => {
    await redis?.stop();
  });

  it('keeps an appendonly key across kill() and restart() on the same port', async () => {
    redis = await startPrivateRedis({ appendonly: true });
    const { url, port } = redis;
    await withClient(url, (client) => client.set('survivor', 'still here'));
    await redis.kill();
    expect(redis.running).toBe(false);
    await redis.restart();
    expect(redis.running).toBe(true);
    expect(redis.port).toBe(port);
    expect(await withClient(url, (client) => client.get('survivor'))).toBe('still here');
    await redis.stop();
    expect(redis.running).toBe(false);
    redis = undefined;
  });

  it('loses its data on kill() without appendonly, and keeps a given dir after stop()', async () => {
    const dir = await makeTempDir('redis-given');
    try {
      const plain = await startPrivateRedis({ dir: dir.path });
      try {
        expect(plain.dir).toBe(dir.path);
        await withClient(plain.url, (client) => client.set('volatile', '1'));
        await plain.kill();
        await plain.restart();
        expect(await withClient(plain.url, (client) => client.get('volatile'))).toBeNull();
      } finally {
        await plain.stop();
      }
      const { stat } = await import('node:fs/promises');
      expect((await stat(dir.path)).isDirectory()).toBe(true);
    } finally {
      await dir.cleanup();
    }
  });

  it('explains a missing redis-server binary', async () => {
    await expect(startPrivateRedis({ binary: 'redis-server-that-does-not-exist' })).rejects.toThrow(
      /redis-server-that-does-not-exist was not found on PATH/,
    );
  });

  it('removes the directory it created on stop()', async () => {
    const own = await startPrivateRedis();
    await own.stop();
    const { access } = await import('node:fs/promises');
    await expect(access(own.dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
