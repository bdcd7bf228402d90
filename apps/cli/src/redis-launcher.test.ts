import { join } from 'node:path';
import { freePort, makeTempDir } from '@quire/testkit';
import { describe, expect, it } from 'vitest';
import { answersPing, findRedis, noRedisHelp } from './redis-launcher.js';

describe('findRedis', () => {
  it('refuses a REDIS_URL that does not answer', async () => {
    const port = await freePort();
    await expect(findRedis({ url: `redis://:pw@127.0.0.1:${port}`, dir: '/unused' })).rejects.toThrow(
      `REDIS_URL (redis://:***@127.0.0.1:${port}) does not answer PING`,
    );
  });

  it('starts a private redis-server when nothing answers, and stops it', async () => {
    const tmp = await makeTempDir('cli-redis');
    const silent = `redis://127.0.0.1:${await freePort()}`;
    try {
      const redis = await findRedis({ dir: join(tmp.path, 'redis'), localUrl: silent });
      expect(redis.origin).toBe('private');
      expect(await answersPing(redis.url, 1_000)).toBe(true);
      await redis.stop();
      expect(await answersPing(redis.url, 500)).toBe(false);
    } finally {
      await tmp.cleanup();
    }
  });

  it('says how to get a Redis when there is no redis-server either', async () => {
    const tmp = await makeTempDir('cli-redis');
    const silent = `redis://127.0.0.1:${await freePort()}`;
    try {
      const binary = join(tmp.path, 'no-redis-server');
      const found = findRedis({ dir: tmp.path, localUrl: silent, binary });
      await expect(found).rejects.toThrow(noRedisHelp(binary));
      expect(noRedisHelp('redis-server')).toContain('`redis-server` is not on the PATH');
    } finally {
      await tmp.cleanup();
    }
  });
});
