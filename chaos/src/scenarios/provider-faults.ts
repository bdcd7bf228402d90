/**
 * Scenario c: the testkit model server misbehaves the ways providers do — 429 with Retry-After, 500s,
 * requests that hang, bodies cut mid-JSON, vectors of the wrong length, a 400, a rotated key (401) —
 * one fault per phase, against the same running workers. Transient faults must be ridden out (jobs
 * complete, store exact); permanent ones must fail the job at once with a reason that names the
 * provider's error and never the key. What Quire does with each fault is measured, not assumed.
 */
import type { ModelServerKnobs, ModelServerStats } from '@quire/testkit';
import { type CorpusDocument, makeCorpus } from '../corpus.js';
import {
  enqueueDocuments,
  type JobOutcome,
  type OutcomeSummary,
  summariseOutcomes,
  waitForJobs,
} from '../jobs.js';
import { API_KEY, cleanRun, Sandbox, TENANT } from '../sandbox.js';
import { compareChunks, readChunks } from '../store-check.js';

export type FaultKind =
  | 'rate-limit-429'
  | 'server-error-500'
  | 'hang'
  | 'malformed-json'
  | 'wrong-dimension'
  | 'bad-request-400'
  | 'unauthorized-401';

export const FAULT_KINDS: readonly FaultKind[] = [
  'rate-limit-429',
  'server-error-500',
  'hang',
  'malformed-json',
  'wrong-dimension',
  'bad-request-400',
  'unauthorized-401',
];

/** How a phase's fault is injected: knobs set for the phase, undone after it. */
function injection(kind: FaultKind, rate: number, jobs: number): Partial<ModelServerKnobs> {
  switch (kind) {
    case 'rate-limit-429':
      // Scripted, so the phase does not wait out a real one-minute window; both header forms.
      return {
        failNext: Array.from({ length: Math.max(2, Math.round(jobs / 2)) }, (_, i) => ({
          status: 429,
          headers: { [i % 2 === 0 ? 'retry-after' : 'retry-after-ms']: i % 2 === 0 ? '1' : '400' },
          body: {
            error: {
              message: 'Rate limit reached for requests',
              type: 'requests',
              code: 'rate_limit_exceeded',
            },
          },
        })),
      };
    case 'server-error-500':
      return { faults: { errorRate: rate } };
    case 'hang':
      return { faults: { hangRate: rate } };
    case 'malformed-json':
      return { faults: { malformedRate: rate } };
    case 'wrong-dimension':
      return { faults: { wrongDimensionRate: rate } };
    case 'bad-request-400':
      return {
        failNext: [
          {
            status: 400,
            body: {
              error: {
                message: "This model's maximum context length is 8192 tokens",
                type: 'invalid_request_error',
                code: 'context_length_exceeded',
              },
            },
          },
        ],
      };
    case 'unauthorized-401':
      return { apiKey: 'sk-chaos-rotated-key' };
  }
}

/** Undoes {@link injection}. */
const RESET: Partial<ModelServerKnobs> = {
  apiKey: API_KEY,
  failNext: [],
  faults: {
    errorRate: undefined,
    hangRate: undefined,
    malformedRate: undefined,
    wrongDimensionRate: undefined,
  },
};

export interface ProviderFaultsOptions {
  redisUrl: string;
  /** Documents per phase. */
  documentsPerPhase: number;
  /** Share of model requests that get the fault, for the rate-driven kinds. Default 0.2. */
  faultRate?: number;
  /** Phases to run, in order. Default {@link FAULT_KINDS}. */
  kinds?: readonly FaultKind[];
  /** Worker processes. Default 2. */
  workers?: number;
  /** Per-attempt model API timeout of the workers, in ms (ends hung requests). Default 2,000. */
  modelTimeoutMs?: number;
  /** Extra environment of every worker, e.g. a setting under test. Default none. */
  workerEnv?: Record<string, string>;
  /** First backoff step of job retries, in ms. Default 300 (the SDK's default is 2,000). */
  backoffMs?: number;
  seed?: number;
  /** Per phase, in ms. Default 180,000. */
  timeoutMs?: number;
  log?: (line: string) => void;
}

/** What Quire did with a fault, judged from the jobs. */
export type Treatment =
  /** Every job completed: the fault was retried away. */
  | 'transient'
  /** The jobs that met the fault failed on their first attempt. */
  | 'permanent'
  /** Some jobs failed after retries, or failed jobs differ. */
  | 'mixed'
  /** The fault never reached a job. */
  | 'not-met';

export interface FaultPhaseReport {
  kind: FaultKind;
  treatment: Treatment;
  jobs: OutcomeSummary;
  /** Attempts over all jobs (1 per job when nothing was retried). */
  attempts: number;
  /** Faults the server injected (scripted answers included). */
  faultsInjected: number;
  /** Responses by HTTP status. */
  byStatus: Record<string, number>;
  /** Retries made inside the API client (worker log `model API request failed, retrying`). */
  clientRetries: number;
  /** The distinct reasons of the failed jobs, as the queue records them. */
  reasons: string[];
  /** A failure reason holds the worker's API key (it never should). */
  keyLeaked: boolean;
  /** Completed documents whose points differ from the clean run's. */
  inexactDocuments: string[];
  /** Chunks left in the store by documents whose job failed (a partial, searchable version). */
  chunksOfFailedDocuments: number;
  durationMs: number;
}

export interface ProviderFaultsReport {
  phases: FaultPhaseReport[];
  /** Some worker output line holds the API key (it never should, errors and retries included). */
  keyInWorkerOutput: boolean;
  cleanRunMs: number;
}

function faultCount(stats: ModelServerStats): number {
  const f = stats.faults;
  return f.errors + f.hangs + f.malformed + f.wrongDimension + f.scripted;
}

function classify(outcomes: readonly JobOutcome[], faults: number): Treatment {
  const failed = outcomes.filter((o) => o.state === 'failed');
  if (failed.length === 0) return faults > 0 ? 'transient' : 'not-met';
  return failed.every((o) => o.attemptsMade === 1) ? 'permanent' : 'mixed';
}

export async function runProviderFaults(options: ProviderFaultsOptions): Promise<ProviderFaultsReport> {
  const log = options.log ?? (() => {});
  const kinds = options.kinds ?? FAULT_KINDS;
  const perPhase = options.documentsPerPhase;
  const corpora = new Map<FaultKind, CorpusDocument[]>(
    kinds.map((kind, i) => [
      kind,
      makeCorpus({ documents: perPhase, seed: (options.seed ?? 3) + i, idPrefix: kind, paragraphs: [2, 5] }),
    ]),
  );
  const reference = await cleanRun({ redisUrl: options.redisUrl, documents: [...corpora.values()].flat() });
  log(`clean run: ${reference.chunks.length} chunks in ${(reference.durationMs / 1000).toFixed(1)} s`);

  const sandbox = await Sandbox.open({
    label: 'faults',
    redisUrl: options.redisUrl,
    server: { latencyMs: 20 },
    jobOptions: { backoffMs: options.backoffMs ?? 300 },
  });
  try {
    const pool = sandbox.pool(
      {},
      { modelTimeoutMs: options.modelTimeoutMs ?? 2_000, extraEnv: options.workerEnv ?? {} },
    );
    await pool.start(options.workers ?? 2);
    const phases: FaultPhaseReport[] = [];
    for (const kind of kinds) {
      const docs = corpora.get(kind)!;
      const retriesBefore = pool.messageCounts().get('model API request failed, retrying') ?? 0;
      sandbox.server.resetStats();
      sandbox.server.setOptions({
        seed: (options.seed ?? 3) * 1_000 + phases.length,
        ...injection(kind, options.faultRate ?? 0.2, perPhase),
      });
      const started = performance.now();
      const jobs = await enqueueDocuments(sandbox.producer, TENANT, docs);
      const outcomes = await waitForJobs(sandbox.producer, () => jobs, {
        timeoutMs: options.timeoutMs ?? 180_000,
      });
      const durationMs = performance.now() - started;
      const stats = sandbox.server.stats;
      sandbox.server.setOptions(RESET);

      const chunks = (await readChunks(sandbox.store, TENANT)).filter((c) =>
        c.documentId.startsWith(`${kind}-`),
      );
      const completedDocs = new Set(outcomes.filter((o) => o.state === 'completed').map((o) => o.documentId));
      const inexactDocuments = [...completedDocs].filter((doc) => {
        const want = reference.chunks.filter((c) => c.documentId === doc);
        const got = chunks.filter((c) => c.documentId === doc);
        return !compareChunks(want, got).exact;
      });
      const failedOutcomes = outcomes.filter((o) => o.state === 'failed');
      const reasons = [...new Set(failedOutcomes.map((o) => o.failedReason ?? '(no reason)'))];
      const faultsInjected = faultCount(stats);
      const phase: FaultPhaseReport = {
        kind,
        treatment: classify(outcomes, faultsInjected),
        jobs: summariseOutcomes(outcomes),
        attempts: outcomes.reduce((sum, o) => sum + o.attemptsMade, 0),
        faultsInjected,
        byStatus: stats.byStatus,
        clientRetries: (pool.messageCounts().get('model API request failed, retrying') ?? 0) - retriesBefore,
        reasons,
        keyLeaked: reasons.some((r) => r.includes(API_KEY)),
        inexactDocuments,
        chunksOfFailedDocuments: chunks.filter((c) => !completedDocs.has(c.documentId)).length,
        durationMs,
      };
      log(
        `${kind}: ${phase.treatment}; ${phase.jobs.completed}/${phase.jobs.jobs} completed, ${phase.attempts} attempts, ` +
          `${faultsInjected} faults, statuses ${JSON.stringify(stats.byStatus)}${reasons.length > 0 ? `; reason: ${reasons[0]}` : ''}`,
      );
      phases.push(phase);
    }
    const keyInWorkerOutput = pool.all.some((w) =>
      w.process.lines.some((line) => line.text.includes(API_KEY)),
    );
    return { phases, keyInWorkerOutput, cleanRunMs: reference.durationMs };
  } finally {
    await sandbox.close();
  }
}
