/**
 * Scale-out on one machine as a command: `pnpm chaos:scale` runs 1, 2 and 4 ingest workers with the
 * shared provider limit, then 4 without, against one Redis, one SQLite file and a model server with
 * latency and a rate limit; prints docs/s, chunks/s, 429s and the share of the rate bound.
 *
 *   --short                  the CI sizes (no rate bound within reach)
 *   --docs-per-worker N      documents per worker process (default 100)
 *   --rpm N                  the server's limit, requests per minute (default 1000)
 *   --latency MS             model server latency per request (default 200)
 *   --workers 1,2,4          worker counts run with the shared limit
 *   --unshared 4             worker counts run again without it
 */
import { parseArgs } from 'node:util';
import { checkScaleOut } from './checks.js';
import { printScenario, progressLog, redisForRun } from './cli.js';
import { LONG_PROFILE, SHORT_PROFILE } from './profiles.js';
import { renderScaleOut } from './render.js';
import { runScaleOut, type ScaleOutConfig } from './scenarios/scale-out.js';

const { values } = parseArgs({
  options: {
    short: { type: 'boolean', default: false },
    'docs-per-worker': { type: 'string' },
    rpm: { type: 'string' },
    latency: { type: 'string' },
    workers: { type: 'string' },
    unshared: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  process.stdout.write(
    'usage: pnpm chaos:scale [--short] [--docs-per-worker N] [--rpm N] [--latency MS] [--workers 1,2,4] [--unshared 4]\n',
  );
  process.exit(0);
}

function positive(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`chaos:scale: --${name} must be a positive integer, got ${text}\n`);
    process.exit(2);
  }
  return n;
}

function counts(name: string, text: string | undefined): number[] | undefined {
  return text?.split(',').map((part) => positive(name, part.trim())!);
}

const base = values.short ? SHORT_PROFILE.scale : LONG_PROFILE.scale;
const shared = counts('workers', values.workers);
const unshared = counts('unshared', values.unshared);
const configs: ScaleOutConfig[] | undefined =
  shared || unshared
    ? [
        ...(shared ?? [1, 2, 4]).map((workers) => ({ workers, sharedLimit: true })),
        ...(unshared ?? []).map((workers) => ({ workers, sharedLimit: false })),
      ]
    : base.configs?.slice();

const options = {
  ...base,
  documentsPerWorker: positive('docs-per-worker', values['docs-per-worker']) ?? base.documentsPerWorker,
  requestsPerMinute: positive('rpm', values.rpm) ?? base.requestsPerMinute,
  latencyMs: positive('latency', values.latency) ?? base.latencyMs ?? 200,
  ...(configs ? { configs } : {}),
};

const redis = await redisForRun();
let passed = false;
try {
  const report = await runScaleOut({ ...options, redisUrl: redis.url, log: progressLog });
  passed = printScenario(
    `scale-out: ${options.documentsPerWorker} documents per worker, server limit ${options.requestsPerMinute} req/min, latency ${options.latencyMs} ms`,
    renderScaleOut(report),
    checkScaleOut(report),
  );
} finally {
  await redis.stop();
}
process.exitCode = passed ? 0 : 1;
