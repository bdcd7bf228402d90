import type { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { readOutcome } from './job-wait.js';

/**
 * A queue holding one job that finishes right after the first read of it, whichever read that is:
 * what Redis looks like when a worker completes the job between two of our commands.
 */
function finishingQueue(
  finish: { state: 'completed'; returnvalue: unknown } | { state: 'failed'; failedReason: string },
) {
  let reads = 0;
  const snapshot = () => {
    const done = reads++ > 0;
    return done ? finish : { state: 'active' as const };
  };
  return {
    async getJobState() {
      return snapshot().state;
    },
    async getJob(jobId: string) {
      const now = snapshot();
      return {
        id: jobId,
        returnvalue: now.state === 'completed' ? now.returnvalue : null,
        failedReason: now.state === 'failed' ? now.failedReason : undefined,
      };
    },
  } as unknown as Queue;
}

describe('readOutcome', () => {
  it('never reports a job completed without the result it completed with', async () => {
    const queue = finishingQueue({ state: 'completed', returnvalue: { answer: 'Ten seconds.' } });
    const first = await readOutcome(queue, 'q-1');
    // The job was still running at the first read; the next read sees it finished, with its result.
    expect(first).toEqual({ state: 'pending' });
    expect(await readOutcome(queue, 'q-1')).toEqual({
      state: 'completed',
      result: { answer: 'Ten seconds.' },
    });
  });

  it('reports a failure with its reason', async () => {
    const queue = finishingQueue({ state: 'failed', failedReason: 'rerank failed: HTTP 500' });
    expect(await readOutcome(queue, 'q-2')).toEqual({ state: 'pending' });
    expect(await readOutcome(queue, 'q-2')).toEqual({
      state: 'failed',
      failedReason: 'rerank failed: HTTP 500',
    });
  });

  it('treats a job that is gone as not finished', async () => {
    const queue = {
      getJobState: async () => 'completed',
      getJob: async () => undefined,
    } as unknown as Queue;
    expect(await readOutcome(queue, 'q-3')).toEqual({ state: 'pending' });
  });
});
