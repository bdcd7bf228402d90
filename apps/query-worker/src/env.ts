/**
 * The query worker's configuration: Quire's shared settings plus the process's own, read from
 * the environment once at start-up. The only module that reads `process.env`.
 */
import { parseQuireEnv, type QuireConfig } from '@quire/core';
import { parseEnvWith, WorkerProcessEnvSchema } from '@quire/runtime';
import { z } from 'zod';

/** The query worker's own settings, besides Quire's shared ones (`QuireEnvSchema`). */
export const QueryWorkerEnvSchema = WorkerProcessEnvSchema.extend({
  /** Questions answered at once by this process. */
  QUERY_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(8),
  /** Batch reports assembled at once by this process. */
  BATCH_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
});

export interface QueryWorkerEnv {
  config: QuireConfig;
  queryConcurrency: number;
  batchConcurrency: number;
  shutdownGraceMs: number;
  metricsPort: number;
  lockMs: number;
  stalledIntervalMs: number;
  maxStalledCount: number;
}

export function loadEnv(env: Record<string, string | undefined> = process.env): QueryWorkerEnv {
  const own = parseEnvWith(QueryWorkerEnvSchema, env);
  return {
    config: parseQuireEnv(env),
    queryConcurrency: own.QUERY_CONCURRENCY,
    batchConcurrency: own.BATCH_CONCURRENCY,
    shutdownGraceMs: own.SHUTDOWN_GRACE_MS,
    metricsPort: own.METRICS_PORT,
    lockMs: own.WORKER_LOCK_MS,
    stalledIntervalMs: own.WORKER_STALLED_INTERVAL_MS,
    maxStalledCount: own.WORKER_MAX_STALLED_COUNT,
  };
}
