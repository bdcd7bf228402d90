/** Reading infra/compose.yaml: services, the image command each runs, and its environment. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Env } from './apps.js';
import { readEnvFile } from './env-file.js';
import { INFRA, isRecord, type Json, list, optionalList, readYaml, record, scalar, text } from './files.js';
import { ENTRYPOINT_IN_IMAGE, imageEnv } from './image.js';

export const COMPOSE_FILE = join(INFRA, 'compose.yaml');

export function readCompose(): Json {
  return record(readYaml(COMPOSE_FILE), 'compose.yaml');
}

export function services(compose: Json = readCompose()): Map<string, Json> {
  return new Map(
    Object.entries(record(compose.services, 'services')).map(([name, spec]) => [name, record(spec, name)]),
  );
}

/** Services built from infra/Dockerfile, i.e. running the Quire image. */
export function quireServices(compose: Json = readCompose()): Map<string, Json> {
  return new Map(
    [...services(compose)].filter(([, spec]) => {
      const build = spec.build;
      return isRecord(build) && build.dockerfile === 'infra/Dockerfile';
    }),
  );
}

/** The image command a Quire service runs: after an overridden entry point, or its `command`. */
export function imageCommand(name: string, spec: Json): string {
  if (spec.entrypoint !== undefined) {
    const entrypoint = list(spec.entrypoint, `${name}.entrypoint`).map((p, i) =>
      text(p, `${name}.entrypoint[${i}]`),
    );
    const script = entrypoint.indexOf(ENTRYPOINT_IN_IMAGE);
    if (script < 0) throw new Error(`${name}: the entry point must still run ${ENTRYPOINT_IN_IMAGE}`);
    return text(entrypoint[script + 1], `${name}: command after ${ENTRYPOINT_IN_IMAGE}`);
  }
  return text(list(spec.command, `${name}.command`)[0], `${name}.command[0]`);
}

export interface EnvFileRef {
  path: string;
  required: boolean;
}

export function envFiles(name: string, spec: Json): EnvFileRef[] {
  return optionalList(spec.env_file, `${name}.env_file`).map((entry, i) => {
    if (typeof entry === 'string') return { path: join(INFRA, entry), required: true };
    const ref = record(entry, `${name}.env_file[${i}]`);
    return {
      path: join(INFRA, text(ref.path, `${name}.env_file[${i}].path`)),
      required: ref.required !== false,
    };
  });
}

/**
 * What the service's container gets: the image's ENV, then its env files in order, then
 * `environment`. Optional env files are read from their `.example` when `withExamples` (a user
 * who copied them unchanged) and skipped otherwise (a fresh checkout).
 */
export function serviceEnv(name: string, spec: Json, options: { withExamples: boolean }): Env {
  const env: Env = { ...imageEnv() };
  for (const ref of envFiles(name, spec)) {
    const path = ref.required ? ref.path : `${ref.path}.example`;
    if (!ref.required && !options.withExamples) continue;
    if (!existsSync(path)) throw new Error(`${name}: env file ${path} does not exist`);
    for (const [key, value] of readEnvFile(path).values) env[key] = value;
  }
  const environment = spec.environment;
  if (Array.isArray(environment)) throw new Error(`${name}.environment: use the mapping form`);
  for (const [key, value] of Object.entries(record(environment ?? {}, `${name}.environment`))) {
    env[key] = scalar(value, `${name}.environment.${key}`);
  }
  return env;
}

/** Compose durations such as `40s`, `1m30s`, `500ms`, in milliseconds. */
export function durationMs(value: string): number {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001 };
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== value) {
    throw new Error(`not a compose duration: ${value}`);
  }
  return parts.reduce(
    (total, [, amount = '0', unit = 's']) => total + Number(amount) * (units[unit] ?? 0),
    0,
  );
}
