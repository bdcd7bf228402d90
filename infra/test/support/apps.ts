/**
 * What each app reads from its environment, taken from the apps themselves: Quire's shared schema
 * (`QuireEnvSchema`), each app's `src/env.ts` (its `loadEnv`, and its own schema when the module
 * exports it) and, for workers, the queues its `main.ts` consumes. The deployment files are checked
 * against these, so a renamed or new setting shows up here without editing the tests.
 */
import { join } from 'node:path';
import { parseQuireEnv, QuireEnvSchema } from '@quire/core';
import { QUEUES } from '@quire/jobs';
import { isRecord, type Json, REPO, readText } from './files.js';

export const APP_NAMES = ['ingest-worker', 'query-worker', 'gateway', 'cli'] as const;
export type AppName = (typeof APP_NAMES)[number];
export type Env = Record<string, string>;

/** Set by the image for Node itself (see infra/Dockerfile), read by no Quire schema. */
export const NODE_RUNTIME_VARS: ReadonlySet<string> = new Set(['NODE_ENV', 'NODE_OPTIONS']);

/** The parts of an app's parsed configuration that deployment files must agree with. */
export interface ParsedEnv {
  queuePrefix: string;
  redisUrl: string;
  store: 'sqlite' | 'qdrant';
  shutdownGraceMs: number | undefined;
  metricsPort: number | undefined;
  port: number | undefined;
}

export interface AppContract {
  name: AppName;
  /** Every variable the app reads. */
  keys: ReadonlySet<string>;
  /** Where the app's own keys came from: its exported schema, or its env module's source. */
  keySource: 'schema' | 'source';
  /** Parses `env` as the app does at start-up; throws its ConfigError on a wrong or missing value. */
  parse(env: Env): ParsedEnv;
  /** Queues the app's workers consume (empty for the gateway and the CLI). */
  queues: string[];
}

function appFile(name: AppName, file: string): string {
  return join(REPO, 'apps', name, 'src', file);
}

/** Keys of exported zod object schemas named `…EnvSchema`. */
function exportedSchemaKeys(module: Json): string[] {
  return Object.entries(module).flatMap(([name, value]) =>
    name.endsWith('EnvSchema') && isRecord(value) && isRecord(value.shape) ? Object.keys(value.shape) : [],
  );
}

/** Keys of `const …EnvSchema = z.object({ … })` in the module's source (top-level keys only). */
function sourceSchemaKeys(source: string, file: string): string[] {
  const block = /const \w+EnvSchema = z\.object\(\{\n([\s\S]*?)\n\}\);/.exec(source)?.[1];
  if (block === undefined) throw new Error(`${file}: no \`const …EnvSchema = z.object({…})\` found`);
  return [...block.matchAll(/^ {2}([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1] ?? '');
}

function optionalNumber(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

async function loadApp(name: AppName): Promise<AppContract> {
  const file = appFile(name, 'env.ts');
  const module: unknown = await import(file);
  if (!isRecord(module) || typeof module.loadEnv !== 'function') {
    throw new Error(`${file}: expected an exported loadEnv()`);
  }
  const loadEnv = module.loadEnv as (env: Env) => unknown;
  const exported = exportedSchemaKeys(module);
  const own = exported.length > 0 ? exported : sourceSchemaKeys(readText(file), file);
  const keys = new Set([...Object.keys(QuireEnvSchema.shape), ...own]);

  const parse = (env: Env): ParsedEnv => {
    const loaded = loadEnv(env);
    if (!isRecord(loaded)) throw new Error(`${name}: loadEnv() returned ${typeof loaded}`);
    // The CLI parses Quire's shared settings only when a command needs them; do it here too.
    const config = parseQuireEnv(env);
    return {
      queuePrefix: config.queuePrefix,
      redisUrl: config.redisUrl,
      store: config.store.kind,
      shutdownGraceMs: optionalNumber(loaded.shutdownGraceMs),
      metricsPort: optionalNumber(loaded.metricsPort),
      port: optionalNumber(loaded.port),
    };
  };

  const main = readText(appFile(name, 'main.ts'));
  const queueNames: Record<string, string> = QUEUES;
  const queues = [...main.matchAll(/new Worker\(\s*QUEUES\.(\w+)/g)].map((m) => {
    const queue = queueNames[m[1] ?? ''];
    if (queue === undefined) throw new Error(`${name}: main.ts consumes an unknown queue QUEUES.${m[1]}`);
    return queue;
  });

  return { name, keys, keySource: exported.length > 0 ? 'schema' : 'source', parse, queues };
}

let loaded: Promise<Map<AppName, AppContract>> | undefined;

/** Every app's contract, loaded once per test file. */
export function loadApps(): Promise<Map<AppName, AppContract>> {
  loaded ??= Promise.all(APP_NAMES.map(loadApp)).then((apps) => new Map(apps.map((a) => [a.name, a])));
  return loaded;
}

export function isAppName(value: string): value is AppName {
  return (APP_NAMES as readonly string[]).includes(value);
}
