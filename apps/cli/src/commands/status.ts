/** `quire status`: job counts per queue and state, failed jobs with their reasons, `--retry-failed`. */
import type { QueueName } from '@quire/jobs';
import { COUNTED_STATES, type StatusReport } from '../backend/types.js';
import { type CommandContext, withBackend } from '../context.js';
import { ALL_QUEUES } from '../defaults.js';
import { renderTable } from '../format.js';

export interface StatusCommandOptions {
  json: boolean;
  /** Queues shown; all when empty. */
  queues: QueueName[];
  /** Most failed jobs listed. */
  limit: number;
  retryFailed: boolean;
}

export async function runStatus(ctx: CommandContext, options: StatusCommandOptions): Promise<number> {
  const queues = options.queues.length > 0 ? options.queues : ALL_QUEUES;
  return withBackend(ctx, async (backend) => {
    const retried = options.retryFailed ? await backend.retryFailed(queues) : null;
    const report = await backend.status({ queues, failedLimit: options.limit });
    if (options.json) {
      ctx.term.stdout.write(`${JSON.stringify({ target: backend.target, ...report, retried }, null, 2)}\n`);
      return 0;
    }
    ctx.term.stdout.write(`${formatStatus(report, backend.target, ctx.term.colors.bold)}\n`);
    if (retried !== null) {
      ctx.term.stdout.write(
        `\nRetried ${retried} failed job${retried === 1 ? '' : 's'}: they are waiting again.\n`,
      );
    }
    return 0;
  });
}

export function formatStatus(report: StatusReport, target: string, bold: (text: string) => string): string {
  const lines = [bold(`Queues on ${target}`)];
  lines.push(
    renderTable(
      ['QUEUE', 'WORKERS', ...COUNTED_STATES],
      report.queues.map((q) => [
        q.queue,
        q.workers === null ? '?' : String(q.workers),
        ...COUNTED_STATES.map((state) => String(q.counts[state])),
      ]),
      { right: [1, 2, 3, 4, 5, 6, 7, 8] },
    ),
  );
  lines.push('');
  if (!report.failedListed) {
    lines.push('Failed jobs and their reasons are listed only with direct Redis access (without --url).');
    return lines.join('\n');
  }
  if (report.failed.length === 0) {
    lines.push('No failed jobs.');
    return lines.join('\n');
  }
  lines.push(bold(`Failed jobs (${report.failed.length}, most recent first)`));
  for (const job of report.failed) {
    const when =
      job.failedAt === null ? '' : ` · ${new Date(job.failedAt).toISOString().replace(/\.\d+Z$/, 'Z')}`;
    const about = [job.tenant ? `tenant ${job.tenant}` : null, job.subject]
      .filter((x) => x !== null)
      .join(' · ');
    lines.push(
      `  ${job.queue} job ${job.id} (${job.name})${about === '' ? '' : ` · ${about}`} · ${job.attempts} attempt${job.attempts === 1 ? '' : 's'}${when}`,
    );
    lines.push(`    ${job.reason}`);
  }
  return lines.join('\n');
}
