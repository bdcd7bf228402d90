/**
 * Queue names and job names: the queue contract shared by producers (this SDK, the gateway,
 * or BullMQ clients in other languages) and the workers.
 */

export const QUEUES = {
  /** Document operations: `ingest` and `delete` jobs, serialised per document. */
  ingest: 'ingest',
  /** Single questions. */
  query: 'query',
  /** Batch parents (BullMQ flows whose children are `query` jobs). */
  batch: 'batch',
  /** Eval parents (flows whose children are the corpus's `ingest` jobs, then `eval-query` jobs). */
  eval: 'eval',
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

export const JOB_NAMES = {
  ingest: 'ingest',
  delete: 'delete',
  query: 'query',
  batch: 'batch',
  eval: 'eval',
  evalQuery: 'eval-query',
} as const;

/**
 * Default key prefix. The braces are a Redis Cluster hash tag: every key of every queue lands in
 * one slot, which BullMQ's multi-key scripts need on a cluster; on a single Redis it changes nothing.
 */
export const DEFAULT_PREFIX = '{quire}';
