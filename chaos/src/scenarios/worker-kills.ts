/**
 * Scenario a: SIGKILL random ingest workers mid-run and start replacements, while several workers
 * share one Redis and one SQLite file; re-enqueue changed versions of some documents half-way. The
 * store must end exactly as a clean run of the final documents left it: no lost document, no
 * duplicate, stale or missing chunk, every job completed.
 */
import { type IngestProgress, QUEUES } from '@quire/jobs';
import { type CorpusDocument, makeCorpus, reviseDocument } from '../corpus.js';
import {
  enqueueDocuments,
  type JobOutcome,
  type OutcomeSummary,
  summariseOutcomes,
  type TrackedJob,
  waitForJobs,
} from '../jobs.js';
import { seededRandom, shuffle } from '../prng.js';
import { cleanRun, Sandbox, type ScenarioRunOptions, TENANT } from '../sandbox.js';
import { checkVectors, compareChunks, readChunks, type StoreDiff, type VectorCheck } from '../store-check.js';
import { pollUntil } from '../wait.js';
import { describeExit } from '../worker-pool.js';

/** Worker processes running at once (`workers`) default to 3. */
export interface WorkerKillsOptions extends ScenarioRunOptions {
  redisUrl: string;
  /** Documents enqueued at the start. */
  documents: number;
  /** SIGKILLs spread evenly over the run, each followed by a replacement worker. */
  kills: number;
  /** Documents re-enqueued with changed content half-way through. Default a tenth of `documents`. */
  revisions?: number;
  /**
   * Kill only while every active job is on its first life (none stalled before). BullMQ fails a job
   * found stalled more than `maxStalledCount` times for good, so a second kill of the same job loses
   * the document when that limit is low; sparing such jobs keeps a short run deterministic (see the
   * README). Default false: victims are picked blindly.
   */
  spareStalledJobs?: boolean;
}

export interface WorkerKillsReport {
  documents: number;
  revisions: number;
  jobs: OutcomeSummary;
  kills: number;
  /** Kills made while at least one job was embedding. */
  killsMidJob: number;
  workersStarted: number;
  /** Workers that exited without being killed: how each ended and its last output. */
  unexpectedExits: string[];
  /** Log lines `job stalled; it will run again` (a killed worker's job found and put back). */
  stalledEvents: number;
  /** Log lines `resuming an interrupted ingestion` (a put-back job that kept what was stored). */
  resumed: number;
  failures: string[];
  diff: StoreDiff;
  vectors: VectorCheck;
  chunks: number;
  durationMs: number;
  cleanRunMs: number;
}

export async function runWorkerKills(options: WorkerKillsOptions): Promise<WorkerKillsReport> {
  const log = options.log ?? (() => {});
  const seed = options.seed ?? 1;
  const random = seededRandom(seed * 31 + 7);
  const corpus = makeCorpus({ documents: options.documents, seed });
  const revisionCount = Math.min(options.revisions ?? Math.floor(options.documents / 10), options.documents);
  const revised = new Map<string, CorpusDocument>();
  for (const doc of shuffle(random, corpus).slice(0, revisionCount)) {
    revised.set(doc.documentId, reviseDocument(doc, 1, seed));
  }
  const finalCorpus = corpus.map((doc) => revised.get(doc.documentId) ?? doc);

  log(`clean run of ${finalCorpus.length} documents`);
  const reference = await cleanRun({ redisUrl: options.redisUrl, documents: finalCorpus });
  log(`clean run: ${reference.chunks.length} chunks in ${(reference.durationMs / 1000).toFixed(1)} s`);

  const sandbox = await Sandbox.open({
    label: 'kills',
    redisUrl: options.redisUrl,
    server: { latencyMs: options.latencyMs ?? 60, latencyPerInputMs: options.latencyPerInputMs ?? 10 },
  });
  try {
    const pool = sandbox.pool({}, { extraEnv: options.workerEnv ?? {} });
    const workerCount = options.workers ?? 3;
    await pool.start(workerCount);
    const started = performance.now();
    const jobs: TrackedJob[] = await enqueueDocuments(sandbox.producer, TENANT, corpus);
    const queue = sandbox.producer.queue(QUEUES.ingest);
    let settled = 0;
    let finished = false;
    let revisionsEnqueued = false;
    let kills = 0;
    let killsMidJob = 0;

    const killableNow = async () => {
      const active = await queue.getActive();
      if (options.spareStalledJobs && active.some((job) => (job.stalledCounter ?? 0) > 0)) return false;
      return active.some((job) => (job.progress as IngestProgress | null)?.stage === 'embedding');
    };

    const replacements: Promise<unknown>[] = [];
    const killer = (async () => {
      for (let k = 1; k <= options.kills; k++) {
        const threshold = Math.floor((k * corpus.length) / (options.kills + 1));
        await pollUntil(() => finished || settled >= threshold, { timeoutMs: options.timeoutMs ?? 600_000 });
        if (finished) return;
        // Aim for a moment when chunks are being embedded and stored: the worst time to die.
        const midJob = await pollUntil(async () => finished || (await killableNow()), {
          timeoutMs: 30_000,
          intervalMs: 20,
        });
        if (finished) return;
        if (!midJob && options.spareStalledJobs) continue;
        const victim = await pool.killRandom(random);
        kills += 1;
        if (midJob) killsMidJob += 1;
        log(
          `kill ${kills}/${options.kills}: worker ${victim.serial} (pid ${victim.process.pid}) at ${settled} settled`,
        );
        // The replacement starts while the next kill is awaited: a slow start must not make kills miss the run.
        replacements.push(pool.spawn());
      }
    })();

    const outcomes: JobOutcome[] = await waitForJobs(sandbox.producer, () => jobs, {
      timeoutMs: options.timeoutMs ?? 600_000,
      onProgress: async (n, total) => {
        settled = n;
        if (!revisionsEnqueued && n >= corpus.length / 2) {
          revisionsEnqueued = true;
          jobs.push(...(await enqueueDocuments(sandbox.producer, TENANT, [...revised.values()], 1)));
          log(`enqueued ${revised.size} revisions at ${n}/${total} settled`);
        }
      },
    }).finally(() => {
      finished = true;
    });
    await killer;
    await Promise.all(replacements);
    const durationMs = performance.now() - started;
    await pool.stop();

    const chunks = await readChunks(sandbox.store, TENANT);
    const diff = compareChunks(reference.chunks, chunks);
    // One chunk per document: each must carry its own vector.
    const sample = [...new Map(chunks.map((c) => [c.documentId, c])).values()];
    const vectors = await checkVectors(sandbox.store, TENANT, sample);
    const counts = pool.messageCounts();
    return {
      documents: corpus.length,
      revisions: revised.size,
      jobs: summariseOutcomes(outcomes),
      kills,
      killsMidJob,
      workersStarted: pool.all.length,
      unexpectedExits: pool.unexpectedExits.map(describeExit),
      stalledEvents: counts.get('job stalled; it will run again') ?? 0,
      resumed: counts.get('resuming an interrupted ingestion') ?? 0,
      failures: outcomes
        .filter((o) => o.state !== 'completed')
        .map((o) => `${o.documentId}#${o.revision} ${o.state}: ${o.failedReason ?? ''}`),
      diff,
      vectors,
      chunks: chunks.length,
      durationMs,
      cleanRunMs: reference.durationMs,
    };
  } finally {
    await sandbox.close();
  }
}
