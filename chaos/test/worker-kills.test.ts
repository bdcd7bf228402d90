/**
 * Scenario a, short form: kill -9 ingest workers mid-job and restart them while three workers share
 * one Redis and one SQLite file; the store must equal a clean run's, point by point.
 */
import { getTestRedis, type TestRedis } from '@quire/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkWorkerKills } from '../src/checks.js';
import { SHORT_PROFILE } from '../src/profiles.js';
import { runWorkerKills } from '../src/scenarios/worker-kills.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await getTestRedis();
});
afterAll(async () => {
  await redis?.stop();
});

describe('kill -9 of ingest workers', () => {
  it('loses no document and leaves no duplicate, stale or missing point', async () => {
    const options = SHORT_PROFILE.kills;
    const report = await runWorkerKills({ ...options, redisUrl: redis.url });

    expect(checkWorkerKills(report, options.kills)).toEqual([]);
    // The kills hit jobs mid-way: they were found stalled and resumed from what was stored.
    expect(report.killsMidJob).toBe(options.kills);
    expect(report.resumed).toBeGreaterThan(0);
    expect(report.diff.matched).toBe(report.diff.expectedChunks);
    expect(report.jobs.completed).toBe(report.documents + report.revisions);
  });
});
