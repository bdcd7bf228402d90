/**
 * `quire dev`: the workers (and the gateway with `--gateway`) as one process tree on the embedded
 * defaults, their log lines prefixed with the service name. Ctrl-C (or SIGTERM) stops them all
 * gracefully; if one dies, the others are stopped too.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { assertRedisAnswers } from '../backend/redis.js';
import type { CommandContext } from '../context.js';
import type { Colors } from '../io.js';
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
  const names: ServiceName[] = ['ingest', 'query', ...(options.gateway ? (['gateway'] as const) : [])];
  const specs = names.map(serviceSpec);
  const roots =
    options.roots.length > 0 ? options.roots : ctx.fileRoots.length > 0 ? ctx.fileRoots : [ctx.cwd];
  const vars = ctx.configVars();
  const dataDir = resolve(ctx.cwd, vars.QUIRE_DATA_DIR ?? '.quire');
  const gateway = options.gateway ? await gatewaySettings(vars, dataDir, ctx.tenant) : undefined;
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

    const c = ctx.term.colors;
    const lines = [
      '',
      `${c.bold('Quire is running')} (${names.join(', ')}) on ${redactUrl(config.redisUrl)}, queue prefix ${config.queuePrefix}`,
      `  store: ${config.store.kind === 'sqlite' ? config.store.path : config.store.url} · models: ${config.models.kind}`,
      `  the workers read files under ${roots.join(', ')} in place: \`export QUIRE_FILE_ROOTS=${roots.join(',')}\` lets \`quire ingest\` send paths instead of uploading`,
    ];
    const gatewayService = services.find((s) => s.name === 'gateway');
    if (gateway && gatewayService) {
      const url = gatewayAddress(gatewayService.readyLine);
      lines.push(`  gateway: ${url ?? '(address in its log above)'}`);
      if (gateway.keyFile !== null) {
        lines.push(
          `  a development API key for tenant "${ctx.tenant}" is in ${gateway.keyFile}: export QUIRE_URL=${url ?? '<gateway URL>'} QUIRE_API_KEY=$(cat ${gateway.keyFile})`,
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
    const ended = await Promise.race([firstExit, interrupted]);
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
    await Promise.all(services.map((s) => s.stop(options.graceMs)));
  }
}

interface GatewaySettings {
  env: Record<string, string>;
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
  const env: Record<string, string> = {
    HOST: vars.HOST ?? '127.0.0.1',
    PORT: vars.PORT ?? '8080',
    GATEWAY_UPLOAD_DIR: uploadDir,
  };
  if (vars.QUIRE_API_KEYS !== undefined && vars.QUIRE_API_KEYS.trim() !== '') {
    return { env, uploadDir, keyFile: null };
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
  return { env, uploadDir, keyFile };
}

/** The `http://host:port` the gateway's ready line names. */
export function gatewayAddress(line: string): string | null {
  return /(https?:\/\/[^\s"',}]+)/.exec(line)?.[1] ?? null;
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
