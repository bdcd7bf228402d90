import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { ShutdownManager, watchLauncher } from './shutdown.js';

function quietLogger() {
  return createLogger({ service: 'test', format: 'json', level: 'silent' });
}

describe('ShutdownManager', () => {
  it('runs phases in order, handlers of a phase together, and exits 0', async () => {
    const order: string[] = [];
    let code: number | undefined;
    const manager = new ShutdownManager({
      logger: quietLogger(),
      exit: (c) => {
        code = c;
      },
    });
    manager.register('connection', () => void order.push('connection'), 1);
    manager.register('worker-a', async () => {
      await new Promise((r) => setTimeout(r, 30));
      order.push('worker-a');
    });
    manager.register('worker-b', () => void order.push('worker-b'));
    await manager.shutdown();
    expect(order).toEqual(['worker-b', 'worker-a', 'connection']);
    expect(code).toBe(0);
  });

  it('runs once however often it is asked, and exits 1 when a handler fails', async () => {
    let runs = 0;
    const codes: number[] = [];
    const manager = new ShutdownManager({ logger: quietLogger(), exit: (c) => codes.push(c) });
    manager.register('fails', () => {
      runs += 1;
      throw new Error('cannot close');
    });
    manager.register(
      'still-runs',
      () => {
        runs += 1;
      },
      1,
    );
    await Promise.all([manager.shutdown(), manager.shutdown()]);
    expect(runs).toBe(2);
    expect(codes).toEqual([1]);
    expect(manager.shuttingDown).toBe(true);
  });

  it('exits 1 at the deadline when a handler hangs', async () => {
    const codes: number[] = [];
    const manager = new ShutdownManager({ logger: quietLogger(), graceMs: 50, exit: (c) => codes.push(c) });
    manager.register('hangs', () => new Promise<void>(() => {}));
    void manager.shutdown();
    await new Promise((r) => setTimeout(r, 150));
    expect(codes).toEqual([1]);
  });
});

describe('createLogger', () => {
  it('redacts keys, passwords and document text', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = createLogger({ service: 'svc', version: '1.2.3', format: 'json', destination });
    logger.info(
      {
        apiKey: 'sk-secret-1',
        req: { headers: { authorization: 'Bearer sk-secret-2' } },
        data: { password: 'hunter2', source: { kind: 'text', text: 'private words' } },
      },
      'hello',
    );
    const line = lines.join('');
    expect(line).toContain('"service":"svc"');
    expect(line).toContain('"version":"1.2.3"');
    for (const secret of ['sk-secret-1', 'sk-secret-2', 'hunter2', 'private words'])
      expect(line).not.toContain(secret);
  });
});

describe('watchLauncher', () => {
  function fakeProcess(connected: boolean, withChannel = true) {
    let unrefs = 0;
    const listeners: (() => void)[] = [];
    return {
      proc: {
        channel: withChannel
          ? {
              unref: () => {
                unrefs += 1;
              },
            }
          : undefined,
        connected,
        once: (_event: 'disconnect', listener: () => void) => void listeners.push(listener),
      },
      disconnect: () => {
        for (const listener of listeners.splice(0)) listener();
      },
      unrefs: () => unrefs,
    };
  }

  it('calls back once the channel to the launcher closes, without keeping the process alive', () => {
    const fake = fakeProcess(true);
    let gone = 0;
    watchLauncher(fake.proc, () => {
      gone += 1;
    });
    expect(gone).toBe(0);
    expect(fake.unrefs()).toBe(1);
    fake.disconnect();
    expect(gone).toBe(1);
  });

  it('calls back at once when the launcher is already gone, and never without a channel', () => {
    let gone = 0;
    watchLauncher(fakeProcess(false).proc, () => {
      gone += 1;
    });
    expect(gone).toBe(1);
    const alone = fakeProcess(true, false);
    watchLauncher(alone.proc, () => {
      gone += 1;
    });
    alone.disconnect();
    expect(gone).toBe(1);
  });
});
