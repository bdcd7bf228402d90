/**
 * A parse sandbox child process (started by `parse-sandbox.ts` with `child_process.fork`). It
 * imports the module of each task kind it is asked to run, once, and runs one task at a time. The
 * parent watches its RSS and kills it past the memory cap or the time limit: a hostile file can
 * only ever stall or bloat this process, whose memory goes back to the system when it ends.
 */
import type { SandboxRequest, SandboxResponse, SandboxTaskModule } from './protocol.js';

// A library stays quiet: whatever a parser prints is dropped here, before any parser loads (pdf.js
// binds console methods when it loads). stdio is ignored by the parent anyway; this also keeps a
// parser from failing on a closed stream.
for (const stream of [process.stdout, process.stderr]) stream.write = () => true;

const modules = new Map<string, Promise<SandboxTaskModule>>();

function send(message: SandboxResponse | { type: 'ready' }): void {
  process.send?.(message);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function run(request: SandboxRequest): Promise<void> {
  let loaded = modules.get(request.module);
  if (loaded === undefined) {
    loaded = import(request.module) as Promise<SandboxTaskModule>;
    modules.set(request.module, loaded);
  }
  try {
    const task = await loaded;
    const value = await task.run(request.input);
    send({ type: 'done', id: request.id, value });
  } catch (error) {
    // Duck-typed: a task module loaded from another copy of protocol.ts has its own class.
    const failure = error as { name?: unknown; code?: unknown; reason?: unknown; details?: unknown };
    if (failure?.name === 'TaskFailure' && typeof failure.code === 'string') {
      send({
        type: 'failed',
        id: request.id,
        code: failure.code,
        reason: String(failure.reason),
        ...(failure.details ? { details: failure.details as Record<string, unknown> } : {}),
      });
    } else {
      send({ type: 'error', id: request.id, message: messageOf(error) });
    }
  }
}

// Tasks run strictly one after another; the parent sends the next only after a response.
let previous = Promise.resolve();
process.on('message', (request: SandboxRequest) => {
  if (request?.type !== 'run') return;
  previous = previous.then(() => run(request));
});
// The parent is gone (it exited or closed the sandbox): so is this process, with any tool a task
// started (it leads its own process group).
process.on('disconnect', () => {
  try {
    process.kill(-process.pid, 'SIGKILL');
  } catch {
    process.exit(0);
  }
});
send({ type: 'ready' });
