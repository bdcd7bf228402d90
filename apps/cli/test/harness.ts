/** Runs the built `quire` (`dist/main.js`) as a user would, for end-to-end tests. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type SpawnedProcess, type SpawnProcessOptions, spawnProcess } from '@quire/testkit';

export const CLI = fileURLToPath(new URL('../dist/main.js', import.meta.url));

function assertBuilt(): void {
  if (!existsSync(CLI))
    throw new Error(`${CLI} is missing: run \`pnpm build\` first (turbo does it before tests)`);
}

export interface QuireRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one command to its end. Colours off; no terminal, so progress comes as plain lines. */
export async function quire(args: string[], options: SpawnProcessOptions = {}): Promise<QuireRun> {
  assertBuilt();
  const child = await spawnProcess(process.execPath, [CLI, ...args], {
    ...options,
    env: { NO_COLOR: '1', ...options.env },
  });
  const exit = await child.exited;
  const text = (stream: 'stdout' | 'stderr') =>
    child.lines
      .filter((line) => line.stream === stream)
      .map((line) => `${line.text}\n`)
      .join('');
  return { code: exit.code, stdout: text('stdout'), stderr: text('stderr') };
}

/** Starts a long-running command (`quire dev`), resolving once it prints `readyLine`. */
export function startQuire(args: string[], options: SpawnProcessOptions): Promise<SpawnedProcess> {
  assertBuilt();
  return spawnProcess(process.execPath, [CLI, ...args], {
    ...options,
    env: { NO_COLOR: '1', ...options.env },
  });
}
