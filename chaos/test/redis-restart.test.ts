/**
 * Scenario b, short form: a private Redis with AOF on crashes (SIGKILL) mid-run and comes back on the
 * same port and directory; the workers must reconnect and finish every job.
 */
import { describe, expect, it } from 'vitest';
import { checkRedisRestart } from '../src/checks.js';
import { SHORT_PROFILE } from '../src/profiles.js';
import { runRedisRestart } from '../src/scenarios/redis-restart.js';

describe('Redis crash and restart', () => {
  it('completes every job once the workers have reconnected, with the store of a clean run', async () => {
    const options = SHORT_PROFILE.redisRestart;
    const report = await runRedisRestart(options);

    expect(checkRedisRestart(report, options.restarts ?? 1)).toEqual([]);
    // Redis went away under active jobs, and the same worker processes served again afterwards.
    expect(report.activeAtCrash.every((n) => n > 0)).toBe(true);
    expect(report.workersStarted).toBe(options.workers);
    expect(report.workerErrors['redis connection error']).toBeGreaterThan(0);
    expect(report.jobs.completed).toBe(report.documents);
  });
});
