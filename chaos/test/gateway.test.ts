/**
 * Scenarios e and f, short form, through a real gateway process: webhooks still arrive promptly
 * after the gateway idles past its Redis timeouts, and a tenant flooding the gateway is held to its
 * limit while another tenant's documents are all accepted and ingested.
 */
import { getTestRedis, type TestRedis } from '@quire/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkQuota, checkWebhookIdle } from '../src/checks.js';
import { SHORT_PROFILE } from '../src/profiles.js';
import { runQuota, runWebhookIdle } from '../src/scenarios/gateway.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await getTestRedis();
});
afterAll(async () => {
  await redis?.stop();
});

describe('the gateway under chaos', () => {
  it('delivers every webhook promptly after idle spells', async () => {
    const report = await runWebhookIdle({ ...SHORT_PROFILE.webhook, redisUrl: redis.url });
    expect(checkWebhookIdle(report)).toEqual([]);
    expect(report.rounds).toHaveLength(SHORT_PROFILE.webhook.rounds!);
  }, 120_000);

  it("holds a flooding tenant to its limit while another tenant's documents all complete", async () => {
    const report = await runQuota({ ...SHORT_PROFILE.quota, redisUrl: redis.url });
    expect(checkQuota(report)).toEqual([]);
    expect(report.flood.refused).toBeGreaterThan(0);
    expect(report.calm.completed).toBe(SHORT_PROFILE.quota.calm);
  }, 180_000);
});
