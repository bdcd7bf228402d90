/**
 * The parse sandbox's own behaviour, driven by small task modules (`fixtures/sandbox-tasks`) that
 * answer, fail, crash, spin or hoard memory: children are reused, replaced after a kill, recycled,
 * and every way a task can end reaches the caller as the right error.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ParseFinishedEvent,
  ParseSandbox,
  type ParseSandboxOptions,
  readProcessMemory,
  registerSandboxTask,
  type SandboxExitReason,
} from '../src/sandbox/index.js';

const task = (name: string) => new URL(`./fixtures/sandbox-tasks/${name}.ts`, import.meta.url);
registerSandboxTask('test-echo', task('echo'));
registerSandboxTask('test-spin', task('spin'));
registerSandboxTask('test-hoard', task('hoard'));
registerSandboxTask('test-keep', task('keep'));
registerSandboxTask('test-linger', task('linger'));
// A kind that keeps an engine loaded: its child stays up to 90% of the cap, for 3 tasks.
registerSandboxTask('test-engine', task('keep'), { recycleRssShare: 0.9, maxTasksPerChild: 3 });

const MIB = 2 ** 20;
const sandboxes: ParseSandbox[] = [];
function makeSandbox(options: ParseSandboxOptions = {}): ParseSandbox {
  const sandbox = new ParseSandbox(options);
  sandboxes.push(sandbox);
  return sandbox;
}
afterEach(async () => {
  await Promise.all(sandboxes.splice(0).map((sandbox) => sandbox.close()));
});

// A child run from the TypeScript sources holds 50–115 MiB (the transpiler): under half of 384.
const limits = { timeoutMs: 20_000, maxMemoryMb: 384 };
type Echo = { value: unknown; pid: number };
const echo = (sandbox: ParseSandbox, input: Record<string, unknown> = {}, name = 'doc.bin') =>
  sandbox.run<Echo>({ kind: 'test-echo', name, input, ...limits });

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('ParseSandbox', () => {
  it('runs tasks in child processes, one child per task at a time, and reuses them', async () => {
    const sandbox = makeSandbox({ size: 2 });
    const first = await echo(sandbox, { value: { a: [1, 2] } });
    expect(first.value).toEqual({ a: [1, 2] });
    expect(first.pid).not.toBe(process.pid);
    expect((await echo(sandbox)).pid).toBe(first.pid);
    const both = await Promise.all([echo(sandbox, { value: 1 }), echo(sandbox, { value: 2 })]);
    expect(both.map((r) => r.value)).toEqual([1, 2]);
    expect(new Set(both.map((r) => r.pid)).size).toBe(2);
    expect(sandbox.stats()).toMatchObject({ children: 2, busy: 0, queued: 0, started: 2, killed: 0 });
  });

  it('starts children ahead of the first tasks when asked, and gives them the tasks', async () => {
    const sandbox = makeSandbox({ size: 2 });
    expect(sandbox.prestart(limits.maxMemoryMb)).toBe(2);
    expect(sandbox.prestart(limits.maxMemoryMb)).toBe(0);
    const pids = sandbox.pids();
    expect(sandbox.stats()).toMatchObject({ children: 2, busy: 0, started: 2 });
    const both = await Promise.all([echo(sandbox), echo(sandbox)]);
    expect(both.map((r) => r.pid).sort()).toEqual([...pids].sort());
    expect(sandbox.stats()).toMatchObject({ children: 2, started: 2 });
  });

  it('turns what a task reports or throws, and a crash, into document errors; the next task runs', async () => {
    const sandbox = makeSandbox({ size: 1 });
    await expect(echo(sandbox, { fail: 'the table is broken' }, 'a.docx')).rejects.toMatchObject({
      name: 'DocumentError',
      code: 'corrupt',
      retryable: false,
      message: '"a.docx": the table is broken',
      details: { where: 'echo' },
    });
    await expect(echo(sandbox, { throw: 'unexpected token' }, 'b.html')).rejects.toMatchObject({
      code: 'corrupt',
      message: '"b.html": could not be read as test-echo: unexpected token',
    });
    await expect(echo(sandbox, { exit: 3 }, 'c.pdf')).rejects.toMatchObject({
      code: 'corrupt',
      message: '"c.pdf": the parser stopped unexpectedly (exit code 3)',
    });
    expect((await echo(sandbox, { value: 'after' })).value).toBe('after');
    expect(sandbox.stats()).toMatchObject({ started: 2, killed: 1 });
  });

  it('kills a child that runs past the time limit (parse_timeout) and starts a fresh one', async () => {
    const exits: SandboxExitReason[] = [];
    const sandbox = makeSandbox({ size: 1, observer: { childExited: (e) => exits.push(e.reason) } });
    const { pid } = await echo(sandbox);
    await expect(
      sandbox.run({ kind: 'test-spin', name: 'spin.pdf', input: {}, ...limits, timeoutMs: 300 }),
    ).rejects.toMatchObject({
      code: 'parse_timeout',
      retryable: false,
      message: '"spin.pdf": parsing took longer than 0.3 s (limit parseTimeoutMs, QUIRE_PARSE_TIMEOUT_MS)',
    });
    // The caller hears of the timeout only once the child is gone.
    expect(alive(pid)).toBe(false);
    expect(exits).toEqual(['timeout']);
    expect((await echo(sandbox)).pid).not.toBe(pid);
  });

  it('kills a child whose RSS passes the cap (parse_out_of_memory), memory outside the V8 heap included', async () => {
    const events: ParseFinishedEvent[] = [];
    const sandbox = makeSandbox({ size: 1, observer: { parseFinished: (e) => events.push(e) } });
    await expect(
      sandbox.run({
        kind: 'test-hoard',
        name: 'bomb.pdf',
        input: { mibPerStep: 8, stepMs: 10 },
        timeoutMs: 60_000,
        maxMemoryMb: 128,
      }),
    ).rejects.toMatchObject({
      code: 'parse_out_of_memory',
      message:
        '"bomb.pdf": parsing needed more than 128 MiB of memory (limit parseMaxMemoryMb, QUIRE_PARSE_MAX_MEMORY_MB)',
      details: { limitMb: 128 },
    });
    expect(events).toEqual([
      expect.objectContaining({
        kind: 'test-hoard',
        outcome: 'killed',
        killReason: 'memory',
        code: 'parse_out_of_memory',
      }),
    ]);
    // Sampled every 25 ms while growing ~800 MiB/s: the peak stays within a sample or two of the cap.
    expect(events[0]!.peakRssBytes).toBeGreaterThan(128 * MIB);
    expect(events[0]!.peakRssBytes).toBeLessThan((128 + 64) * MIB);
    expect(sandbox.stats()).toMatchObject({ children: 0, killed: 1 });
  });

  it('kills the child on abort and rejects with the signal reason; a waiting task is dropped', async () => {
    const sandbox = makeSandbox({ size: 1 });
    const controller = new AbortController();
    const spinning = sandbox.run({
      kind: 'test-spin',
      name: 's.pdf',
      input: {},
      ...limits,
      signal: controller.signal,
    });
    const waitingController = new AbortController();
    const waiting = echo(sandbox, {});
    const dropped = sandbox.run({
      kind: 'test-echo',
      name: 'w.pdf',
      input: {},
      ...limits,
      signal: waitingController.signal,
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    waitingController.abort(new Error('caller gave up'));
    await expect(dropped).rejects.toThrow('caller gave up');
    controller.abort(new Error('job cancelled'));
    await expect(spinning).rejects.toThrow('job cancelled');
    expect((await waiting).value).toBeUndefined();
    expect(sandbox.stats()).toMatchObject({ killed: 1, queued: 0 });
  });

  it('recycles a child after maxTasksPerChild tasks', async () => {
    const sandbox = makeSandbox({ size: 1, maxTasksPerChild: 2 });
    const pids = [];
    for (let i = 0; i < 3; i++) pids.push((await echo(sandbox)).pid);
    expect(pids[1]).toBe(pids[0]);
    expect(pids[2]).not.toBe(pids[0]);
    expect(sandbox.stats()).toMatchObject({ recycled: 1, killed: 0 });
  });

  it('recycles a child that keeps more than half its cap; a kind that keeps an engine stays up to its share and task count', async () => {
    const sandbox = makeSandbox({ size: 1 });
    const keep = (kind: string, mib: number) =>
      sandbox.run<{ pid: number; keptMib: number }>({ kind, name: 'k.pdf', input: { mib }, ...limits });
    // The engine kind keeps its child (and what it loaded) while it holds up to 90%, for 3 tasks.
    const first = await keep('test-engine', 150);
    const second = await keep('test-engine', 0);
    const third = await keep('test-engine', 0);
    expect([second.pid, third.pid]).toEqual([first.pid, first.pid]);
    expect(third.keptMib).toBe(150);
    const fourth = await keep('test-engine', 0);
    expect(fourth.pid).not.toBe(first.pid);
    expect(fourth.keptMib).toBe(0);
    expect(sandbox.stats()).toMatchObject({ recycled: 1, killed: 0 });
    // A child holding more than another kind accepts (half the cap) does not take that kind's task.
    const engine = await keep('test-engine', 150);
    expect(engine.pid).toBe(fourth.pid);
    const other = await echo(sandbox);
    expect(other.pid).not.toBe(engine.pid);
    expect(sandbox.stats()).toMatchObject({ recycled: 2, killed: 0 });
    // Default: 150 MiB kept (~265 MiB in all) of a 384 MiB cap is past half, the child is replaced.
    const large = await keep('test-keep', 150);
    expect(large).toEqual({ pid: other.pid, keptMib: 150 });
    expect((await echo(sandbox)).pid).not.toBe(large.pid);
    expect(sandbox.stats()).toMatchObject({ recycled: 3, killed: 0, retried: 0 });
  });

  it('a kind policy given to the sandbox overrides the registered one', async () => {
    const sandbox = makeSandbox({ size: 1, kinds: { 'test-engine': { recycleRssShare: 0.5 } } });
    const keep = (mib: number) =>
      sandbox.run<{ pid: number }>({ kind: 'test-engine', name: 'k.pdf', input: { mib }, ...limits });
    const first = await keep(150);
    expect((await keep(0)).pid).not.toBe(first.pid);
    expect(sandbox.stats()).toMatchObject({ recycled: 1 });
  });

  it('runs a task that passes the cap in a child holding memory of earlier tasks once more, in a fresh child', async () => {
    const events: ParseFinishedEvent[] = [];
    const sandbox = makeSandbox({ size: 1, observer: { parseFinished: (e) => events.push(e) } });
    const keep = (mib: number) =>
      sandbox.run<{ pid: number; keptMib: number }>({
        kind: 'test-engine',
        name: 'k.pdf',
        input: { mib },
        ...limits,
      });
    // 180 MiB kept (more than half the cap, under the kind's 90%, with the child's own ~50–115 MiB);
    // 180 more pass the cap.
    const warm = await keep(180);
    const again = await keep(180);
    expect(again.pid).not.toBe(warm.pid);
    expect(again.keptMib).toBe(180);
    expect(sandbox.stats()).toMatchObject({ killed: 1, retried: 1 });
    expect(events.map((e) => e.outcome)).toEqual(['ok', 'ok']);
    // A document that passes the cap in a fresh child too fails as out of memory, after one retry.
    await expect(keep(450)).rejects.toMatchObject({ code: 'parse_out_of_memory' });
    expect(sandbox.stats()).toMatchObject({ killed: 3, retried: 2 });
    expect(events.map((e) => e.outcome)).toEqual(['ok', 'ok', 'killed']);
    // A fresh child that passes the cap is not retried.
    await expect(keep(450)).rejects.toMatchObject({ code: 'parse_out_of_memory' });
    expect(sandbox.stats()).toMatchObject({ killed: 4, retried: 2 });
  });

  it('runs a task once more in a fresh child when its child grew past the cap after its last task', async () => {
    const sandbox = makeSandbox({ size: 1 });
    const { pid } = await sandbox.run<{ pid: number }>({
      kind: 'test-linger',
      name: 'scan.pdf',
      input: { mib: 400, afterMs: 20 },
      ...limits,
    });
    // Wait until the idle child holds more than the cap.
    for (let i = 0; i < 200; i++) {
      const memory = await readProcessMemory(pid);
      if (memory !== null && memory.rssBytes > limits.maxMemoryMb * MIB) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const next = await echo(sandbox, { value: 'next' });
    expect(next).toMatchObject({ value: 'next' });
    expect(next.pid).not.toBe(pid);
    expect(sandbox.stats()).toMatchObject({ killed: 1, retried: 1 });
  });

  it('refuses unknown kinds and bad options with invalid_input', async () => {
    const sandbox = makeSandbox();
    await expect(sandbox.run({ kind: 'nope', name: 'x', input: {}, ...limits })).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringContaining('unknown sandbox task kind "nope"'),
    });
    expect(() => new ParseSandbox({ size: 0 })).toThrow(
      'ParseSandbox size must be a positive integer, got 0',
    );
    expect(() => registerSandboxTask('Bad Kind', task('echo'))).toThrow('lower-case');
    expect(() => registerSandboxTask('web', new URL('https://example.com/task.js'))).toThrow('file: URL');
    expect(() => registerSandboxTask('test-x', task('echo'), { recycleRssShare: 1.5 })).toThrow(
      'recycleRssShare must be above 0 and at most 1, got 1.5',
    );
    expect(() => new ParseSandbox({ kinds: { ocr: { maxTasksPerChild: 0 } } })).toThrow(
      'maxTasksPerChild must be a positive integer, got 0',
    );
  });

  it('fails what is pending on close and takes no more tasks', async () => {
    const sandbox = makeSandbox({ size: 1 });
    const spinning = sandbox.run({ kind: 'test-spin', name: 's.pdf', input: {}, ...limits }).catch((e) => e);
    const queued = echo(sandbox).catch((e) => e);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await sandbox.close();
    expect(await spinning).toEqual(new Error('the parse sandbox was closed'));
    expect(await queued).toEqual(new Error('the parse sandbox was closed'));
    await expect(echo(sandbox)).rejects.toThrow('the parse sandbox is closed');
    expect(sandbox.stats().children).toBe(0);
  });
});

describe('ParseSandbox in a process of its own', () => {
  const sandboxModule = pathToFileURL(fileURLToPath(new URL('../src/sandbox/index.ts', import.meta.url)));
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  async function runScript(lines: string[]): Promise<{ code: number | null; out: string }> {
    const child = spawn(process.execPath, ['--import', tsx, '--input-type=module', '-e', lines.join('\n')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    return { code, out };
  }

  it('stays alive while an idle child is stopped to make room for a waiting task', async () => {
    // The only child idles (unreferenced) with another cap: it is stopped, and the task waits for its exit.
    const { code, out } = await runScript([
      `import { ParseSandbox, registerSandboxTask } from ${JSON.stringify(sandboxModule.href)};`,
      `registerSandboxTask('test-echo', new URL(${JSON.stringify(task('echo').href)}));`,
      `const sandbox = new ParseSandbox({ size: 1 });`,
      `const first = await sandbox.run({ kind: 'test-echo', name: 'x', input: {}, timeoutMs: 20000, maxMemoryMb: 384 });`,
      `const second = await sandbox.run({ kind: 'test-echo', name: 'y', input: {}, timeoutMs: 20000, maxMemoryMb: 320 });`,
      `console.log(first.pid !== second.pid ? 'replaced' : 'same');`,
      `await sandbox.close();`,
    ]);
    expect({ code, out: out.trim() }).toEqual({ code: 0, out: 'replaced' });
  });

  it('lets the process exit while a child idles, and the child goes with it', async () => {
    const { code, out } = await runScript([
      `import { ParseSandbox, registerSandboxTask } from ${JSON.stringify(sandboxModule.href)};`,
      `registerSandboxTask('test-echo', new URL(${JSON.stringify(task('echo').href)}));`,
      `const sandbox = new ParseSandbox({ idleTimeoutMs: 600000 });`,
      `const result = await sandbox.run({ kind: 'test-echo', name: 'x', input: {}, timeoutMs: 20000, maxMemoryMb: 256 });`,
      `console.log(result.pid);`,
    ]);
    expect(code).toBe(0);
    const sandboxChild = Number(out.trim());
    expect(sandboxChild).toBeGreaterThan(0);
    // The child exits when its parent's IPC channel closes.
    for (let i = 0; i < 50 && alive(sandboxChild); i++) await new Promise((r) => setTimeout(r, 100));
    expect(alive(sandboxChild)).toBe(false);
  });
});
