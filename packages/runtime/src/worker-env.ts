import { ConfigError, formatEnvIssues } from '@quire/core';
import { z } from 'zod';

/** Settings every worker process reads besides Quire's shared ones. */
export const WorkerProcessEnvSchema = z.object({
  /** How long SIGTERM waits for in-flight jobs before exiting, in ms. Keep below the pod's grace period. */
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(3_600_000).default(25_000),
  /** Port for `/metrics` and `/healthz`; 0 = off. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65_535).default(0),
  /** BullMQ job lock in ms: a crashed worker's jobs run again after about this long. */
  WORKER_LOCK_MS: z.coerce.number().int().min(1_000).max(600_000).default(30_000),
  /** How often workers look for jobs whose lock expired (their worker died), in ms. */
  WORKER_STALLED_INTERVAL_MS: z.coerce.number().int().min(500).max(600_000).default(30_000),
  /**
   * Times a job may be found stalled (its worker died or lost Redis) before it fails for good.
   * BullMQ's default of 1 would fail a job hit by two crashes; Quire's processors are idempotent
   * and resume, so a higher bound only costs repeated work.
   */
  WORKER_MAX_STALLED_COUNT: z.coerce.number().int().min(0).max(1000).default(10),
});

/** Parses `env` with `schema`; a wrong value throws ConfigError naming the variable. */
export function parseEnvWith<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined>,
): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) throw new ConfigError(`invalid configuration:\n${formatEnvIssues(parsed.error)}`);
  return parsed.data;
}
