/** The command's tables, one per scenario. */
import type { BombsReport } from './scenarios/bombs.js';
import type { QuotaReport, WebhookIdleReport } from './scenarios/gateway.js';
import type { LeaseLossReport } from './scenarios/lease-loss.js';
import type { ProviderFaultsReport } from './scenarios/provider-faults.js';
import type { RedisRestartReport } from './scenarios/redis-restart.js';
import type { ScaleOutReport } from './scenarios/scale-out.js';
import type { WorkerKillsReport } from './scenarios/worker-kills.js';
import { type Cell, formatTable, seconds } from './table.js';

function figures(rows: readonly (readonly [string, Cell])[]): string {
  return formatTable(['figure', 'value'], rows);
}

export function renderWorkerKills(r: WorkerKillsReport): string {
  return figures([
    ['documents (+ revisions enqueued mid-run)', `${r.documents} (+${r.revisions})`],
    ['jobs completed / failed', `${r.jobs.completed} / ${r.jobs.failed}`],
    ['kill -9 (while a job was embedding)', `${r.kills} (${r.killsMidJob})`],
    ['worker processes started', r.workersStarted],
    ['jobs found stalled and run again', r.stalledEvents],
    ['ingestions resumed from stored chunks', r.resumed],
    ['chunks embedded / stored (re-done work)', `${r.jobs.chunksEmbedded} / ${r.chunks}`],
    ['points matching the clean run', `${r.diff.matched} / ${r.diff.expectedChunks}`],
    [
      'missing / extra / stale / duplicate points',
      `${r.diff.missing.length} / ${r.diff.extra.length} / ${r.diff.stale.length} / ${r.diff.duplicates}`,
    ],
    ['lost / incomplete documents', `${r.diff.lostDocuments.length} / ${r.diff.incompleteDocuments.length}`],
    ['vectors spot-checked / wrong', `${r.vectors.checked} / ${r.vectors.mismatched.length}`],
    ['run time, s (clean run)', `${seconds(r.durationMs)} (${seconds(r.cleanRunMs)})`],
    ['documents per second', r.documents / (r.durationMs / 1000)],
  ]);
}

export function renderRedisRestart(r: RedisRestartReport, downMs: number): string {
  const errors = Object.entries(r.workerErrors)
    .map(([msg, n]) => `${n}× ${msg}`)
    .join('; ');
  return figures([
    ['documents', r.documents],
    ['Redis crashes (down each time, s)', `${r.restarts} (${seconds(downMs)})`],
    ['jobs active at each crash', r.activeAtCrash.join(', ')],
    ['restart → first job taken, s', r.fetchResumeMs.map((ms) => seconds(ms)).join(', ')],
    ['restart → first job settled, s', r.resumeMs.map((ms) => seconds(ms)).join(', ')],
    ['jobs completed / failed', `${r.jobs.completed} / ${r.jobs.failed}`],
    ['jobs stalled (lock expired while Redis was down)', r.jobs.stalled],
    ['worker processes started / exited on their own', `${r.workersStarted} / ${r.unexpectedExits.length}`],
    ['points matching the clean run', `${r.diff.matched} / ${r.diff.expectedChunks}`],
    ['extra points', r.diff.extra.length],
    ['worker log lines', errors || 'none'],
    ['run time, s', seconds(r.durationMs)],
  ]);
}

export function renderProviderFaults(r: ProviderFaultsReport): string {
  return formatTable(
    [
      'fault',
      'treated as',
      'completed',
      'failed',
      'attempts',
      'faults',
      'statuses',
      'client retries',
      'chunks left by failed jobs',
      'failure reason (first)',
    ],
    r.phases.map((p) => [
      p.kind,
      p.treatment,
      `${p.jobs.completed}/${p.jobs.jobs}`,
      p.jobs.failed,
      p.attempts,
      p.faultsInjected,
      Object.entries(p.byStatus)
        .map(([status, n]) => `${status}:${n}`)
        .join(' '),
      p.clientRetries,
      p.chunksOfFailedDocuments,
      (p.reasons[0] ?? '').replace(/ \[request id [^\]]+\]/, '').slice(0, 90),
    ]),
  );
}

/** 429s per 5-second slot of a run, e.g. `60–65 s: 150`. */
export function rateLimitTimeline(at: readonly number[]): string {
  const slots = new Map<number, number>();
  for (const s of at) slots.set(Math.floor(s / 5) * 5, (slots.get(Math.floor(s / 5) * 5) ?? 0) + 1);
  return [...slots]
    .sort(([a], [b]) => a - b)
    .map(([slot, n]) => `${slot}–${slot + 5} s: ${n}`)
    .join(', ');
}

export function renderScaleOut(r: ScaleOutReport): string {
  const timelines = r.runs
    .filter((run) => run.rateLimitedAtSeconds.length > 0)
    .map(
      (run) =>
        `429s of ${run.workers} worker(s), shared limit ${run.sharedLimit ? 'on' : 'off'}, by time since the start: ${rateLimitTimeline(run.rateLimitedAtSeconds)}`,
    );
  return [table(r), ...timelines].join('\n');
}

function table(r: ScaleOutReport): string {
  return formatTable(
    [
      'workers',
      'shared limit',
      'docs',
      'chunks',
      'time s',
      'docs/s',
      'chunks/s',
      'req/min',
      'share of bound',
      '429s',
      'failed jobs',
      'embedded/stored',
      'store',
    ],
    r.runs.map((run) => [
      run.workers,
      run.sharedLimit ? 'on' : 'off',
      run.documents,
      run.chunks,
      seconds(run.durationMs),
      run.docsPerSecond,
      run.chunksPerSecond,
      Math.round(run.requestsPerMinute),
      `${Math.round(run.shareOfBound * 100)}%`,
      run.rateLimited,
      run.jobs.failed,
      run.embedRatio,
      run.diff.exact ? 'exact' : 'DIFFERS',
    ]),
  );
}

export function renderLeaseLoss(r: LeaseLossReport): string {
  const job = (o: LeaseLossReport['older']) =>
    `${o.state}, ${o.result?.outcome ?? '–'}, version ${(o.result?.version ?? '–').slice(0, 8)}, ${o.result?.chunks ?? '–'} chunks`;
  const lag = (r.older.finishedOn ?? 0) - (r.newer.finishedOn ?? 0);
  return figures([
    ['older job (seq 1)', job(r.older)],
    ['newer job (seq 2)', job(r.newer)],
    ['older job finished after the newer, s', seconds(lag)],
    [
      'stored at the end',
      Object.entries(r.storedByVersion)
        .map(([v, n]) => `${v.slice(0, 8)}: ${n} chunks`)
        .join(', ') || 'nothing',
    ],
    ['the store holds', r.holds],
  ]);
}

export function renderBombs(r: BombsReport): string {
  const byKind = new Map<string, { failed: number; total: number; reason: string }>();
  for (const bomb of r.bombs) {
    const entry = byKind.get(bomb.kind) ?? { failed: 0, total: 0, reason: '' };
    entry.total++;
    if (bomb.state === 'failed' && bomb.attemptsMade === 1) entry.failed++;
    entry.reason ||= bomb.failedReason ?? '';
    byKind.set(bomb.kind, entry);
  }
  return figures([
    ['good documents ingested', `${r.documents - r.goodNotIngested.length} / ${r.documents}`],
    ...[...byKind].map(([kind, e]): [string, Cell] => [
      `${kind}: failed at once`,
      `${e.failed} / ${e.total}: ${e.reason}`,
    ]),
    ['jobs retried / stalled', `${r.jobs.retries} / ${r.jobs.stalled}`],
    ['parse sandbox', `${r.poolSize} children × ${r.capMb} MiB cap`],
    [
      'peak RSS per worker tree, MiB (bound)',
      `${r.peakTreeMb.map((mb) => mb.toFixed(0)).join(', ')} (${r.boundMb})`,
    ],
    ['workers exited on their own', r.unexpectedExits.length],
    ['run time, s', seconds(r.durationMs)],
  ]);
}

export function renderWebhookIdle(r: WebhookIdleReport): string {
  return figures([
    ["gateway's request-path Redis timeout, ms", r.commandTimeoutMs],
    ...r.rounds.map((round, i): [string, Cell] => [
      `round ${i + 1}: idle ${round.idleMs} ms, then completion → webhook, ms`,
      round.delayMs ?? 'none in 30 s',
    ]),
    ['timed-out waits logged by the gateway', r.timeoutLines.length],
    ['run time, s', seconds(r.durationMs)],
  ]);
}

export function renderQuota(r: QuotaReport): string {
  return figures([
    ['limit per tenant, jobs per minute', r.jobsPerMinute],
    ['flooding tenant: sent / accepted', `${r.flood.sent} / ${r.flood.accepted}`],
    ['flooding tenant: 429 (with Retry-After)', `${r.flood.refused} (${r.flood.refusedWithRetryAfter})`],
    [
      'other tenant: sent / accepted / completed',
      `${r.calm.sent} / ${r.calm.accepted} / ${r.calm.completed}`,
    ],
    ['other tenant: slowest submission → completion, ms', r.calm.slowestMs],
    ['run time, s', seconds(r.durationMs)],
  ]);
}
