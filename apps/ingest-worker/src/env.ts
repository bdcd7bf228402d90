/**
 * The ingest worker's configuration: Quire's shared settings plus the process's own, read from
 * the environment once at start-up. The only module that reads `process.env`.
 */
import { parseQuireEnv, type QuireConfig } from '@quire/core';
import { parseEnvWith, WorkerProcessEnvSchema } from '@quire/runtime';
import { z } from 'zod';

/** The ingest worker's own settings, besides Quire's shared ones (`QuireEnvSchema`). */
export const IngestWorkerEnvSchema = WorkerProcessEnvSchema.extend({
  /** Jobs processed at once by this process. */
  INGEST_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(2),
});

export interface IngestWorkerEnv {
  config: QuireConfig;
  concurrency: number;
  shutdownGraceMs: number;
  metricsPort: number;
  lockMs: number;
  stalledIntervalMs: number;
  maxStalledCount: number;
}

export function loadEnv(env: Record<string, string | undefined> = process.env): IngestWorkerEnv {
  const own = parseEnvWith(IngestWorkerEnvSchema, env);
  return {
    config: parseQuireEnv(env),
    concurrency: own.INGEST_CONCURRENCY,
    shutdownGraceMs: own.SHUTDOWN_GRACE_MS,
    metricsPort: own.METRICS_PORT,
    lockMs: own.WORKER_LOCK_MS,
    stalledIntervalMs: own.WORKER_STALLED_INTERVAL_MS,
    maxStalledCount: own.WORKER_MAX_STALLED_COUNT,
  };
}
