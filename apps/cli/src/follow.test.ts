import { describe, expect, it } from 'vitest';
import { CliError } from './errors.js';
import { type FlowView, followFlow } from './follow.js';

interface View extends FlowView<string> {
  done: number;
}

function recorder() {
  const lines: string[] = [];
  return { lines, stream: { write: (text: string) => lines.push(text) > 0 } };
}

function reads(views: (View | null)[]) {
  let i = 0;
  return async () => views[Math.min(i++, views.length - 1)] ?? null;
}

const running = (done: number): View => ({ state: 'active', failedReason: null, report: null, done });
const base = {
  kind: 'batch',
  id: 'b1',
  timeoutMs: 60_000,
  pollMs: 1,
  describe: (v: View) => `${v.done}/3 done`,
};

describe('followFlow', () => {
  it('prints a line each time the progress changes and returns the report', async () => {
    const { lines, stream } = recorder();
    const report = await followFlow({
      ...base,
      progress: stream,
      read: reads([running(0), running(0), running(2), { ...running(3), state: 'completed', report: 'R' }]),
    });
    expect(report).toBe('R');
    expect(lines.map((l) => l.split(' · ')[0])).toEqual(['0/3 done', '2/3 done', '3/3 done']);
  });

  it('names the job when it failed or is gone', async () => {
    const failed = followFlow({
      ...base,
      progress: recorder().stream,
      read: reads([{ ...running(1), state: 'failed', failedReason: 'worker crashed' }]),
    });
    await expect(failed).rejects.toThrow('batch b1 failed: worker crashed');
    const gone = followFlow({ ...base, kind: 'eval', progress: recorder().stream, read: reads([null]) });
    await expect(gone).rejects.toThrow('eval b1 no longer exists (removed by job retention?)');
  });

  it('stops waiting when asked, with exit code 130, and the job goes on', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await followFlow({
      ...base,
      progress: recorder().stream,
      read: reads([running(1)]),
      signal: controller.signal,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).message).toBe('stopped waiting; batch b1 goes on');
    expect((error as CliError).exitCode).toBe(130);
  });
});
