/** Waiting, within a deadline, for a job to finish: events first, with a slow poll as a safety net. */
import type { QueueName } from '@quire/jobs';
import type { Queue } from 'bullmq';
import type { JobEvents } from './job-events.js';

export type WaitOutcome =
  | { state: 'completed'; result: unknown }
  | { state: 'failed'; failedReason: string }
  | { state: 'pending' };

export interface WaitOptions {
  timeoutMs: number;
  /** How often the job's state is read besides listening to events, in ms. Default 1,000. */
  pollMs?: number;
  /** Stops waiting early (the client went away). */
  signal?: AbortSignal;
}

export function waitForJob(
  events: JobEvents,
  queue: Queue,
  queueName: QueueName,
  jobId: string,
  options: WaitOptions,
): Promise<WaitOutcome> {
  return new Promise<WaitOutcome>((resolve, reject) => {
    let settled = false;
    const finish = (outcome: WaitOutcome | Error) => {
      if (settled) return;
      settled = true;
      stop();
      clearTimeout(deadline);
      clearInterval(poll);
      options.signal?.removeEventListener('abort', onAbort);
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    // Listen before reading the state, so that a job finishing in between is not missed.
    const stop = events.follow(queueName, jobId, (event) => {
      if (event.type === 'completed') finish({ state: 'completed', result: event.result });
      else if (event.type === 'failed') finish({ state: 'failed', failedReason: event.failedReason });
    });
    const check = async () => {
      try {
        const outcome = await readOutcome(queue, jobId);
        if (outcome.state !== 'pending') finish(outcome);
      } catch (error) {
        finish(error instanceof Error ? error : new Error(String(error)));
      }
    };
    const onAbort = () => finish({ state: 'pending' });
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const deadline = setTimeout(() => finish({ state: 'pending' }), options.timeoutMs);
    const poll = setInterval(() => void check(), options.pollMs ?? 1_000);
    void check();
  });
}

/**
 * A job's outcome as stored now. The state is read before the job: read the other way round, a
 * job finishing in between would be seen completed with the result it had before (none).
 */
export async function readOutcome(queue: Queue, jobId: string): Promise<WaitOutcome> {
  const state = await queue.getJobState(jobId);
  if (state !== 'completed' && state !== 'failed') return { state: 'pending' };
  const job = await queue.getJob(jobId);
  if (!job) return { state: 'pending' };
  return state === 'completed'
    ? { state: 'completed', result: job.returnvalue }
    : { state: 'failed', failedReason: job.failedReason ?? 'failed' };
}
