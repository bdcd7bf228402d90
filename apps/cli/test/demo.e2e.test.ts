/**
 * `quire demo` from the repository, as `pnpm demo` runs it after the build: against the test Redis
 * (REDIS_URL, or a private redis-server), with the shipped samples.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { getTestRedis, makeTempDir, type TempDir, type TestRedis } from '@quire/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quire } from './harness.js';

let redis: TestRedis;
let tmp: TempDir;

beforeAll(async () => {
  redis = await getTestRedis();
  tmp = await makeTempDir('cli-demo');
});

afterAll(async () => {
  await redis?.stop();
  await tmp?.cleanup();
});

describe('quire demo', () => {
  it('ingests the samples, answers with citations, and leaves nothing behind', {
    timeout: 120_000,
  }, async () => {
    // Settings of the caller's own setup must not leak into the demo.
    const result = await quire(['demo'], {
      cwd: tmp.path,
      env: { REDIS_URL: redis.url, QUIRE_QUEUE_PREFIX: 'not-this-one', QDRANT_URL: 'http://127.0.0.1:9' },
    });
    expect(result.stderr).toBe('');
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const out = result.stdout;
    expect(out).toContain('Queued 4 of 4 documents for tenant demo');
    expect(out).toMatch(/^done {4}solar-system-field-guide\.pdf {2}ingested · \d+ chunks? · 3 pages$/m);
    for (const name of ['harbor-light-handbook.md', 'tea-brewing-notes.txt', 'sourdough-starter.html']) {
      expect(out).toMatch(new RegExp(`^${name.replace(/\./g, '\\.')} +path +ingested`, 'm'));
    }
    expect(out).toMatch(
      /\? How often does the Harbor Light flash\?\nThe Harbor Light flashes white once every ten seconds.*\[1\]/,
    );
    expect(out).toContain('[1] harbor-light-handbook.md\n');
    expect(out).toMatch(/Venus.*\[1\]\n\nSources\n {2}\[1\] solar-system-field-guide\.pdf, p\. 1\n/);
    expect(out).toContain('[1] solar-system-field-guide.pdf, p. 3\n');
    expect(out).toMatch(
      /Done in [\d.]+ (ms|s): stopped the workers, removed the queue keys and the data directory\./,
    );

    const prefix = /queue prefix (\{quire-demo-[^}]+\})/.exec(out)?.[1];
    expect(prefix).toBeDefined();
    const client = new Redis(redis.url);
    try {
      expect(await client.keys(`${prefix}*`)).toEqual([]);
    } finally {
      client.disconnect();
    }
    // Nothing left behind: not even the empty directories it made.
    expect(existsSync(join(tmp.path, '.quire'))).toBe(false);
  });
});
