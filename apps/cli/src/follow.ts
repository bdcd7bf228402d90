/**
 * Following a flow job (a batch or an eval) until it ends, and writing its report: what `quire
 * batch` and `quire eval` share.
 */
import { writeFile } from 'node:fs/promises';
import type { JobState } from '@quire/jobs';
import type { CommandContext } from './context.js';
import { CliError } from './errors.js';
import { formatDuration } from './format.js';
import type { OutputStream } from './io.js';
import { pause } from './poll.js';

/** What a backend tells of a flow job: its state, and its report once complete. */
export interface FlowView<R> {
  state: JobState;
  failedReason: string | null;
  report: R | null;
}

export interface FollowFlowOptions<V extends FlowView<unknown>> {
  /** `batch` or `eval`: how messages name the job. */
  kind: string;
  id: string;
  /** Reads the job's state; null when it no longer exists. */
  read: () => Promise<V | null>;
  /**
   * The progress line without the elapsed time, e.g. `3/10 done · 1 failed`; off a terminal a line
   * is printed each time its first part (before ` · `) changes.
   */
  describe: (view: V) => string;
  /** Where progress goes; redrawn in place on a terminal. */
  progress: OutputStream;
  /** Longest wait, in ms. */
  timeoutMs: number;
  /** Interval between polls, in ms. @default 500 */
  pollMs?: number | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * Polls a flow job until it completes or fails, printing its progress, and returns its report.
 * Throws a {@link CliError} when the job is gone, failed, is not done in time, or the wait is
 * stopped (exit code 130); in those last two cases the job goes on.
 */
export async function followFlow<V extends FlowView<unknown>>(
  options: FollowFlowOptions<V>,
): Promise<NonNullable<V['report']>> {
  const { kind, id, progress } = options;
  const live = progress.isTTY === true;
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  let last = '';
  let view: V | null;
  for (;;) {
    view = await options.read();
    if (view === null) throw new CliError(`${kind} ${id} no longer exists (removed by job retention?)`);
    const line = `${options.describe(view)} · ${formatDuration(Date.now() - started)}`;
    if (live) progress.write(`\r\u001b[2K${line}`);
    else if (line.split(' · ')[0] !== last.split(' · ')[0]) progress.write(`${line}\n`);
    last = line;
    if (view.state === 'completed' || view.state === 'failed') break;
    if (Date.now() >= deadline) {
      if (live) progress.write('\n');
      throw new CliError(
        `${kind} ${id} is not finished after ${formatDuration(options.timeoutMs)}; it goes on`,
      );
    }
    if (!(await pause(options.pollMs ?? 500, options.signal))) {
      if (live) progress.write('\n');
      throw new CliError(`stopped waiting; ${kind} ${id} goes on`, 130);
    }
  }
  if (live) progress.write('\n');
  if (view.state === 'failed' || view.report === null) {
    throw new CliError(`${kind} ${id} failed: ${view.failedReason ?? 'no report was produced'}`);
  }
  return view.report as NonNullable<V['report']>;
}

/** Writes a report to `out`, or to stdout when there is none. */
export async function writeReport(ctx: CommandContext, out: string | undefined, text: string): Promise<void> {
  if (out === undefined) ctx.term.stdout.write(text);
  else await writeFile(out, text, 'utf8');
}
