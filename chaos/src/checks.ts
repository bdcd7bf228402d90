/**
 * The invariants each scenario must hold, shared by the vitest tests and the command: each check
 * returns the list of what went wrong, empty when the scenario passed.
 */
import { BOMB_REASONS, type BombsReport } from './scenarios/bombs.js';
import type { QuotaReport, WebhookIdleReport } from './scenarios/gateway.js';
import type { LeaseLossReport } from './scenarios/lease-loss.js';
import type { FaultPhaseReport, ProviderFaultsReport } from './scenarios/provider-faults.js';
import type { RedisRestartReport } from './scenarios/redis-restart.js';
import type { ScaleOutReport } from './scenarios/scale-out.js';
import type { WorkerKillsReport } from './scenarios/worker-kills.js';
import { describeDiff, type StoreDiff } from './store-check.js';

function storeProblems(diff: StoreDiff): string[] {
  return diff.exact && diff.lostDocuments.length === 0
    ? []
    : [`store differs from the clean run: ${describeDiff(diff)}`];
}

function jobProblems(
  report: { jobs: { failed: number; unsettled: number } },
  failures: readonly string[],
): string[] {
  const problems: string[] = [];
  if (report.jobs.failed > 0 || report.jobs.unsettled > 0) {
    problems.push(
      `${report.jobs.failed} jobs failed, ${report.jobs.unsettled} unsettled: ${failures.slice(0, 5).join(' | ')}`,
    );
  }
  return problems;
}

export function checkWorkerKills(report: WorkerKillsReport, requestedKills: number): string[] {
  const problems = [...jobProblems(report, report.failures), ...storeProblems(report.diff)];
  if (report.kills !== requestedKills) problems.push(`${report.kills} kills made of ${requestedKills}`);
  if (report.stalledEvents === 0) problems.push('no killed job was found stalled: the kills missed the jobs');
  if (report.vectors.mismatched.length > 0) {
    problems.push(`${report.vectors.mismatched.length} points do not carry their own vector`);
  }
  if (report.unexpectedExits.length > 0) {
    problems.push(
      `${report.unexpectedExits.length} workers exited on their own: ${report.unexpectedExits.join(' | ')}`,
    );
  }
  return problems;
}

export function checkRedisRestart(report: RedisRestartReport, requestedRestarts: number): string[] {
  const problems = [...jobProblems(report, report.failures), ...storeProblems(report.diff)];
  if (report.restarts !== requestedRestarts)
    problems.push(`${report.restarts} restarts made of ${requestedRestarts}`);
  if (report.fetchResumeMs.some((ms) => !Number.isFinite(ms))) {
    problems.push('after a restart no worker took a job from the queue again');
  }
  if (report.unexpectedExits.length > 0) {
    problems.push(
      `${report.unexpectedExits.length} workers exited on their own: ${report.unexpectedExits.join(' | ')}`,
    );
  }
  return problems;
}

/** What each fault must lead to; malformed and wrong-dimension answers may go either way (see the README). */
const EXPECTED: Record<
  FaultPhaseReport['kind'],
  { treatment: 'transient' | 'permanent' | 'either'; reason: RegExp }
> = {
  'rate-limit-429': { treatment: 'transient', reason: /429/ },
  'server-error-500': { treatment: 'transient', reason: /500/ },
  hang: { treatment: 'transient', reason: /timed out/ },
  'malformed-json': { treatment: 'either', reason: /not valid JSON/ },
  'wrong-dimension': { treatment: 'either', reason: /dimension/ },
  'bad-request-400': { treatment: 'permanent', reason: /400 .*context_length_exceeded/ },
  'unauthorized-401': { treatment: 'permanent', reason: /401 Incorrect API key/ },
};

export function checkFaultPhase(phase: FaultPhaseReport): string[] {
  const problems: string[] = [];
  const expected = EXPECTED[phase.kind];
  const where = `${phase.kind}:`;
  if (phase.kind !== 'unauthorized-401' && phase.faultsInjected === 0)
    problems.push(`${where} no fault was injected`);
  if (phase.jobs.unsettled > 0) problems.push(`${where} ${phase.jobs.unsettled} jobs never settled`);
  if (expected.treatment === 'transient' && phase.treatment !== 'transient') {
    problems.push(
      `${where} expected every job to complete, ${phase.jobs.failed} failed: ${phase.reasons.join(' | ')}`,
    );
  }
  if (expected.treatment === 'permanent' && phase.treatment !== 'permanent') {
    problems.push(`${where} expected failures at the first attempt, got ${phase.treatment}`);
  }
  if (phase.kind === 'rate-limit-429' && phase.jobs.retries > 0) {
    problems.push(`${where} a 429 used ${phase.jobs.retries} job attempts (it should only delay the job)`);
  }
  if (phase.kind === 'bad-request-400' && phase.jobs.failed !== 1) {
    problems.push(`${where} one 400 should fail one job, ${phase.jobs.failed} failed`);
  }
  if (phase.kind === 'unauthorized-401' && phase.jobs.completed > 0) {
    problems.push(`${where} ${phase.jobs.completed} jobs completed with a revoked key`);
  }
  const unclear = phase.reasons.filter((r) => !expected.reason.test(r));
  if (unclear.length > 0)
    problems.push(`${where} failure reasons do not name the fault: ${unclear.join(' | ')}`);
  if (phase.keyLeaked) problems.push(`${where} a failure reason holds the API key`);
  if (phase.inexactDocuments.length > 0) {
    problems.push(
      `${where} completed documents differ from the clean run: ${phase.inexactDocuments.join(', ')}`,
    );
  }
  return problems;
}

export function checkProviderFaults(report: ProviderFaultsReport): string[] {
  const problems = report.phases.flatMap(checkFaultPhase);
  if (report.keyInWorkerOutput) problems.push('a worker printed the API key');
  return problems;
}

export function checkScaleOut(report: ScaleOutReport): string[] {
  return report.runs.flatMap((run) => {
    const where = `${run.workers} worker(s), shared limit ${run.sharedLimit ? 'on' : 'off'}:`;
    const problems: string[] = [];
    if (run.jobs.failed > 0 || run.jobs.unsettled > 0)
      problems.push(`${where} ${run.jobs.failed} jobs failed`);
    if (!run.diff.exact)
      problems.push(`${where} store differs from the clean run: ${describeDiff(run.diff)}`);
    return problems;
  });
}

export function checkLeaseLoss(report: LeaseLossReport): string[] {
  const problems: string[] = [];
  if (report.newer.state !== 'completed') problems.push(`the newer job ended ${report.newer.state}`);
  if (report.holds !== 'newer') {
    problems.push(
      `the store holds ${report.holds === 'older' ? 'the older version' : report.holds} (${Object.entries(
        report.storedByVersion,
      )
        .map(([v, n]) => `${v.slice(0, 8)}: ${n} chunks`)
        .join(', ')}), not the newer version's ${report.newer.result?.chunks ?? '?'} chunks`,
    );
  }
  return problems;
}

export function checkBombs(report: BombsReport): string[] {
  const problems: string[] = [];
  if (report.goodNotIngested.length > 0) {
    problems.push(
      `${report.goodNotIngested.length} good documents not ingested: ${report.goodNotIngested.slice(0, 5).join(' | ')}`,
    );
  }
  for (const bomb of report.bombs) {
    if (bomb.state !== 'failed' || bomb.attemptsMade !== 1) {
      problems.push(
        `a ${bomb.kind} ended ${bomb.state} after ${bomb.attemptsMade} attempts (want: failed, 1)`,
      );
    } else if (!BOMB_REASONS[bomb.kind].test(bomb.failedReason ?? '')) {
      problems.push(`a ${bomb.kind} failed with the wrong reason: ${bomb.failedReason}`);
    }
  }
  const over = report.peakTreeMb.filter((mb) => mb > report.boundMb);
  if (over.length > 0) {
    problems.push(
      `worker trees peaked at ${over.map((mb) => mb.toFixed(0)).join(', ')} MiB, over ${report.boundMb} MiB`,
    );
  }
  if (report.unexpectedExits.length > 0)
    problems.push(`workers exited: ${report.unexpectedExits.join(', ')}`);
  return problems;
}

/** A webhook after an idle spell arrives within this long of its job's completion. */
export const WEBHOOK_DELAY_BOUND_MS = 5_000;

export function checkWebhookIdle(report: WebhookIdleReport): string[] {
  const problems: string[] = [];
  report.rounds.forEach((round, i) => {
    if (round.delayMs === null) problems.push(`round ${i + 1}: no webhook arrived within 30 s`);
    else if (round.delayMs > WEBHOOK_DELAY_BOUND_MS) {
      problems.push(
        `round ${i + 1}: the webhook arrived ${round.delayMs} ms after completion (bound ${WEBHOOK_DELAY_BOUND_MS})`,
      );
    }
  });
  if (report.timeoutLines.length > 0) {
    problems.push(
      `the gateway logged ${report.timeoutLines.length} timed-out waits: ${report.timeoutLines[0]}`,
    );
  }
  return problems;
}

export function checkQuota(report: QuotaReport): string[] {
  const problems: string[] = [];
  const { flood, calm } = report;
  if (flood.refused === 0)
    problems.push(`the flooding tenant was never refused (${flood.accepted} accepted)`);
  if (flood.refusedWithRetryAfter !== flood.refused) {
    problems.push(`${flood.refused - flood.refusedWithRetryAfter} refusals came without Retry-After`);
  }
  if (flood.other > 0) problems.push(`${flood.other} flood requests got neither 202 nor 429`);
  // The limit is a token bucket of one minute: a burst of the limit plus what refills during the run.
  const allowance = report.jobsPerMinute * (1 + report.durationMs / 60_000) + 1;
  if (flood.accepted > allowance) {
    problems.push(`the flooding tenant got ${flood.accepted} jobs in, more than its ${allowance.toFixed(0)}`);
  }
  if (calm.accepted !== calm.sent)
    problems.push(`the other tenant had ${calm.sent - calm.accepted} documents refused`);
  if (calm.completed !== calm.accepted) {
    problems.push(`the other tenant's documents: ${calm.completed} of ${calm.accepted} completed`);
  }
  return problems;
}
