/** Starts Quire's worker processes (their built `dist/main.js`) for the benchmarks. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type SpawnedProcess, spawnProcess } from '@quire/testkit';

export type WorkerApp = 'ingest-worker' | 'query-worker';

function mainOf(app: WorkerApp): string {
  const url =
    app === 'ingest-worker'
      ? import.meta.resolve('@quire/ingest-worker/main')
      : import.meta.resolve('@quire/query-worker/main');
  const path = fileURLToPath(url);
  if (!existsSync(path)) {
    process.stderr.write(
      `${path} is missing: build first (the root bench:* scripts run \`turbo run build\`)\n`,
    );
    process.exit(2);
  }
  return path;
}

/** Starts `count` processes of `app` and waits until each logs that it is ready. */
export async function startWorkers(
  app: WorkerApp,
  count: number,
  env: Record<string, string>,
  /** Node.js options before the script, e.g. `--cpu-prof` (which NODE_OPTIONS refuses). */
  nodeArgs: readonly string[] = [],
): Promise<SpawnedProcess[]> {
  const main = mainOf(app);
  return Promise.all(
    Array.from({ length: count }, () =>
      spawnProcess(process.execPath, [...nodeArgs, main], {
        env: { LOG_FORMAT: 'json', LOG_LEVEL: 'info', ...env },
        readyLine: new RegExp(`${app} ready`),
        readyTimeoutMs: 60_000,
      }),
    ),
  );
}

export async function stopWorkers(workers: readonly SpawnedProcess[]): Promise<void> {
  await Promise.all(workers.map((w) => w.kill('SIGTERM')));
}

/** The model names and dimension of the built-in models, as the testkit server serves them. */
export const BUILTIN_MODEL_ENV = {
  QUIRE_EMBEDDING_MODEL: 'quire-hash-embed',
  QUIRE_EMBEDDING_DIMENSION: '384',
  QUIRE_RERANK_MODEL: 'quire-lexical-rerank',
  QUIRE_CHAT_MODEL: 'quire-extractive',
} as const;

/**
 * `work`, unless a worker process exits first: then the run fails at once with the worker's last output,
 * instead of waiting for jobs nobody will finish.
 */
export async function untilWorkerDies<T>(workers: readonly SpawnedProcess[], work: Promise<T>): Promise<T> {
  const died = Promise.race(workers.map((w) => w.exited.then((exit) => ({ w, exit }))));
  const outcome = await Promise.race([
    work.then((value) => ({ value })),
    died.then(({ w, exit }) => ({ w, exit })),
  ]);
  if ('value' in outcome) return outcome.value;
  throw new Error(
    `a worker (pid ${outcome.w.pid}) exited during the run (${outcome.exit.code ?? outcome.exit.signal}); its last output:\n${outcome.w.output().slice(-3000)}`,
  );
}
