/**
 * What every command runs with: the settings (environment, then flags on top), the terminal, and a
 * way to open the backend the flags ask for.
 */
import { resolve } from 'node:path';
import { TenantSchema } from '@quire/contracts';
// The config module alone, and each backend when it is opened: a command loads what it uses.
import { parseQuireEnv, type QuireConfig } from '@quire/core/config';
import type { Backend } from './backend/types.js';
import type { CliEnv } from './env.js';
import { CliError } from './errors.js';
import type { Terminal } from './io.js';
import { resolveRoots } from './sources.js';

/** Options every command accepts. */
export interface GlobalOptions {
  /** Gateway base URL; selects the gateway backend. */
  url?: string;
  apiKey?: string;
  redisUrl?: string;
  prefix?: string;
  tenant?: string;
  dataDir?: string;
}

export interface CommandContext {
  env: CliEnv;
  term: Terminal;
  cwd: string;
  /** Aborted on SIGINT/SIGTERM. */
  signal: AbortSignal;
  tenant: string;
  /** Shared roots, absolute. */
  fileRoots: string[];
  /** Quire's shared settings (REDIS_URL, QUIRE_QUEUE_PREFIX, QUIRE_DATA_DIR …) with the flags applied. */
  config(): QuireConfig;
  /** The variables `config()` reads, with the flags applied; handed to the processes `quire dev` starts. */
  configVars(): Record<string, string | undefined>;
  /** Opens the backend the flags and environment select: a gateway with `--url`, else Redis. */
  openBackend(): Promise<Backend>;
}

export interface ContextOptions {
  env: CliEnv;
  term: Terminal;
  cwd: string;
  signal: AbortSignal;
  globals: GlobalOptions;
}

export function createContext(options: ContextOptions): CommandContext {
  const { env, globals, cwd } = options;
  const tenantText = globals.tenant ?? env.tenant;
  const tenant = TenantSchema.safeParse(tenantText);
  if (!tenant.success) {
    const from = globals.tenant !== undefined ? '--tenant' : 'QUIRE_TENANT';
    throw new CliError(`${from}: ${tenant.error.issues[0]?.message ?? 'invalid tenant'}`, 2);
  }

  const configVars = (): Record<string, string | undefined> => ({
    ...env.vars,
    ...(globals.redisUrl !== undefined ? { REDIS_URL: globals.redisUrl } : {}),
    ...(globals.prefix !== undefined ? { QUIRE_QUEUE_PREFIX: globals.prefix } : {}),
    ...(globals.dataDir !== undefined ? { QUIRE_DATA_DIR: globals.dataDir } : {}),
  });
  let config: QuireConfig | undefined;
  const getConfig = (): QuireConfig => {
    config ??= parseQuireEnv(configVars(), cwd);
    return config;
  };

  const gatewayUrl = globals.url ?? env.gatewayUrl;
  return {
    env,
    term: options.term,
    cwd,
    signal: options.signal,
    tenant: tenant.data,
    fileRoots: env.fileRoots.map((root) => resolve(cwd, root)),
    config: getConfig,
    configVars,
    openBackend: async () => {
      if (gatewayUrl !== undefined) {
        if (!URL.canParse(gatewayUrl)) throw new CliError('--url is not a valid absolute URL', 2);
        return (await import('./backend/gateway.js')).openGatewayBackend({
          baseUrl: gatewayUrl,
          apiKey: globals.apiKey ?? env.apiKey,
        });
      }
      return (await import('./backend/redis.js')).openRedisBackend({
        config: getConfig(),
        roots: await resolveRoots(env.fileRoots.map((root) => resolve(cwd, root))),
        inlineMaxBytes: env.inlineMaxBytes,
      });
    },
  };
}

/** Runs `use` with an open backend and always closes it. */
export async function withBackend<T>(ctx: CommandContext, use: (backend: Backend) => Promise<T>): Promise<T> {
  const backend = await ctx.openBackend();
  try {
    return await use(backend);
  } finally {
    await backend.close();
  }
}

/** `tenant acme`, or the API key's tenant when a gateway decides it. */
export function tenantLabel(ctx: CommandContext, backend: Backend): string {
  return backend.tenantFromKey ? "the API key's tenant" : `tenant ${ctx.tenant}`;
}
