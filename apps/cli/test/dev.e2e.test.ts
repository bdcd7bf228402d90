/**
 * `quire dev` as a new user meets it: pretty logs, no PORT, no API keys. The summary names a URL
 * that answers and the key file; a second `quire dev` on the same queue prefix warns; the services
 * stop when their launcher is killed outright, and the launcher stops when its own parent (pnpm)
 * is killed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  cleanupPrefix,
  getTestRedis,
  makeTempDir,
  type SpawnedProcess,
  type TempDir,
  type TestRedis,
  uniquePrefix,
  waitFor,
} from '@quire/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, quire, startQuire } from './harness.js';

let redis: TestRedis;
let tmp: TempDir;
let prefix: string;
let env: Record<string, string | undefined>;
const launched: ChildProcess[] = [];
const started: SpawnedProcess[] = [];
const servicePids: number[] = [];

beforeAll(async () => {
  redis = await getTestRedis();
  tmp = await makeTempDir('cli-dev');
  prefix = uniquePrefix('dev');
  env = {
    REDIS_URL: redis.url,
    QUIRE_QUEUE_PREFIX: prefix,
    QUIRE_DATA_DIR: join(tmp.path, 'data'),
    QUIRE_TENANT: 'dev-e2e',
    // What a fresh shell has: none of these.
    LOG_FORMAT: undefined,
    PORT: undefined,
    HOST: undefined,
    QUIRE_API_KEYS: undefined,
  };
});

afterAll(async () => {
  for (const child of launched) if (child.exitCode === null) child.kill('SIGKILL');
  for (const dev of started) await dev.kill('SIGKILL');
  for (const pid of servicePids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  await cleanupPrefix(redis.url, prefix);
  await redis?.stop();
  await tmp?.cleanup();
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The service PIDs from the summary's `processes:` line. */
function processes(output: string): Map<string, number> {
  const line = /processes: (.+) \(launcher (\d+)\)/.exec(output);
  if (!line) throw new Error(`no processes line in:\n${output}`);
  const pids = new Map<string, number>();
  for (const item of line[1]!.split(', ')) {
    const [name, pid] = item.split(' ');
    pids.set(name!, Number(pid));
  }
  pids.set('launcher', Number(line[2]));
  for (const [name, pid] of pids) if (name !== 'launcher') servicePids.push(pid);
  return pids;
}

/**
 * Runs `quire dev` the way `pnpm quire dev` does: under a parent process that is not a session
 * leader (a process of this test's session), so that killing that parent is what killing pnpm is.
 */
function launchUnderParent(args: string[]): { parent: ChildProcess; output: () => string; lines: string[] } {
  const script = `
    const { spawn } = require('node:child_process');
    const cli = spawn(process.execPath, ${JSON.stringify([CLI, ...args])}, { stdio: 'inherit' });
    cli.on('exit', (code) => process.exit(code ?? 1));
  `;
  const parent = spawn(process.execPath, ['-e', script], {
    cwd: tmp.path,
    // Quiet logs: the services say they are ready over their IPC channel, not in a log line.
    env: { ...process.env, NO_COLOR: '1', ...env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  launched.push(parent);
  const lines: string[] = [];
  for (const stream of [parent.stdout, parent.stderr]) {
    createInterface({ input: stream! }).on('line', (line) => lines.push(line));
  }
  return { parent, lines, output: () => lines.join('\n') };
}

describe('quire dev', { timeout: 180_000 }, () => {
  it('documents the port, PORT and the key file in its help', async () => {
    const help = await quire(['dev', '--help'], { env: { NO_COLOR: '1' } });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/PORT/);
    expect(help.stdout).toMatch(/8080/);
    expect(help.stdout).toMatch(/dev-api-key/);
    expect(help.stdout).toMatch(/QUIRE_QUEUE_PREFIX/);
  });

  it('prints a gateway URL that answers and the key file; a second dev on the prefix warns; killing launchers stops everything', async () => {
    const first = await startQuire(['dev', '--gateway', '--grace', '5'], {
      cwd: tmp.path,
      env,
      readyLine: /Quire is running/,
      readyTimeoutMs: 90_000,
    });
    started.push(first);
    const [, url] = await first.waitForLine(/^ {2}gateway: (http:\/\/\S+)/);
    const [, keyFile] = await first.waitForLine(/API key for tenant "dev-e2e" is in (\S+)/);
    expect(first.output()).not.toMatch(/<gateway URL>|address in its log/);

    // The URL answers, and the key in the file opens the tenant's API.
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const key = (await readFile(keyFile!, 'utf8')).trim();
    const documents = await fetch(`${url}/v1/documents`, { headers: { authorization: `Bearer ${key}` } });
    expect(documents.status).toBe(200);
    const firstPids = processes(first.output());

    // A second `quire dev` on the same prefix, launched the way pnpm launches it.
    const second = launchUnderParent(['dev', '--grace', '5']);
    await waitFor(() => /Quire is running/.test(second.output()), {
      timeoutMs: 90_000,
      message: 'second quire dev did not start',
    }).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${second.output()}`);
    });
    expect(second.output()).toMatch(/workers already consume queue prefix/);
    expect(second.output()).toMatch(/QUIRE_QUEUE_PREFIX='\{quire-/);
    const secondPids = processes(second.output());

    // Killing the launcher's parent (pnpm) outright: the launcher notices and stops its services.
    second.parent.kill('SIGKILL');
    for (const [name, pid] of secondPids) {
      await waitFor(() => !alive(pid), {
        timeoutMs: 45_000,
        message: `${name} (${pid}) still runs after its launcher's parent was killed\n${second.output()}`,
      });
    }

    // Killing the launcher itself outright: the services notice and stop; the port is free again.
    process.kill(firstPids.get('launcher')!, 'SIGKILL');
    for (const [name, pid] of firstPids) {
      await waitFor(() => !alive(pid), {
        timeoutMs: 45_000,
        message: `${name} (${pid}) still runs after its launcher was killed\n${first.output()}`,
      });
    }
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});
