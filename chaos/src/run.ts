/**
 * The chaos suite as a command: `pnpm chaos` (long form, minutes) or `pnpm chaos --short` (the CI
 * sizes). Prints one table per scenario and a verdict; exits 1 when an invariant broke.
 *
 *   --short              the short form
 *   --only kills,redis,faults,bombs,webhook,quota,lease   (lease: an extra scenario, not run by default)
 *   --seed N             corpus and victim choice (default 1)
 *   --spare-stalled      never kill a worker while an already-stalled job is active
 *   --blind-kills        pick victims blindly even in the short form
 *   --worker-env K=V     extra environment of every worker (repeatable), e.g. a setting under test
 */
import { parseArgs } from 'node:util';
import {
  checkBombs,
  checkLeaseLoss,
  checkProviderFaults,
  checkQuota,
  checkRedisRestart,
  checkWebhookIdle,
  checkWorkerKills,
} from './checks.js';
import { printScenario, progressLog, redisForRun } from './cli.js';
import { LONG_PROFILE, SHORT_PROFILE } from './profiles.js';
import {
  renderBombs,
  renderLeaseLoss,
  renderProviderFaults,
  renderQuota,
  renderRedisRestart,
  renderWebhookIdle,
  renderWorkerKills,
} from './render.js';
import { runBombs } from './scenarios/bombs.js';
import { runQuota, runWebhookIdle } from './scenarios/gateway.js';
import { runLeaseLoss } from './scenarios/lease-loss.js';
import { runProviderFaults } from './scenarios/provider-faults.js';
import { runRedisRestart } from './scenarios/redis-restart.js';
import { runWorkerKills } from './scenarios/worker-kills.js';

const SCENARIOS = ['kills', 'redis', 'faults', 'bombs', 'webhook', 'quota', 'lease'] as const;
type ScenarioName = (typeof SCENARIOS)[number];
const DEFAULT_SCENARIOS: readonly ScenarioName[] = ['kills', 'redis', 'faults', 'bombs', 'webhook', 'quota'];

const { values } = parseArgs({
  options: {
    short: { type: 'boolean', default: false },
    only: { type: 'string' },
    seed: { type: 'string' },
    'spare-stalled': { type: 'boolean', default: false },
    'blind-kills': { type: 'boolean', default: false },
    'worker-env': { type: 'string', multiple: true },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  process.stdout.write(
    'usage: pnpm chaos [--short] [--only kills,redis,faults,bombs,webhook,quota,lease] [--seed N] [--spare-stalled | --blind-kills] [--worker-env K=V]…\n',
  );
  process.exit(0);
}

const only = (values.only ?? DEFAULT_SCENARIOS.join(','))
  .split(',')
  .map((s) => s.trim())
  .filter((s) => s !== '');
const unknown = only.filter((s) => !(SCENARIOS as readonly string[]).includes(s));
if (unknown.length > 0) {
  process.stderr.write(
    `chaos: unknown scenario ${unknown.join(', ')}; choose from ${SCENARIOS.join(', ')}\n`,
  );
  process.exit(2);
}
const seed = values.seed === undefined ? 1 : Number(values.seed);
if (!Number.isInteger(seed)) {
  process.stderr.write(`chaos: --seed must be an integer, got ${values.seed}\n`);
  process.exit(2);
}
const workerEnv: Record<string, string> = {};
for (const pair of values['worker-env'] ?? []) {
  const at = pair.indexOf('=');
  if (at < 1) {
    process.stderr.write(`chaos: --worker-env takes KEY=VALUE, got ${pair}\n`);
    process.exit(2);
  }
  workerEnv[pair.slice(0, at)] = pair.slice(at + 1);
}
const profile = values.short ? SHORT_PROFILE : LONG_PROFILE;
const wanted = (name: ScenarioName) => only.includes(name);

const redis = await redisForRun();
let passed = true;
try {
  process.stdout.write(`# Quire chaos suite, ${profile.name} form (seed ${seed})\n`);
  if (wanted('kills')) {
    const spare =
      values['spare-stalled'] || (profile.kills.spareStalledJobs === true && !values['blind-kills']);
    const options = { ...profile.kills, spareStalledJobs: spare, seed, workerEnv };
    const report = await runWorkerKills({ ...options, redisUrl: redis.url, log: progressLog });
    passed =
      printScenario(
        `a. kill -9 ingest workers (${options.workers} workers, victims ${spare ? 'sparing stalled jobs' : 'picked blindly'})`,
        renderWorkerKills(report),
        checkWorkerKills(report, options.kills),
      ) && passed;
  }
  if (wanted('redis')) {
    const options = { ...profile.redisRestart, seed: seed + 1, workerEnv };
    const report = await runRedisRestart({ ...options, log: progressLog });
    passed =
      printScenario(
        `b. Redis crash and restart (AOF on, ${options.workers} workers)`,
        renderRedisRestart(report, options.downMs ?? 2_000),
        checkRedisRestart(report, options.restarts ?? 1),
      ) && passed;
  }
  if (wanted('faults')) {
    const report = await runProviderFaults({
      ...profile.faults,
      seed: seed + 2,
      workerEnv,
      redisUrl: redis.url,
      log: progressLog,
    });
    passed =
      printScenario(
        `c. provider faults (${profile.faults.documentsPerPhase} documents per fault, rate ${profile.faults.faultRate})`,
        renderProviderFaults(report),
        checkProviderFaults(report),
      ) && passed;
  }
  if (wanted('bombs')) {
    const options = { ...profile.bombs, seed: seed + 3, workerEnv };
    const report = await runBombs({ ...options, redisUrl: redis.url, log: progressLog });
    passed =
      printScenario(
        `d. hostile uploads in a ${options.documents}-document run (${options.workers} workers)`,
        renderBombs(report),
        checkBombs(report),
      ) && passed;
  }
  if (wanted('webhook')) {
    const report = await runWebhookIdle({ ...profile.webhook, redisUrl: redis.url, log: progressLog });
    passed =
      printScenario(
        `e. webhooks after the gateway idles (${report.rounds.length} rounds)`,
        renderWebhookIdle(report),
        checkWebhookIdle(report),
      ) && passed;
  }
  if (wanted('quota')) {
    const report = await runQuota({ ...profile.quota, redisUrl: redis.url, log: progressLog });
    passed =
      printScenario(
        `f. one tenant floods the gateway, another submits (${report.flood.sent} vs ${report.calm.sent} documents)`,
        renderQuota(report),
        checkQuota(report),
      ) && passed;
  }
  if (wanted('lease')) {
    const report = await runLeaseLoss({ redisUrl: redis.url, log: progressLog });
    passed =
      printScenario(
        'lease lost mid-job, then a newer version enqueued',
        renderLeaseLoss(report),
        checkLeaseLoss(report),
      ) && passed;
  }
} finally {
  await redis.stop();
}
process.exitCode = passed ? 0 : 1;
