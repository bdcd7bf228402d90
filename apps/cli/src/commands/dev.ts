/**
 * `quire dev`: the workers (and the gateway with `--gateway`) as one process tree on the embedded
 * defaults, their log lines prefixed with the service name. Ctrl-C (or SIGTERM) stops them all
 * gracefully; if one dies, the others are stopped too; if the CLI's launcher (`pnpm`) is killed,
 * or the CLI itself, the services stop as well.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { QUEUES } from '@quire/jobs';
import { Queue } from 'bullmq';
import { assertRedisAnswers } from '../backend/redis.js';
import type { CommandContext } from '../context.js';
import type { Colors } from '../io.js';
import { watchLaunchers } from '../launcher-watch.js';
import {
  type OutputLine,
  type RunningService,
  type ServiceName,
  serviceSpec,
  startServices,
} from '../processes.js';
import { redactUrl } from '../redact.js';

export interface DevCommandOptions {
  /** Also start the gateway. */
  gateway: boolean;
  /** Shared roots for path sources; default QUIRE_FILE_ROOTS, else the working directory. */
  roots: string[];
  /** How long the services get to finish in-flight jobs on stop, in ms. */
  graceMs: number;
}

export async function runDev(ctx: CommandContext, options: DevCommandOptions): Promise<number> {
  const config = ctx.config();
  await assertRedisAnswers(config.redisUrl, 3_000);
  const c = ctx.term.colors;
  const consumers = await countConsumers(config.redisUrl, config.queuePrefix);
  if (consumers > 0) {
    ctx.term.stderr.write(
      `${c.yellow('warning:')} ${sharedPrefixWarning(consumers, config.queuePrefix, ctx.cwd)}\n`,
    );
  }
  const names: ServiceName[] = ['ingest', 'query', ...(options.gateway ? (['gateway'] as const) : [])];
  const specs = names.map(serviceSpec);
  const roots =
    options.roots.length > 0 ? options.roots : ctx.fileRoots.length > 0 ? ctx.fileRoots : [ctx.cwd];
  const vars = ctx.configVars();
  const dataDir = resolve(ctx.cwd, vars.QUIRE_DATA_DIR ?? '.quire');
  const gateway = options.gateway ? await gatewaySettings(vars, dataDir, ctx.tenant) : undefined;
  if (gateway?.portNote) ctx.term.stderr.write(`${c.yellow('note:')} ${gateway.portNote}\n`);
  const allRoots = gateway ? [...roots, gateway.uploadDir] : roots;
  const env = {
    ...vars,
    ...(gateway?.env ?? {}),
    QUIRE_FILE_ROOTS: allRoots.join(','),
    LOG_FORMAT: vars.LOG_FORMAT ?? 'pretty',
  };
  const print = linePrinter(ctx, names);
  const services: RunningService[] = [];
  try {
    await startServices(specs, { env, cwd: ctx.cwd, onLine: print }, services);

    const lines = [
      '',
      `${c.bold('Quire is running')} (${names.join(', ')}) on ${redactUrl(config.redisUrl)}, queue prefix ${config.queuePrefix}`,
      `  processes: ${services.map((s) => `${s.name} ${s.pid}`).join(', ')} (launcher ${process.pid})`,
      `  store: ${config.store.kind === 'sqlite' ? config.store.path : config.store.url} · models: ${config.models.kind}`,
      `  the workers read files under ${roots.join(', ')} in place: \`export QUIRE_FILE_ROOTS=${roots.join(',')}\` lets \`quire ingest\` send paths instead of uploading`,
    ];
    const gatewayService = services.find((s) => s.name === 'gateway');
    if (gateway && gatewayService) {
      const url = await gatewayUrl(gatewayService, gateway.port, gateway.host);
      lines.push(`  gateway: ${url}  ·  console: ${url}/console  ·  API docs: ${url}/docs`);
      if (gateway.keyFile !== null) {
        lines.push(
          `  a development API key for tenant "${ctx.tenant}" is in ${gateway.keyFile}`,
          `  export QUIRE_URL=${url} QUIRE_API_KEY="$(cat ${shellQuote(gateway.keyFile)})"`,
        );
      }
    }
    lines.push(
      '  try: quire ingest <files> --wait · quire ask "…" · quire status · Ctrl-C stops everything',
      '',
    );
    ctx.term.stdout.write(`${lines.join('\n')}\n`);

    const firstExit = Promise.race(services.map((s) => s.exited.then((exit) => ({ service: s, exit }))));
    const interrupted = new Promise<'signal'>((resolve) => {
      if (ctx.signal.aborted) resolve('signal');
      ctx.signal.addEventListener('abort', () => resolve('signal'), { once: true });
    });
    let stopWatching = () => {};
    const orphaned = new Promise<'orphaned'>((resolve) => {
      stopWatching = watchLaunchers(() => resolve('orphaned'));
    });
    const ended = await Promise.race([firstExit, interrupted, orphaned]);
    stopWatching();
    if (ended === 'orphaned') {
      ctx.term.stderr.write('\nThe process that started quire dev is gone; stopping…\n');
      return 0;
    }
    if (ended === 'signal' || ctx.signal.aborted) {
      ctx.term.stdout.write('\nStopping…\n');
      return 0;
    }
    // A service ends cleanly (code 0) only when told to, e.g. signalled by hand: stop the rest too.
    if (ended.exit.code === 0) {
      ctx.term.stdout.write(`\nThe ${ended.service.name} service stopped; stopping the others…\n`);
      return 0;
    }
    ctx.term.stderr.write(
      `\n${c.red('error:')} the ${ended.service.name} service exited (code ${ended.exit.code}, signal ${ended.exit.signal}); stopping the others\n`,
    );
    return 1;
  } finally {
    const exits = await Promise.all(services.map((s) => s.stop(options.graceMs)));
    // How each service ended, so a stop that needed SIGKILL or failed is seen.
    services.forEach((service, i) => {
      const exit = exits[i];
      const how = exit?.signal ? `signal ${exit.signal}` : `exit code ${exit?.code ?? 'unknown'}`;
      ctx.term.stdout.write(`${service.name} stopped (${how})\n`);
    });
  }
}

interface GatewaySettings {
  env: Record<string, string>;
  host: string;
  /** The port asked for; 0 means "any free port", read back from the gateway's ready line. */
  port: number;
  /** Said when the default port was taken and another one is used. */
  portNote: string | null;
  uploadDir: string;
  /** Where a generated development key was written; null when QUIRE_API_KEYS was given. */
  keyFile: string | null;
}

/**
 * What the gateway needs in development: loopback only, an upload directory the ingest worker may
 * read, and an API key. Without QUIRE_API_KEYS a key is generated for the current tenant and
 * written to a file readable only by the user (never printed: it is a secret like any other).
 */
async function gatewaySettings(
  vars: Readonly<Record<string, string | undefined>>,
  dataDir: string,
  tenant: string,
): Promise<GatewaySettings> {
  const uploadDir = vars.GATEWAY_UPLOAD_DIR ?? join(dataDir, 'uploads');
  await mkdir(uploadDir, { recursive: true });
  const host = vars.HOST ?? '127.0.0.1';
  let port = DEFAULT_PORT;
  let portNote: string | null = null;
  if (vars.PORT !== undefined && vars.PORT.trim() !== '') {
    port = Number(vars.PORT);
  } else if (!(await portIsFree(host, DEFAULT_PORT))) {
    port = await freePort(host);
    portNote = `port ${DEFAULT_PORT} is taken (another gateway?); this gateway listens on ${port}. Set PORT to choose one.`;
  }
  const env: Record<string, string> = { HOST: host, PORT: String(port), GATEWAY_UPLOAD_DIR: uploadDir };
  const settings = { env, host, port: Number.isInteger(port) ? port : 0, portNote, uploadDir };
  if (vars.QUIRE_API_KEYS !== undefined && vars.QUIRE_API_KEYS.trim() !== '') {
    return { ...settings, keyFile: null };
  }
  const keyFile = join(dataDir, 'dev-api-key');
  const key = await readFile(keyFile, 'utf8')
    .then((text) => text.trim())
    .catch(() => '');
  const devKey = key !== '' ? key : `quire-dev-${randomBytes(24).toString('base64url')}`;
  if (key === '') {
    await mkdir(dirname(keyFile), { recursive: true });
    await writeFile(keyFile, `${devKey}\n`, { mode: 0o600 });
  }
  env.QUIRE_API_KEYS = `${tenant}:${createHash('sha256').update(devKey, 'utf8').digest('hex')}`;
  return { ...settings, keyFile };
}

/** The gateway's port when PORT is not set. */
export const DEFAULT_PORT = 8080;

/** The `http://host:port` the gateway's ready line names. */
export function gatewayAddress(line: string): string | null {
  return /(https?:\/\/[^\s"',}]+)/.exec(line)?.[1] ?? null;
}

/**
 * The URL to reach the gateway by: its own address when its log gives one (any-port starts), else
 * the host and port it was given; an any-address host (0.0.0.0, ::) is reached on loopback.
 */
export function reachableUrl(address: string | null, host: string, port: number): string {
  const url = new URL(address ?? `http://${host.includes(':') ? `[${host}]` : host}:${port}`);
  if (url.hostname === '0.0.0.0') url.hostname = '127.0.0.1';
  if (url.hostname === '[::]') url.hostname = '[::1]';
  return url.origin;
}

async function gatewayUrl(service: RunningService, port: number, host: string): Promise<string> {
  const address = [service.readyLine, ...service.tail()].map(gatewayAddress).find((a) => a !== null) ?? null;
  return reachableUrl(port === 0 ? address : null, host, port);
}

function portIsFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Workers consuming the ingest and query queues under `prefix` on this Redis (BullMQ names each
 * worker's connection after its queue). 0 when Redis does not allow CLIENT LIST.
 */
async function countConsumers(redisUrl: string, prefix: string): Promise<number> {
  let total = 0;
  for (const name of [QUEUES.ingest, QUEUES.query]) {
    const queue = new Queue(name, { connection: { url: redisUrl, maxRetriesPerRequest: 1 }, prefix });
    try {
      total += await queue.getWorkersCount();
    } catch {
      // Managed Redis may refuse CLIENT LIST: nothing to warn about then.
    } finally {
      await queue.close().catch(() => undefined);
    }
  }
  return total;
}

/** A queue prefix of this checkout's own, to suggest when the default one is shared. */
export function checkoutPrefix(cwd: string): string {
  const name = (cwd.split(/[\\/]/).filter(Boolean).at(-1) ?? 'quire')
    .replace(/[^A-Za-z0-9_-]/g, '')
    .slice(0, 24);
  const hash = createHash('sha256').update(cwd).digest('hex').slice(0, 6);
  return `{quire-${name || 'dev'}-${hash}}`;
}

export function sharedPrefixWarning(consumers: number, prefix: string, cwd: string): string {
  const suggestion = checkoutPrefix(cwd);
  return [
    `${consumers} worker${consumers === 1 ? '' : 's'} already consume${consumers === 1 ? 's' : ''} queue prefix ${prefix} on this Redis (another \`quire dev\`, or a deployment).`,
    '  Jobs sent under this prefix go to whichever worker takes them first, theirs or these.',
    `  To keep yours apart, give every quire command of this checkout its own prefix, e.g. export QUIRE_QUEUE_PREFIX='${suggestion}' (or --prefix '${suggestion}').`,
  ].join('\n');
}

function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}

function linePrinter(ctx: CommandContext, names: readonly ServiceName[]): (line: OutputLine) => void {
  const width = Math.max(...names.map((n) => n.length));
  const c = ctx.term.colors;
  const paint: Record<ServiceName, Colors['cyan']> = { ingest: c.cyan, query: c.magenta, gateway: c.yellow };
  return (line) => {
    const prefix = paint[line.service](`${line.service.padEnd(width)} │`);
    (line.stream === 'stderr' ? ctx.term.stderr : ctx.term.stdout).write(`${prefix} ${line.text}\n`);
  };
}
