/** Starts real ingest worker processes (the built `dist/main.js`) for end-to-end tests. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type SpawnedProcess, spawnProcess } from '@quire/testkit';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

export async function startIngestWorker(env: Record<string, string>): Promise<SpawnedProcess> {
  if (!existsSync(MAIN))
    throw new Error(`${MAIN} is missing: run \`pnpm build\` first (turbo does it before tests)`);
  return spawnProcess(process.execPath, [MAIN], {
    env: { LOG_FORMAT: 'json', LOG_LEVEL: 'info', ...env },
    readyLine: /ingest-worker ready/,
    readyTimeoutMs: 30_000,
  });
}
