/**
 * An eval in Redis: a BullMQ flow whose parent (queue `eval`) first waits for the `ingest` jobs of
 * its corpus, then (in the worker, see the query worker's eval processor) adds one `eval-query`
 * child per question and waits for those, then makes the report.
 *
 * The corpus jobs are added in chunks behind a gate, as a batch's questions are (see
 * `batch-flow.ts`): a producer that dies half-way leaves an eval that waits, never one that
 * measures part of its corpus; enqueueing it again with the same id adds the missing documents.
 */
import type { FlowProducer, Job, JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { BATCH_GATE_QUEUE, batchGateId, isGateClosed } from './batch-flow.js';
import { nextDocumentSeq } from './document-order.js';
import { type EvalJobData, EvalJobDataSchema, evalDocumentJobId } from './eval-schemas.js';
import { JOB_NAMES, QUEUES } from './names.js';
import type { IngestJobData } from './schemas.js';

export interface EvalFlowTargets {
  redis: Redis;
  prefix: string;
  evals: Queue;
  ingest: Queue;
  gate: Queue;
  flows: FlowProducer;
  jobOptions: JobsOptions;
  chunkSize: number;
}

export type EvalFlowOutcome = 'added' | 'resumed' | 'exists' | 'conflict';

/** The stored data as the schema writes it, without the worker's `step`: what two enqueues must agree on. */
function identity(data: unknown): string | null {
  const parsed = EvalJobDataSchema.safeParse(data);
  if (!parsed.success) return null;
  const { step: _step, ...rest } = parsed.data;
  return JSON.stringify(rest);
}

/** Adds the eval's parent, gate and corpus jobs, then opens the gate. Safe to call again after a failure. */
export async function addEvalFlow(
  targets: EvalFlowTargets,
  data: EvalJobData,
  corpus: Omit<IngestJobData, 'seq'>[],
  options: { signal?: AbortSignal; onProgress?: (enqueued: number, total: number) => void } = {},
): Promise<EvalFlowOutcome> {
  const { evalId } = data;
  options.signal?.throwIfAborted();
  const existing = await targets.evals.getJob(evalId);
  if (existing !== undefined) {
    if (identity(existing.data) !== identity(data)) return 'conflict';
    if (!(await isGateClosed(targets.gate, evalId))) return 'exists';
  } else {
    await targets.flows.add({
      name: JOB_NAMES.eval,
      queueName: QUEUES.eval,
      data,
      opts: { ...targets.jobOptions, jobId: evalId },
      children: [
        {
          name: 'gate',
          queueName: BATCH_GATE_QUEUE,
          data: { v: 1, evalId },
          opts: { jobId: batchGateId(evalId), removeOnComplete: true, removeOnFail: true },
        },
      ],
    });
  }

  const parent = { id: evalId, queue: targets.evals.qualifiedName };
  const total = corpus.length;
  for (let start = 0; start < total; start += targets.chunkSize) {
    options.signal?.throwIfAborted();
    const slice = corpus.slice(start, start + targets.chunkSize);
    let chunk = slice.map((doc, i) => ({
      name: JOB_NAMES.ingest,
      doc,
      opts: {
        ...targets.jobOptions,
        jobId: evalDocumentJobId(evalId, start + i),
        parent,
        ignoreDependencyOnFailure: true,
      },
    }));
    if (existing !== undefined) {
      // Resuming: a document enqueued before is left alone (see batch-flow.ts for why).
      const exists = await Promise.all(
        chunk.map((child) => targets.redis.exists(targets.ingest.toKey(child.opts.jobId))),
      );
      chunk = chunk.filter((_, i) => exists[i] === 0);
    }
    if (chunk.length > 0) {
      // Sequence numbers order these jobs with any other job for the same documents.
      const jobs = await Promise.all(
        chunk.map(async (child) => ({
          name: child.name,
          data: {
            ...child.doc,
            seq: await nextDocumentSeq(targets.redis, targets.prefix, child.doc.tenant, child.doc.documentId),
          } satisfies IngestJobData,
          opts: child.opts,
        })),
      );
      await targets.ingest.addBulk(jobs);
    }
    options.onProgress?.(Math.min(start + targets.chunkSize, total), total);
  }
  const gate: Job | undefined = await targets.gate.getJob(batchGateId(evalId));
  await gate?.remove();
  return existing === undefined ? 'added' : 'resumed';
}
