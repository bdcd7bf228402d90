/**
 * A batch in Redis: a BullMQ flow whose parent (queue `batch`) waits for one `query` child per
 * question, each added with `ignoreDependencyOnFailure` so that a failed question is recorded on the
 * parent instead of blocking it.
 *
 * One `FlowProducer.add` of a 10,000-question batch is one MULTI/EXEC of 10,000 scripts: Redis
 * serves nobody else while it runs (about a second), and the request is tens of megabytes. So the
 * questions are added in chunks (`Queue.addBulk` with the `parent` option), and the batch is held
 * open meanwhile by a *gate*: one more child, in a queue no worker takes, added in the same
 * transaction as the parent and removed only once every question is in. Until then the parent
 * cannot complete, even if every question enqueued so far is answered, so a producer that dies (or
 * is stopped) half-way leaves a batch that waits, visibly (`enqueued: false`), never one that
 * completes with part of its questions. Enqueueing it again with the same id adds the missing
 * questions and opens the gate.
 */
import type { FlowProducer, Job, JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { INTERNAL_QUEUES, JOB_NAMES, QUEUES } from './names.js';
import {
  type BatchJobPayload,
  BatchJobPayloadSchema,
  batchChildId,
  type QueryJobPayload,
} from './query-schemas.js';

/** Queue of batch gates: jobs no worker takes, each holding its batch open while it is enqueued. */
export const BATCH_GATE_QUEUE = INTERNAL_QUEUES.batchGate;

/** Questions added per round trip when no chunk size is given. */
export const DEFAULT_BATCH_CHUNK_SIZE = 500;

export function batchGateId(batchId: string): string {
  return `${batchId}-gate`;
}

export interface EnqueueBatchOptions {
  /**
   * Your own batch id: 1–100 letters, digits, `_` or `-`. Enqueueing again with the id of a batch
   * that was cut short adds its missing questions; with the id of a fully enqueued one it does
   * nothing. Default: a random UUID.
   */
  batchId?: string;
  /**
   * Stops adding questions before the next chunk; `enqueueBatch` then rejects with the signal's
   * reason and the batch stays open (it never completes with part of its questions) until it is
   * enqueued again with the same id.
   */
  signal?: AbortSignal;
  /** Called after each chunk with the number of questions enqueued so far and the total. */
  onProgress?: (enqueued: number, total: number) => void;
}

export interface BatchFlowTargets {
  /** The connection the queues use. */
  redis: Redis;
  batch: Queue;
  query: Queue;
  gate: Queue;
  flows: FlowProducer;
  /** Options of the parent and of every question (attempts, backoff, retention). */
  jobOptions: JobsOptions;
  /** Questions per `addBulk` call. */
  chunkSize: number;
}

/**
 * What {@link addBatchFlow} did: `added` a new batch, `resumed` one cut short, found one fully
 * enqueued with the same content (`exists`), or one with other content under the id (`conflict`,
 * nothing changed).
 */
export type BatchFlowOutcome = 'added' | 'resumed' | 'exists' | 'conflict';

/** Adds the batch's parent, gate and questions, then opens the gate. Safe to call again after a failure. */
export async function addBatchFlow(
  targets: BatchFlowTargets,
  data: BatchJobPayload,
  children: QueryJobPayload[],
  options: Pick<EnqueueBatchOptions, 'signal' | 'onProgress'> = {},
): Promise<BatchFlowOutcome> {
  const { batchId } = data;
  const { signal } = options;
  signal?.throwIfAborted();
  const existing = await targets.batch.getJob(batchId);
  if (existing !== undefined) {
    // Compared as the schema writes them, so that key order does not matter.
    const stored = BatchJobPayloadSchema.safeParse(existing.data);
    if (
      !stored.success ||
      JSON.stringify(stored.data) !== JSON.stringify(BatchJobPayloadSchema.parse(data))
    ) {
      return 'conflict';
    }
    // Fully enqueued before: nothing to do (adding its children again would be wrong, see below).
    if (!(await isGateClosed(targets.gate, batchId))) return 'exists';
  } else {
    await targets.flows.add({
      name: JOB_NAMES.batch,
      queueName: QUEUES.batch,
      data,
      opts: { ...targets.jobOptions, jobId: batchId },
      children: [
        {
          name: 'gate',
          queueName: BATCH_GATE_QUEUE,
          data: { v: 1, batchId },
          opts: { jobId: batchGateId(batchId), removeOnComplete: true, removeOnFail: true },
        },
      ],
    });
  }

  const parent = { id: batchId, queue: targets.batch.qualifiedName };
  const total = children.length;
  for (let start = 0; start < total; start += targets.chunkSize) {
    signal?.throwIfAborted();
    let chunk = children.slice(start, start + targets.chunkSize).map((child) => ({
      name: JOB_NAMES.query,
      data: child,
      opts: {
        ...targets.jobOptions,
        jobId: batchChildId(batchId, child.batch?.index ?? 0),
        parent,
        ignoreDependencyOnFailure: true,
      },
    }));
    // Resuming: a question enqueued before is left alone. BullMQ would take a second add of a
    // failed (ignored) child as a new pending dependency, and the batch would wait for it forever.
    if (existing !== undefined) chunk = await missing(targets, chunk);
    if (chunk.length > 0) await targets.query.addBulk(chunk);
    options.onProgress?.(Math.min(start + targets.chunkSize, total), total);
  }
  await openGate(targets.gate, batchId);
  return existing === undefined ? 'added' : 'resumed';
}

/** Whether the batch's questions are still being enqueued (or their enqueueing was cut short). */
export async function isGateClosed(gate: Queue, batchId: string): Promise<boolean> {
  return (await gate.getJob(batchGateId(batchId))) !== undefined;
}

async function openGate(gate: Queue, batchId: string): Promise<void> {
  const job: Job | undefined = await gate.getJob(batchGateId(batchId));
  // Removing the last pending child moves the parent on, as the completion of a child would.
  await job?.remove();
}

async function missing<T extends { opts: { jobId: string } }>(
  targets: BatchFlowTargets,
  chunk: T[],
): Promise<T[]> {
  // Sent together without waiting for each reply: about one round trip in all.
  const exists = await Promise.all(
    chunk.map((child) => targets.redis.exists(targets.query.toKey(child.opts.jobId))),
  );
  return chunk.filter((_, i) => exists[i] === 0);
}
