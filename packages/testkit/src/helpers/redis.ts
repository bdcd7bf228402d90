import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { Redis } from 'ioredis';
import { trackChild, trackDir, untrackDir } from './child-registry.js';
import { freePort } from './free-port.js';
import { makeTempDir } from './temp-dir.js';

export interface TestRedis {
  /** `redis://…` URL to connect to. */
  url: string;
  /** Releases this handle; the private server stops when its last handle is released. No-op for `REDIS_URL`. */
  stop(): Promise<void>;
}

export interface GetTestRedisOptions {
  /**
   * Where `REDIS_URL` is looked up. Default `process.env`: this helper exists for test suites, and the
   * variable is how a developer or CI points every suite at one server.
   */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * `redis-server` executable used when no `REDIS_URL` is set and no private server runs yet in this
   * process. Default `redis-server` (from PATH).
   */
  binary?: string;
}

export interface PrivateRedisOptions {
  /** Turn on the append-only file, so data survives `kill()` + `restart()`. Default `false`. */
  appendonly?: boolean;
  /** TCP port on 127.0.0.1. Default: a free port. */
  port?: number;
  /** Data directory. Default: a new temporary directory, removed by `stop()`. A given one is kept. */
  dir?: string;
  /** `redis-server` executable. Default `redis-server` (from PATH). */
  binary?: string;
  /** How long to wait for the server to answer PING after each start, in milliseconds. Default `10000`. */
  startTimeoutMs?: number;
}

export interface PrivateRedis {
  url: string;
  port: number;
  /** Data directory (holds `appendonlydir/` when `appendonly` is on). */
  dir: string;
  /** Whether a server process is currently running. */
  readonly running: boolean;
  /** SIGTERM, wait for exit, then remove the data directory if it was created here. Safe to call twice. */
  stop(): Promise<void>;
  /** SIGKILL (a crash, no shutdown work), wait for exit. The data directory stays for `restart()`. */
  kill(): Promise<void>;
  /** Starts the server again on the same port and directory (kills a running one first); waits for PING. */
  restart(): Promise<void>;
}

const DEFAULT_BINARY = 'redis-server';

let shared: { redis: Promise<PrivateRedis>; users: number } | undefined;

/**
 * The Redis a test suite should use: `REDIS_URL` when set (checked with PING; `stop()` does nothing),
 * otherwise a private `redis-server` without persistence on a free port, shared by the callers in this
 * process and stopped when the last one calls `stop()`.
 */
export async function getTestRedis(options: GetTestRedisOptions = {}): Promise<TestRedis> {
  const url = (options.env ?? process.env).REDIS_URL;
  if (url !== undefined && url !== '') {
    await assertAnswers(url);
    return { url, stop: async () => {} };
  }
  if (shared === undefined) {
    const entry = { redis: startPrivateRedis({ binary: options.binary ?? DEFAULT_BINARY }), users: 0 };
    shared = entry;
    // A failed start must not poison later calls.
    entry.redis.catch(() => {
      if (shared === entry) shared = undefined;
    });
  }
  const entry = shared;
  const redis = await entry.redis;
  entry.users += 1;
  let released = false;
  return {
    url: redis.url,
    stop: async () => {
      if (released) return;
      released = true;
      entry.users -= 1;
      if (entry.users === 0) {
        if (shared === entry) shared = undefined;
        await redis.stop();
      }
    },
  };
}

/**
 * A `redis-server` of the caller's own, for tests that crash or restart Redis (never do that to the
 * shared one). Without a port, a free one is picked and a start that loses the port to another process
 * is retried on a new one.
 */
export async function startPrivateRedis(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  const binary = options.binary ?? DEFAULT_BINARY;
  const appendonly = options.appendonly ?? false;
  const startTimeoutMs = options.startTimeoutMs ?? 10_000;
  const ownDir = options.dir === undefined ? await makeTempDir('redis') : undefined;
  const dir = options.dir ?? ownDir!.path;
  if (ownDir !== undefined) trackDir(ownDir.path);
  const removeOwnDir = async (): Promise<void> => {
    if (ownDir === undefined) return;
    untrackDir(ownDir.path);
    await ownDir.cleanup();
  };

  let port = options.port ?? (await freePort());
  let child: ChildProcess | undefined;
  for (let attempt = 1; ; attempt += 1) {
    try {
      child = await launch({ binary, port, dir, appendonly, startTimeoutMs });
      break;
    } catch (error) {
      const portTaken = error instanceof RedisStartError && error.portInUse;
      if (options.port !== undefined || !portTaken || attempt >= 3) {
        await removeOwnDir();
        throw error;
      }
      port = await freePort();
    }
  }

  let current: ChildProcess | undefined = child;
  let stopped = false;
  const finalPort = port;

  const terminate = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = current;
    current = undefined;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill(signal);
    await exited;
  };

  return {
    url: `redis://127.0.0.1:${finalPort}`,
    port: finalPort,
    dir,
    get running() {
      return current !== undefined && current.exitCode === null && current.signalCode === null;
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await terminate('SIGTERM');
      await removeOwnDir();
    },
    kill: () => terminate('SIGKILL'),
    restart: async () => {
      if (stopped) throw new Error('startPrivateRedis: restart() after stop()');
      await terminate('SIGKILL');
      current = await launch({ binary, port: finalPort, dir, appendonly, startTimeoutMs });
    },
  };
}

class RedisStartError extends Error {
  constructor(
    message: string,
    readonly portInUse: boolean,
  ) {
    super(message);
    this.name = 'RedisStartError';
  }
}

interface LaunchOptions {
  binary: string;
  port: number;
  dir: string;
  appendonly: boolean;
  startTimeoutMs: number;
}

async function launch(options: LaunchOptions): Promise<ChildProcess> {
  const args = [
    '--port',
    String(options.port),
    '--bind',
    '127.0.0.1',
    '--dir',
    options.dir,
    '--save',
    '',
    '--appendonly',
    options.appendonly ? 'yes' : 'no',
    '--daemonize',
    'no',
    '--loglevel',
    'warning',
  ];
  const child = spawn(options.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child);
  // Read for as long as it runs (an unread pipe would eventually block it); the tail explains failures.
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'ENOENT'
          ? new RedisStartError(
              `${options.binary} was not found on PATH: install Redis (e.g. apt-get install redis-server) or set REDIS_URL`,
              false,
            )
          : new RedisStartError(`could not start ${options.binary}: ${error.message}`, false),
      );
    });
    child.once('exit', (code, signal) => {
      reject(
        new RedisStartError(
          `${options.binary} on port ${options.port} exited before answering PING (code ${code}, signal ${signal}): ${output.trim()}`,
          /address already in use/i.test(output),
        ),
      );
    });
  });
  failed.catch(() => {});

  const deadline = Date.now() + options.startTimeoutMs;
  const ready = (async () => {
    while (!(await pings(options.port))) {
      if (Date.now() > deadline) {
        throw new RedisStartError(
          `${options.binary} on port ${options.port} did not answer PING within ${options.startTimeoutMs} ms: ${output.trim()}`,
          false,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();

  try {
    await Promise.race([ready, failed]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return child;
}

/** True when a Redis on 127.0.0.1:`port` answers PING with PONG (not while it is still loading its AOF). */
function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

async function assertAnswers(url: string): Promise<void> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // ioredis reports connection errors as events too; the awaited call below carries them.
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    throw new Error(`REDIS_URL (${redactUrl(url)}) does not answer PING: ${(error as Error).message}`, {
      cause: error,
    });
  } finally {
    client.disconnect();
  }
}

/** The URL with any password replaced, fit for an error message. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparsable URL>';
  }
}
