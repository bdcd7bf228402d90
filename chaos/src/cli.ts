/** What the two commands share: Redis for the run, a timestamped progress log, the verdict. */
import { getTestRedis, redactUrl, type TestRedis } from '@quire/testkit';

export function progressLog(line: string): void {
  process.stderr.write(`${new Date().toISOString().slice(11, 23)} ${line}\n`);
}

/** `REDIS_URL` when set, otherwise a private `redis-server` for the run. */
export async function redisForRun(): Promise<TestRedis> {
  const redis = await getTestRedis();
  progressLog(`Redis ${redactUrl(redis.url)}`);
  return redis;
}

/** Prints a scenario's table and verdict; returns whether it passed. */
export function printScenario(title: string, table: string, problems: readonly string[]): boolean {
  process.stdout.write(`\n## ${title}\n\n${table}\n\n`);
  if (problems.length === 0) process.stdout.write('verdict: PASS\n');
  else process.stdout.write(`verdict: FAIL\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
  return problems.length === 0;
}
