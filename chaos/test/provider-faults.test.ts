/**
 * Scenario c, short form: one fault of the model server per phase, against the same running workers.
 */
import { getTestRedis, type TestRedis } from '@quire/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkFaultPhase } from '../src/checks.js';
import { SHORT_PROFILE } from '../src/profiles.js';
import { type ProviderFaultsReport, runProviderFaults } from '../src/scenarios/provider-faults.js';

let redis: TestRedis;
let report: ProviderFaultsReport;

beforeAll(async () => {
  redis = await getTestRedis();
  report = await runProviderFaults({ ...SHORT_PROFILE.faults, redisUrl: redis.url });
}, 240_000);
afterAll(async () => {
  await redis?.stop();
});

function phase(kind: ProviderFaultsReport['phases'][number]['kind']) {
  const found = report.phases.find((p) => p.kind === kind);
  if (!found) throw new Error(`no ${kind} phase in the report`);
  return found;
}

describe('provider faults', () => {
  it.each(['rate-limit-429', 'server-error-500', 'hang'] as const)(
    'rides out %s: every job completes with the points of a clean run',
    (kind) => {
      const p = phase(kind);
      expect(checkFaultPhase(p)).toEqual([]);
      expect(p.treatment).toBe('transient');
      expect(p.jobs.completed).toBe(p.jobs.jobs);
    },
  );

  it('delays on a 429 without using a job attempt', () => {
    const p = phase('rate-limit-429');
    expect(p.byStatus[429]).toBeGreaterThan(0);
    expect(p.attempts).toBe(p.jobs.jobs);
  });

  it.each(['bad-request-400', 'unauthorized-401'] as const)(
    'fails %s at the first attempt with the provider error as the reason, key withheld',
    (kind) => {
      const p = phase(kind);
      expect(checkFaultPhase(p)).toEqual([]);
      expect(p.treatment).toBe('permanent');
      expect(p.reasons.length).toBeGreaterThan(0);
      expect(p.keyLeaked).toBe(false);
    },
  );

  it('never prints the API key, in failure reasons or in worker output', () => {
    expect(report.phases.some((p) => p.keyLeaked)).toBe(false);
    expect(report.keyInWorkerOutput).toBe(false);
  });

  it.each(['malformed-json', 'wrong-dimension'] as const)(
    'settles every job under %s, naming the fault in each failure',
    (kind) => {
      const p = phase(kind);
      expect(checkFaultPhase(p)).toEqual([]);
      expect(p.jobs.completed + p.jobs.failed).toBe(p.jobs.jobs);
    },
  );
});
