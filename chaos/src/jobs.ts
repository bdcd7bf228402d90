/**
 * Enqueueing a corpus through the producer SDK and following its jobs to the end, reading job state
 * straight from the queue (no QueueEvents), so that following keeps working across a Redis restart.
 */
import { type IngestResult, IngestResultSchema, type Producer, QUEUES } from '@quire/jobs';
import type { CorpusDocument } from './corpus.js';
import { sleep } from './wait.js';

export interface TrackedJob {
  jobId: string;
  documentId: string;
  /** 0 for the first version of the document, 1 for its first revision, … */
  revision: number;
}

export interface JobOutcome extends TrackedJob {
  state: string;
  attemptsMade: number;
  /** Times the job was found stalled (its worker died or lost its lock) and put back. */
  stalledCounter: number;
  failedReason: string | null;
  result: IngestResult | null;
  /** When the last attempt started and when the job finished, epoch ms. */
  processedOn: number | null;
  finishedOn: number | null;
}

/** Enqueues one ingest job per document, in order. */
export async function enqueueDocuments(
  producer: Producer,
  tenant: string,
  documents: readonly CorpusDocument[],
  revision = 0,
): Promise<TrackedJob[]> {
  const jobs: TrackedJob[] = [];
  for (const doc of documents) {
    const { jobId } = await producer.enqueueIngest({
      tenant,
      documentId: doc.documentId,
      source: { kind: 'text', text: doc.text, name: doc.name },
    });
    jobs.push({ jobId, documentId: doc.documentId, revision });
  }
  return jobs;
}

export interface WaitForJobsOptions {
  /** Give up after this long, in ms. */
  timeoutMs: number;
  /** Pause between two looks at the queue, in ms. Default 200. */
  intervalMs?: number;
  /** Called after each look with the number of jobs settled (completed or failed). */
  onProgress?: (settled: number, total: number) => void | Promise<void>;
}

export class JobsTimeoutError extends Error {
  override name = 'JobsTimeoutError';
}

/** Polls until every job is completed or failed, then reads each job's outcome. */
export async function waitForJobs(
  producer: Producer,
  jobs: () => readonly TrackedJob[],
  options: WaitForJobsOptions,
): Promise<JobOutcome[]> {
  const queue = producer.queue(QUEUES.ingest);
  const deadline = Date.now() + options.timeoutMs;
  const settled = new Set<string>();
  for (;;) {
    const all = jobs();
    const pending = all.filter((j) => !settled.has(j.jobId));
    const states = await Promise.all(pending.map((j) => queue.getJobState(j.jobId)));
    pending.forEach((job, i) => {
      if (states[i] === 'completed' || states[i] === 'failed') settled.add(job.jobId);
    });
    await options.onProgress?.(settled.size, all.length);
    if (settled.size === all.length && all.length === jobs().length) break;
    if (Date.now() > deadline) {
      const byState = new Map<string, number>();
      states.forEach((state, i) => {
        if (!settled.has(pending[i]!.jobId)) byState.set(state, (byState.get(state) ?? 0) + 1);
      });
      const counts = [...byState].map(([state, n]) => `${n} ${state}`).join(', ');
      throw new JobsTimeoutError(
        `${all.length - settled.size} of ${all.length} jobs still unsettled after ${options.timeoutMs} ms: ${counts}`,
      );
    }
    await sleep(options.intervalMs ?? 200);
  }
  return readOutcomes(producer, jobs());
}

/** The outcome of every job as the queue has it now. */
export async function readOutcomes(producer: Producer, jobs: readonly TrackedJob[]): Promise<JobOutcome[]> {
  const queue = producer.queue(QUEUES.ingest);
  return Promise.all(
    jobs.map(async (tracked): Promise<JobOutcome> => {
      // State first, then the job: a job finishing in between is read with its result.
      const state = await queue.getJobState(tracked.jobId);
      const job = await queue.getJob(tracked.jobId);
      if (!job) {
        return {
          ...tracked,
          state: 'missing',
          attemptsMade: 0,
          stalledCounter: 0,
          failedReason: null,
          result: null,
          processedOn: null,
          finishedOn: null,
        };
      }
      const parsed = state === 'completed' ? IngestResultSchema.safeParse(job.returnvalue) : undefined;
      return {
        ...tracked,
        state,
        attemptsMade: job.attemptsMade,
        stalledCounter: job.stalledCounter ?? 0,
        failedReason: job.failedReason ?? null,
        result: parsed?.success ? parsed.data : null,
        processedOn: job.processedOn ?? null,
        finishedOn: job.finishedOn ?? null,
      };
    }),
  );
}

export type OutcomeSummary = ReturnType<typeof summariseOutcomes>;

/** Counts of outcomes by state and, for completed jobs, by result outcome. */
export function summariseOutcomes(outcomes: readonly JobOutcome[]) {
  const count = (predicate: (o: JobOutcome) => boolean) => outcomes.filter(predicate).length;
  return {
    jobs: outcomes.length,
    completed: count((o) => o.state === 'completed'),
    failed: count((o) => o.state === 'failed'),
    unsettled: count((o) => o.state !== 'completed' && o.state !== 'failed'),
    ingested: count((o) => o.result?.outcome === 'ingested'),
    skipped: count((o) => o.result?.outcome === 'skipped'),
    superseded: count((o) => o.result?.outcome === 'superseded'),
    /** Attempts made beyond the first, over all jobs (failed attempts that were retried). */
    retries: outcomes.reduce((sum, o) => sum + Math.max(0, o.attemptsMade - 1), 0),
    stalled: outcomes.reduce((sum, o) => sum + o.stalledCounter, 0),
    /** Chunks embedded by completed runs beyond the chunks of the documents (re-done work). */
    chunksEmbedded: outcomes.reduce((sum, o) => sum + (o.result?.chunksEmbedded ?? 0), 0),
  };
}
