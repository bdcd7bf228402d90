import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { spawnProcess } from '../src/index.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

/** Linux: a killed process whose parent is gone may linger as a zombie (state Z) until reaped; it is not running. */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

describe('spawnProcess', () => {
  it('captures lines of both streams, waits for them, and reports the exit', async () => {
    const child = await spawnProcess(
      process.execPath,
      [
        '-e',
        'console.log("hello"); console.error("warn: " + process.env.GREETING); setTimeout(() => {}, 60000);',
      ],
      { env: { GREETING: 'hi there' }, readyLine: /^hello$/ },
    );
    expect(child.readyMatch?.[0]).toBe('hello');
    const match = await child.waitForLine(/^warn: (.*)$/, { stream: 'stderr' });
    expect(match[1]).toBe('hi there');
    expect(child.lines).toEqual([
      { stream: 'stdout', text: 'hello' },
      { stream: 'stderr', text: 'warn: hi there' },
    ]);
    expect(await child.kill('SIGTERM')).toEqual({ code: null, signal: 'SIGTERM' });
  });

  it('rejects when the process exits before the line shows up', async () => {
    const attempt = spawnProcess(process.execPath, ['-e', 'console.log("bye"); process.exit(3)'], {
      readyLine: /never printed/,
    });
    await expect(attempt).rejects.toThrow(/exited \(code 3, signal null\) before printing/);
  });

  it('only matches lines after `since`', async () => {
    const child = await spawnProcess(process.execPath, [
      '-e',
      'console.log("tick 1"); process.stdin; setTimeout(() => console.log("tick 2"), 50); setTimeout(() => {}, 60000);',
    ]);
    await child.waitForLine(/tick 1/);
    const since = child.lines.length;
    const match = await child.waitForLine(/tick (\d)/, { since });
    expect(match[1]).toBe('2');
    expect((await child.kill('SIGKILL')).signal).toBe('SIGKILL');
  });

  it('kills the whole process group, so a wrapped child does not survive', async () => {
    const script = [
      'const { spawn } = require("node:child_process");',
      'const inner = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });',
      'console.log("inner " + inner.pid);',
      'setTimeout(() => {}, 60000);',
    ].join('\n');
    const child = await spawnProcess(process.execPath, ['-e', script], { readyLine: /^inner (\d+)$/ });
    const innerPid = Number(child.readyMatch![1]);
    await child.kill('SIGKILL');
    await expect.poll(() => isRunning(innerPid)).toBe(false);
  });
});

describe('model-server command', () => {
  const command = ['--conditions=@quire/source', '--import', 'tsx', 'src/bin/model-server.ts'];

  it('serves on the given port with the given faults, prints its URL and exits 0 on SIGTERM', async () => {
    const server = await spawnProcess(
      process.execPath,
      [...command, '--', '--port', '0', '--error-rate', '1'],
      {
        cwd: packageDir,
        env: { MODEL_SERVER_API_KEY: 'sk-cli', MODEL_SERVER_RPM: '100' },
        readyLine: /listening on (http:\/\/\S+\/v1)$/,
      },
    );
    const url = server.readyMatch![1]!;
    expect(server.output()).not.toContain('sk-cli');
    const unauthorised = await fetch(`${url}/embeddings`, { method: 'POST', body: '{}' });
    expect(unauthorised.status).toBe(401);
    const failed = await fetch(`${url}/embeddings`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-cli', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'e', input: ['x'] }),
    });
    expect(failed.status).toBe(500);
    expect(await server.kill('SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it('refuses a bad value naming the flag, with exit code 2', async () => {
    const run = await spawnProcess(process.execPath, [...command, '--hang-rate', '2'], { cwd: packageDir });
    expect((await run.exited).code).toBe(2);
    expect(run.output()).toContain('invalid --hang-rate');
  });
});
