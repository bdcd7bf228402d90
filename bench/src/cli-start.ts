/**
 * Start-up time of the `quire` command: `quire --help` (loads the command line only) and
 * `quire status` (connects to Redis and counts the queues) against a bare `node -e 0`, measured in
 * the same run, interleaved round by round so that a busy machine weighs on all three alike.
 * Targets: `--help` at most +150 ms over node, `status` at most +400 ms (medians of wall time).
 * On Linux it also prints each command's CPU time (user + system), which a machine shared with
 * other work inflates far less than the wall time.
 *
 * pnpm --filter @quire/bench cli-start [--rounds 15]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cleanupPrefix, getTestRedis, uniquePrefix } from '@quire/testkit';
import { z } from 'zod';
import { parseFlags, positiveInt } from './lib/args.js';
import { summarize } from './lib/stats.js';

const USAGE = 'usage: pnpm --filter @quire/bench cli-start [--rounds 15]';
const flags = parseFlags(z.object({ rounds: positiveInt.default(15) }), USAGE);

const CLI = fileURLToPath(new URL('../../apps/cli/dist/main.js', import.meta.url));
if (!existsSync(CLI)) {
  process.stderr.write(`${CLI} is missing: run \`pnpm build\` first\n`);
  process.exit(1);
}

const redis = await getTestRedis();
const prefix = uniquePrefix('clistart');
const env = { ...process.env, REDIS_URL: redis.url, QUIRE_QUEUE_PREFIX: prefix, NO_COLOR: '1' };

const runs = {
  'node -e 0': [process.execPath, '-e', '0'],
  'quire --help': [process.execPath, CLI, '--help'],
  'quire status': [process.execPath, CLI, 'status'],
} as const;
type Name = keyof typeof runs;
const samples: Record<Name, number[]> = { 'node -e 0': [], 'quire --help': [], 'quire status': [] };
const cpuSamples: Record<Name, number[]> = { 'node -e 0': [], 'quire --help': [], 'quire status': [] };

const clockTicks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

/**
 * CPU time (user + system, ms) of the children this process has waited for: cutime and cstime of
 * /proc/self/stat (fields 16 and 17, counted after the parenthesised command name). Null off Linux.
 */
function childrenCpuMs(): number | null {
  if (!existsSync('/proc/self/stat')) return null;
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / clockTicks;
}

function time(name: Name): void {
  const [command, ...args] = runs[name];
  const cpuBefore = childrenCpuMs();
  const started = performance.now();
  const result = spawnSync(command, args, { env, encoding: 'utf8' });
  const ms = performance.now() - started;
  const cpuAfter = childrenCpuMs();
  if (result.status !== 0) {
    throw new Error(`${name} exited with ${result.status}: ${result.stderr.trim().slice(0, 500)}`);
  }
  samples[name].push(ms);
  if (cpuBefore !== null && cpuAfter !== null) cpuSamples[name].push(cpuAfter - cpuBefore);
}

try {
  // One unmeasured round: the file system cache, not the code, decides the first start.
  for (const name of Object.keys(runs) as Name[]) time(name);
  for (const name of Object.keys(runs) as Name[]) {
    samples[name].length = 0;
    cpuSamples[name].length = 0;
  }
  for (let round = 0; round < flags.rounds; round++) {
    for (const name of Object.keys(runs) as Name[]) time(name);
  }
} finally {
  await cleanupPrefix(redis.url, prefix);
  await redis.stop();
}

const base = summarize(samples['node -e 0']).p50;
const cpuBase = cpuSamples['node -e 0'].length > 0 ? summarize(cpuSamples['node -e 0']).p50 : null;
const targets: Partial<Record<Name, number>> = { 'quire --help': 150, 'quire status': 400 };
process.stdout.write(`quire start-up, ${flags.rounds} rounds (ms)\n\n`);
process.stdout.write(
  'command         p50      p95      over node (p50)   target               cpu p50   cpu over node\n',
);
for (const name of Object.keys(runs) as Name[]) {
  const s = summarize(samples[name]);
  const over = s.p50 - base;
  const target = targets[name];
  const verdict = target === undefined ? '' : `≤ +${target}: ${over <= target ? 'met' : 'NOT met'}`;
  const cpu = cpuBase === null ? null : summarize(cpuSamples[name]).p50;
  const cpuText =
    cpu === null || cpuBase === null
      ? ''
      : `${cpu.toFixed(0).padStart(7)}   ${(name === 'node -e 0' ? '' : `+${(cpu - cpuBase).toFixed(0)}`).padStart(13)}`;
  process.stdout.write(
    `${name.padEnd(14)} ${s.p50.toFixed(0).padStart(6)}   ${s.p95.toFixed(0).padStart(6)}   ${(name === 'node -e 0' ? '' : `+${over.toFixed(0)}`).padStart(12)}      ${verdict.padEnd(19)}  ${cpuText}\n`,
  );
}
