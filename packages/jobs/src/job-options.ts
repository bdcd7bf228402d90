import type { JobsOptions } from 'bullmq';

export interface RetentionOptions {
  /** Seconds a completed job is kept. Default 7 days. */
  completedAgeSeconds?: number;
  /** Completed jobs kept at most. Default 10,000. */
  completedCount?: number;
  /** Seconds a failed job is kept. Default 30 days. */
  failedAgeSeconds?: number;
  /** Failed jobs kept at most. Default 10,000. */
  failedCount?: number;
}

export interface DefaultJobOptionsOptions extends RetentionOptions {
  /** Attempts including the first. Default 5. */
  attempts?: number;
  /** First backoff delay in milliseconds; doubled each attempt, with jitter. Default 2,000. */
  backoffMs?: number;
}

/**
 * Default options for every Quire job: a few attempts with exponential backoff and jitter
 * (so that many workers retrying after a provider outage don't retry in lockstep), and
 * bounded retention so Redis never fills with finished jobs.
 */
export function defaultJobOptions(options: DefaultJobOptionsOptions = {}): JobsOptions {
  return {
    attempts: options.attempts ?? 5,
    backoff: { type: 'exponential', delay: options.backoffMs ?? 2_000, jitter: 0.5 },
    removeOnComplete: {
      age: options.completedAgeSeconds ?? 7 * 24 * 3600,
      count: options.completedCount ?? 10_000,
    },
    removeOnFail: { age: options.failedAgeSeconds ?? 30 * 24 * 3600, count: options.failedCount ?? 10_000 },
  };
}
