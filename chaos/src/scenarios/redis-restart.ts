/**
 * Scenario b: a private Redis with the append-only file on is killed (SIGKILL: a crash, no shutdown
 * work) and started again on the same port and directory, mid-run, while workers hold active jobs.
 * Every job must complete, the workers must reconnect and go on serving, and the store must end as
 * a clean run left it.
 */
import { startPrivateRedis } from '@quire/testkit';
import { makeCorpus } from '../corpus.js';
import {
  enqueueDocuments,
  type JobOutcome,
  type OutcomeSummary,
  summariseOutcomes,
  type TrackedJob,
  waitForJobs,
} from '../jobs.js';
import { cleanRun, Sandbox, type ScenarioRunOptions, TENANT } from '../sandbox.js';
import { compareChunks, readChunks, type StoreDiff } from '../store-check.js';
import { pollUntil, sleep } from '../wait.js';
import { describeExit } from '../worker-pool.js';

/** `workers` defaults to 2. */
export interface RedisRestartOptions extends ScenarioRunOptions {
  /** Documents enqueued at the start. */
  documents: number;
  /** Redis crashes spread evenly over the run. Default 1. */
  restarts?: number;
  /** How long Redis stays down each time, in ms. Default 2,000. */
  downMs?: number;
}

export interface RedisRestartReport {
  documents: number;
  restarts: number;
  /** Active jobs at each crash. */
  activeAtCrash: number[];
  /** From each restart to the next job settled, in ms. */
  resumeMs: number[];
  /** From each restart to the first job a worker took from the queue after it, in ms: the workers serve again. */
  fetchResumeMs: number[];
  jobs: OutcomeSummary;
  workersStarted: number;
  /** Workers that exited on their own (a worker that gives up on Redis would): how and their last output. */
  unexpectedExits: string[];
  /** Worker log lines per message about Redis or the worker loop (`redis connection error`, `worker error`, …). */
  workerErrors: Record<string, number>;
  failures: string[];
  diff: StoreDiff;
  durationMs: number;
}

export async function runRedisRestart(options: RedisRestartOptions): Promise<RedisRestartReport> {
  const log = options.log ?? (() => {});
  const restarts = options.restarts ?? 1;
  const downMs = options.downMs ?? 2_000;
  const corpus = makeCorpus({ documents: options.documents, seed: options.seed ?? 2 });
  const redis = await startPrivateRedis({ appendonly: true });
  try {
    const reference = await cleanRun({ redisUrl: redis.url, documents: corpus });
    log(`clean run: ${reference.chunks.length} chunks in ${(reference.durationMs / 1000).toFixed(1)} s`);
    const sandbox = await Sandbox.open({
      label: 'redis-restart',
      redisUrl: redis.url,
      server: { latencyMs: options.latencyMs ?? 60, latencyPerInputMs: options.latencyPerInputMs ?? 10 },
    });
    try {
      const pool = sandbox.pool({}, { extraEnv: options.workerEnv ?? {} });
      await pool.start(options.workers ?? 2);
      const started = performance.now();
      const jobs: TrackedJob[] = await enqueueDocuments(sandbox.producer, TENANT, corpus);
      let settled = 0;
      let finished = false;
      const activeAtCrash: number[] = [];
      const resumeMs: number[] = [];
      const restartedAtWall: number[] = [];

      const crasher = (async () => {
        for (let k = 1; k <= restarts; k++) {
          const threshold = Math.floor((k * corpus.length) / (restarts + 1));
          await pollUntil(() => finished || settled >= threshold, {
            timeoutMs: options.timeoutMs ?? 600_000,
          });
          if (finished) return;
          activeAtCrash.push(await sandbox.producer.queue('ingest').getActiveCount());
          await redis.kill();
          log(`redis killed at ${settled}/${jobs.length} settled; down for ${downMs} ms`);
          await sleep(downMs);
          await redis.restart();
          const restartedAt = performance.now();
          restartedAtWall.push(Date.now());
          const before = settled;
          log('redis restarted');
          // `settled` only moves once our own polling has reconnected too; a completion proves the workers did.
          await pollUntil(() => finished || settled > before, { timeoutMs: options.timeoutMs ?? 600_000 });
          resumeMs.push(performance.now() - restartedAt);
          log(
            `first job settled ${((performance.now() - restartedAt) / 1000).toFixed(1)} s after the restart`,
          );
        }
      })();

      const outcomes: JobOutcome[] = await waitForJobs(sandbox.producer, () => jobs, {
        timeoutMs: options.timeoutMs ?? 600_000,
        onProgress: (n) => {
          settled = n;
        },
      }).finally(() => {
        finished = true;
      });
      await crasher;
      const durationMs = performance.now() - started;
      const counts = pool.messageCounts();
      const workersAlive = pool.live.length;
      await pool.stop();
      const chunks = await readChunks(sandbox.store, TENANT);
      const workerErrors: Record<string, number> = {};
      for (const [msg, n] of counts) {
        if (/redis|worker error|stalled|lock|could not/i.test(msg)) workerErrors[msg] = n;
      }
      log(`${workersAlive} workers alive at the end`);
      return {
        documents: corpus.length,
        restarts: activeAtCrash.length,
        activeAtCrash,
        resumeMs,
        fetchResumeMs: restartedAtWall.map((at) => {
          const next = outcomes
            .map((o) => o.processedOn ?? 0)
            .filter((t) => t >= at)
            .sort((a, b) => a - b)[0];
          return next === undefined ? Number.NaN : next - at;
        }),
        jobs: summariseOutcomes(outcomes),
        workersStarted: pool.all.length,
        unexpectedExits: pool.unexpectedExits.map(describeExit),
        workerErrors,
        failures: outcomes
          .filter((o) => o.state !== 'completed')
          .map((o) => `${o.documentId} ${o.state}: ${o.failedReason ?? ''}`),
        diff: compareChunks(reference.chunks, chunks),
        durationMs,
      };
    } finally {
      await sandbox.close();
    }
  } finally {
    await redis.stop();
  }
}
