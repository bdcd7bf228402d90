/**
 * The ingest worker's configuration: Quire's shared settings plus the process's own, read from
 * the environment once at start-up. The only module that reads `process.env`.
 */
import { ConfigError, formatEnvIssues, parseQuireEnv, type QuireConfig } from '@quire/core';
import { z } from 'zod';

const WorkerEnvSchema = z.object({
  /** Jobs processed at once by this process. */
  INGEST_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(2),
  /** How long SIGTERM waits for in-flight jobs before exiting, in ms. Keep below the pod's grace period. */
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(3_600_000).default(25_000),
  /** Port for `/metrics` and `/healthz`; 0 = off. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65_535).default(0),
  /** BullMQ job lock, in ms: a crashed worker's jobs are picked up again after this. */
  WORKER_LOCK_MS: z.coerce.number().int().min(1_000).max(600_000).default(30_000),
});

export interface IngestWorkerEnv {
  config: QuireConfig;
  concurrency: number;
  shutdownGraceMs: number;
  metricsPort: number;
  lockMs: number;
}

export function loadEnv(env: Record<string, string | undefined> = process.env): IngestWorkerEnv {
  const own = WorkerEnvSchema.safeParse(env);
  if (!own.success) throw new ConfigError(`invalid configuration:\n${formatEnvIssues(own.error)}`);
  return {
    config: parseQuireEnv(env),
    concurrency: own.data.INGEST_CONCURRENCY,
    shutdownGraceMs: own.data.SHUTDOWN_GRACE_MS,
    metricsPort: own.data.METRICS_PORT,
    lockMs: own.data.WORKER_LOCK_MS,
  };
}
