/**
 * The processes `quire dev` and `quire demo` start: Quire's own apps, run from their built
 * `dist/main.js`, with their output read line by line.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CliError } from './errors.js';

export type ServiceName = 'ingest' | 'query' | 'gateway';

export interface ServiceSpec {
  name: ServiceName;
  /** Absolute path of the built entry point. */
  main: string;
  /** The line the process prints once it serves. */
  ready: RegExp;
}

const PACKAGES: Record<ServiceName, { specifier: string; ready: RegExp }> = {
  ingest: { specifier: '@quire/ingest-worker/main', ready: /ingest-worker ready/ },
  query: { specifier: '@quire/query-worker/main', ready: /query-worker ready/ },
  gateway: { specifier: '@quire/gateway/main', ready: /gateway (ready|listening)/ },
};

/** Where a service's built entry point is; a CliError when it has not been built. */
export function serviceSpec(name: ServiceName): ServiceSpec {
  const { specifier, ready } = PACKAGES[name];
  let main: string;
  try {
    main = fileURLToPath(import.meta.resolve(specifier));
  } catch {
    throw new CliError(
      `cannot find ${specifier}: is it installed? Run \`pnpm install\` at the repository root`,
    );
  }
  if (!existsSync(main)) {
    throw new CliError(`${main} is missing: build first (\`pnpm build\`, or \`node scripts/bootstrap.mjs\`)`);
  }
  return { name, main, ready };
}

export interface OutputLine {
  service: ServiceName;
  stream: 'stdout' | 'stderr';
  text: string;
}

export interface StartServiceOptions {
  spec: ServiceSpec;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** Longest wait for the ready line, in ms. Default 30,000. */
  readyTimeoutMs?: number;
  /** Every output line, as it arrives. */
  onLine?: (line: OutputLine) => void;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RunningService {
  name: ServiceName;
  pid: number;
  /** Resolves when the process has exited (never rejects). */
  exited: Promise<ProcessExit>;
  /** The line that said it was ready. */
  readyLine: string;
  /** The last output lines, to explain a failure. */
  tail(): string[];
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs: number): Promise<ProcessExit>;
}

const TAIL_LINES = 40;
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Starts a service and resolves once it prints its ready line. It runs in a process group of its
 * own, so that only the CLI signals it, exactly once: a Ctrl-C reaching the whole group as well
 * would give each service a second signal, and a second SIGTERM ends a process in the middle of
 * its graceful shutdown. The CLI turns SIGINT, SIGTERM and SIGHUP into one ordered stop; should it
 * exit while a service still runs, its exit hook kills it; should it be killed outright, the
 * service sees its IPC channel close and stops by itself.
 */
export async function startService(options: StartServiceOptions): Promise<RunningService> {
  const { spec } = options;
  installExitHook();
  const child = spawn(process.execPath, [spec.main], {
    cwd: options.cwd,
    env: options.env as NodeJS.ProcessEnv,
    // The IPC channel is how a service notices that the CLI is gone, even SIGKILLed: the channel
    // closes with the CLI and the service shuts down (see the runtime's ShutdownManager.listen).
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    detached: true,
  });
  child.channel?.unref();
  running.add(child);
  const lines: string[] = [];
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once('error', () => resolve({ code: null, signal: null }));
    // 'close' comes after the last buffered output lines.
    child.once('close', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });

  let readyLine = '';
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  for (const stream of ['stdout', 'stderr'] as const) {
    const source = child[stream];
    if (source === null) continue;
    createInterface({ input: source, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (text) => {
      lines.push(text);
      if (lines.length > TAIL_LINES) lines.shift();
      options.onLine?.({ service: spec.name, stream, text });
      if (readyLine === '' && spec.ready.test(text)) {
        readyLine = text;
        markReady();
      }
    });
  }

  // A service also says it is ready over the IPC channel, which needs no log line (LOG_LEVEL=warn).
  child.on('message', (message: unknown) => {
    if (readyLine !== '' || !isReadyMessage(message)) return;
    readyLine = `${spec.name} ready${message.address === undefined ? '' : ` at ${message.address}`}`;
    markReady();
  });

  const spawnError = new Promise<Error | undefined>((resolve) => {
    child.once('error', (error) => resolve(error));
    child.once('spawn', () => resolve(undefined));
  });
  const failure = await spawnError;
  if (failure) throw new CliError(`could not start the ${spec.name} service: ${failure.message}`);

  const stop = async (graceMs: number): Promise<ProcessExit> => {
    signal(child, 'SIGTERM');
    const timer = setTimeout(() => signal(child, 'SIGKILL'), graceMs);
    const result = await exited;
    clearTimeout(timer);
    return result;
  };

  const timeoutMs = options.readyTimeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    ready.then(() => 'ready' as const),
    exited.then(() => 'exited' as const),
    new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  if (outcome !== 'ready') {
    if (outcome === 'timeout') await stop(2_000);
    const exit = await exited;
    const why =
      outcome === 'timeout'
        ? `was not ready within ${timeoutMs} ms`
        : `exited (code ${exit.code}, signal ${exit.signal})`;
    throw new CliError(
      `the ${spec.name} service ${why}. Its last output:\n${lines.map((l) => `  ${l}`).join('\n')}`,
    );
  }
  return { name: spec.name, pid: child.pid!, exited, readyLine, tail: () => [...lines], stop };
}

/**
 * Starts services, the first alone and then the others together, adding each to `into` as it
 * becomes ready (so the caller can stop whatever started when one fails). The first one creates
 * the embedded store; two processes creating the same new SQLite file at once can trip over each
 * other's locks, so the others open it only once it exists.
 */
export async function startServices(
  specs: readonly ServiceSpec[],
  options: Omit<StartServiceOptions, 'spec'>,
  into: RunningService[],
): Promise<void> {
  const [first, ...rest] = specs;
  if (first === undefined) return;
  into.push(await startService({ ...options, spec: first }));
  const started = await Promise.allSettled(rest.map((spec) => startService({ ...options, spec })));
  for (const result of started) if (result.status === 'fulfilled') into.push(result.value);
  const failed = started.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
}

function isReadyMessage(message: unknown): message is { type: 'quire:ready'; address?: string } {
  if (typeof message !== 'object' || message === null) return false;
  const { type, address } = message as { type?: unknown; address?: unknown };
  return type === 'quire:ready' && (address === undefined || typeof address === 'string');
}

function signal(child: ChildProcess, name: NodeJS.Signals): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(name);
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) signal(child, 'SIGKILL');
  });
}
