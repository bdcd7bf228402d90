/**
 * Queue names, job names and job states: the queue contract shared by producers (the SDK, the
 * gateway, BullMQ clients in other languages) and the workers.
 */
import * as z from 'zod';

/** The queues that take callers' jobs. */
export const QUEUES = {
  /** Document operations: `ingest` and `delete` jobs, serialised per document. */
  ingest: 'ingest',
  /** Single questions. */
  query: 'query',
  /** Batch parents (BullMQ flows whose children are `query` jobs). */
  batch: 'batch',
  /** Eval parents (flows whose children are the corpus's `ingest` jobs, then `eval-query` jobs on `query`). */
  eval: 'eval',
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

export const QueueNameSchema = z.enum([QUEUES.ingest, QUEUES.query, QUEUES.batch, QUEUES.eval]);

/**
 * Queues of Quire's own plumbing: no caller adds jobs to them and no worker of a caller's kind takes
 * them. Listed so that whatever looks at every queue (dashboards, clean-up, autoscaling) knows them.
 */
export const INTERNAL_QUEUES = {
  /** Webhook deliveries, sent by the gateway. */
  webhooks: 'webhooks',
  /** One gate job per batch (or eval) being enqueued, holding it open; never processed (see the SDK's batch flow). */
  batchGate: 'batch-gate',
} as const;

export type InternalQueueName = (typeof INTERNAL_QUEUES)[keyof typeof INTERNAL_QUEUES];

/** Every queue under a prefix. */
export const ALL_QUEUES: readonly (QueueName | InternalQueueName)[] = [
  ...Object.values(QUEUES),
  ...Object.values(INTERNAL_QUEUES),
];

export const JOB_NAMES = {
  ingest: 'ingest',
  delete: 'delete',
  query: 'query',
  batch: 'batch',
  eval: 'eval',
  /** One question of an eval, on the `query` queue. */
  evalQuery: 'eval-query',
} as const;

/**
 * Default key prefix. The braces are a Redis Cluster hash tag: every key of every queue lands in
 * one slot, which BullMQ's multi-key scripts need on a cluster; on a single Redis it changes nothing.
 */
export const DEFAULT_PREFIX = '{quire}';

/**
 * States a job can be in, as BullMQ reports them, in the order they are shown; `unknown` is a job
 * that does not exist (any more).
 */
export const JOB_STATES = [
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'waiting-children',
  'completed',
  'failed',
  'unknown',
] as const;

export const JobStateSchema = z.enum(JOB_STATES);
export type JobState = z.infer<typeof JobStateSchema>;

/** The states a queue counts jobs in (every state but `unknown`). */
export const COUNTED_JOB_STATES = JOB_STATES.filter(
  (state): state is Exclude<JobState, 'unknown'> => state !== 'unknown',
);
export type CountedJobState = (typeof COUNTED_JOB_STATES)[number];
