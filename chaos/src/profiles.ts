/**
 * The sizes of the suite's two forms, shared by the command (`pnpm chaos`, `pnpm chaos --short`) and
 * the vitest tests (the short form, in CI).
 */
import type { BombsOptions } from './scenarios/bombs.js';
import type { QuotaOptions, WebhookIdleOptions } from './scenarios/gateway.js';
import type { ProviderFaultsOptions } from './scenarios/provider-faults.js';
import type { RedisRestartOptions } from './scenarios/redis-restart.js';
import type { ScaleOutOptions } from './scenarios/scale-out.js';
import type { WorkerKillsOptions } from './scenarios/worker-kills.js';

type Sized<T> = Omit<T, 'redisUrl' | 'log'>;

export interface SuiteProfile {
  name: 'short' | 'long';
  kills: Sized<WorkerKillsOptions>;
  redisRestart: Omit<RedisRestartOptions, 'log'>;
  faults: Sized<ProviderFaultsOptions>;
  scale: Sized<ScaleOutOptions>;
  bombs: Sized<BombsOptions>;
  webhook: Sized<WebhookIdleOptions>;
  quota: Sized<QuotaOptions>;
}

/** Seconds on two shared cores; the CI form. */
export const SHORT_PROFILE: SuiteProfile = {
  name: 'short',
  // Sparing already-stalled jobs keeps the short run deterministic while BullMQ's maxStalledCount is 1.
  kills: { documents: 40, kills: 4, workers: 3, spareStalledJobs: true },
  redisRestart: { documents: 40, restarts: 1, downMs: 2_000, workers: 2 },
  faults: { documentsPerPhase: 6, faultRate: 0.2 },
  // No rate bound within reach: the short run checks exactly-once with several workers, not throughput.
  scale: {
    documentsPerWorker: 8,
    requestsPerMinute: 100_000,
    configs: [
      { workers: 1, sharedLimit: true },
      { workers: 3, sharedLimit: true },
    ],
  },
  bombs: { documents: 30, bombsPerKind: 1, workers: 1 },
  webhook: { rounds: 2, idleMs: 7_000 },
  quota: { jobsPerMinute: 20, flood: 100, calm: 8 },
};

/** Minutes; the figures of the README. */
export const LONG_PROFILE: SuiteProfile = {
  name: 'long',
  kills: { documents: 200, kills: 20, workers: 3, spareStalledJobs: false },
  redisRestart: { documents: 200, restarts: 3, downMs: 5_000, workers: 3 },
  faults: { documentsPerPhase: 20, faultRate: 0.2 },
  scale: { documentsPerWorker: 100, requestsPerMinute: 1_000, latencyMs: 200 },
  bombs: { documents: 200, bombsPerKind: 2, workers: 2 },
  webhook: { rounds: 4, idleMs: 12_000 },
  quota: { jobsPerMinute: 60, flood: 1_000, calm: 30 },
};
