/**
 * Scale-out, short form: one worker, then three, against one Redis, one SQLite file and a model
 * server with latency and the shared provider limit on; every document is stored exactly once.
 * Throughput is printed by `pnpm chaos:scale`, never asserted.
 */
import { getTestRedis, type TestRedis } from '@quire/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkScaleOut } from '../src/checks.js';
import { SHORT_PROFILE } from '../src/profiles.js';
import { runScaleOut } from '../src/scenarios/scale-out.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await getTestRedis();
});
afterAll(async () => {
  await redis?.stop();
});

describe('scale-out on one machine', () => {
  it('ingests every document exactly once whatever the number of workers', async () => {
    const report = await runScaleOut({ ...SHORT_PROFILE.scale, redisUrl: redis.url });
    expect(checkScaleOut(report)).toEqual([]);
    expect(report.runs.map((r) => r.workers)).toEqual([1, 3]);
    for (const run of report.runs) {
      expect(run.diff.matched).toBe(run.diff.expectedChunks);
      expect(run.jobs.completed).toBe(run.documents);
    }
  });
});
