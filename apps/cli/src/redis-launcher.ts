/**
 * Finding a Redis for `quire demo`: REDIS_URL when set, else one on the default local port, else a
 * private `redis-server` started here on a free port (and stopped when the demo ends). The test
 * kit has a similar helper, but it is a test package; the CLI keeps its own small launcher.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { CliError } from './errors.js';
import { redactUrl } from './redact.js';

export const LOCAL_REDIS_URL = 'redis://127.0.0.1:6379';

export interface FoundRedis {
  url: string;
  /** `env`: REDIS_URL; `local`: the default local port; `private`: started by us. */
  origin: 'env' | 'local' | 'private';
  /** Stops a private server; does nothing otherwise. */
  stop(): Promise<void>;
}

export interface FindRedisOptions {
  /** REDIS_URL (or `--redis-url`), when given. */
  url?: string | undefined;
  /** Data directory for a private server. */
  dir: string;
  /** `redis-server` executable. Default `redis-server` from PATH. */
  binary?: string;
  /** Longest wait for a server to answer PING, in ms. Default 10,000. */
  startTimeoutMs?: number;
  /** The local default tried before starting a server. Default {@link LOCAL_REDIS_URL}. */
  localUrl?: string;
}

/** What to do when there is no Redis at all; `binary` is the redis-server that was not found. */
export function noRedisHelp(binary: string): string {
  return [
    'Quire needs Redis for its queues, and none was found:',
    '  - REDIS_URL is not set,',
    `  - nothing answers on ${LOCAL_REDIS_URL},`,
    binary === 'redis-server'
      ? '  - and `redis-server` is not on the PATH.'
      : `  - and there is no ${binary}.`,
    'Get one, then run the demo again:',
    '  Debian/Ubuntu: sudo apt-get install redis-server',
    '  macOS:         brew install redis',
    '  Docker:        docker run -d -p 6379:6379 redis:7',
    '  or point REDIS_URL at a Redis you have (redis://host:6379).',
  ].join('\n');
}

export async function findRedis(options: FindRedisOptions): Promise<FoundRedis> {
  const none = async () => {};
  if (options.url !== undefined && options.url !== '') {
    if (!(await answersPing(options.url, 3_000))) {
      throw new CliError(`REDIS_URL (${redactUrl(options.url)}) does not answer PING`);
    }
    return { url: options.url, origin: 'env', stop: none };
  }
  const local = options.localUrl ?? LOCAL_REDIS_URL;
  if (await answersPing(local, 1_000)) return { url: local, origin: 'local', stop: none };
  return startPrivateRedis(options);
}

/** Resolves when `url` answers PING within `timeoutMs`; rejects with the connection's error otherwise. */
export async function pingRedis(url: string, timeoutMs: number): Promise<void> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  // Connection errors also arrive as events; the awaited calls below carry them.
  client.on('error', () => {});
  try {
    await client.connect();
    const reply = await client.ping();
    if (reply !== 'PONG') throw new Error(`PING answered ${JSON.stringify(reply)}`);
  } finally {
    client.disconnect();
  }
}

/** True when `url` answers PING within `timeoutMs`. */
export async function answersPing(url: string, timeoutMs: number): Promise<boolean> {
  return pingRedis(url, timeoutMs).then(
    () => true,
    () => false,
  );
}

async function startPrivateRedis(options: FindRedisOptions): Promise<FoundRedis> {
  const binary = options.binary ?? 'redis-server';
  await mkdir(options.dir, { recursive: true });
  // A free port may be taken by someone else before redis-server binds it: try a few.
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const port = await freePort();
    try {
      const child = await launch(binary, port, options.dir, options.startTimeoutMs ?? 10_000);
      return {
        url: `redis://127.0.0.1:${port}`,
        origin: 'private',
        stop: () => terminate(child),
      };
    } catch (error) {
      if (error instanceof CliError) throw error;
      lastError = error as Error;
    }
  }
  throw new CliError(`could not start ${binary}: ${lastError?.message ?? 'unknown error'}`);
}

async function launch(binary: string, port: number, dir: string, timeoutMs: number): Promise<ChildProcess> {
  const child = spawn(
    binary,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
    ],
    // A process group of its own: a Ctrl-C at the terminal must not stop Redis under the workers
    // while they shut down; the demo stops it last.
    { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-2000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'ENOENT' ? new CliError(noRedisHelp(binary)) : error),
    );
    child.once('exit', (code) => reject(new Error(`${binary} exited with code ${code}: ${output.trim()}`)));
  });
  failed.catch(() => {});
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  const ready = (async () => {
    while (!(await answersPing(url, 500))) {
      if (child.exitCode !== null) return;
      if (Date.now() > deadline) throw new Error(`${binary} did not answer PING within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  try {
    await Promise.race([ready, failed]);
    if (child.exitCode !== null) await failed;
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  // Should the CLI end without stopping it (a crash), the server must not outlive it.
  process.once('exit', () => child.kill('SIGKILL'));
  return child;
}

function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1' }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port found'))));
    });
  });
}
