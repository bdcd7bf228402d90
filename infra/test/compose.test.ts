/**
 * infra/compose.yaml against the apps and the image: every Quire service's environment parses as
 * the app parses it at start-up (with and without the example env files), sets nothing the app
 * does not read, and agrees with the others on Redis and the queue prefix; grace periods outlast
 * the apps' own shutdown deadlines; Redis keeps its data (AOF) and never evicts; nothing runs as
 * root.
 */

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseMemoryBudgetMb, parseQuireEnv } from '@quire/core';
import { describe, expect, it } from 'vitest';
import { type AppName, isAppName, loadApps, NODE_RUNTIME_VARS } from './support/apps.js';
import {
  durationMs,
  envFiles,
  imageCommand,
  quireServices,
  readCompose,
  serviceEnv,
  services,
} from './support/compose.js';
import { readEnvFile } from './support/env-file.js';
import {
  INFRA,
  type Json,
  list,
  optionalList,
  REPO,
  readYaml,
  record,
  scalar,
  text,
} from './support/files.js';
import { imageCommands, readDockerfile } from './support/image.js';

const apps = await loadApps();
const compose = readCompose();
const all = services(compose);
const quire = quireServices(compose);
const commands = imageCommands();

function appOf(name: string, spec: Json): AppName {
  const command = imageCommand(name, spec);
  const app = commands.get(command)?.app;
  if (!app || !isAppName(app)) throw new Error(`${name}: ${command} is not an image command`);
  return app;
}

function contract(app: AppName) {
  const found = apps.get(app);
  if (!found) throw new Error(`no contract for ${app}`);
  return found;
}

interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
}

function mounts(name: string, spec: Json): Mount[] {
  return optionalList(spec.volumes, `${name}.volumes`).map((v, i) => {
    const match = /^(\$\{[^}]+\}|[^:]+):([^:]+)(?::(ro|rw))?$/.exec(text(v, `${name}.volumes[${i}]`));
    if (!match) throw new Error(`${name}.volumes[${i}]: unexpected form ${String(v)}`);
    return { source: match[1] ?? '', target: match[2] ?? '', readOnly: match[3] === 'ro' };
  });
}

function healthcheckCommand(name: string, spec: Json): string {
  const test = list(record(spec.healthcheck, `${name}.healthcheck`).test, `${name}.healthcheck.test`);
  return test.map((part, i) => scalar(part, `${name}.healthcheck.test[${i}]`)).join(' ');
}

const scenarios = [
  { label: 'a fresh checkout (no env files)', withExamples: false },
  { label: 'the example env files copied', withExamples: true },
];

describe('Quire services', () => {
  it('are the ones expected, each running a command of the image', () => {
    expect([...quire.keys()].sort()).toEqual(['cli', 'gateway', 'ingest-worker', 'query-worker']);
    for (const [name, spec] of quire) expect(appOf(name, spec)).toBe(name);
  });

  it('build the Dockerfile stage that exists, from the repository root', () => {
    const stages = readDockerfile().stages.map((s) => s.name);
    for (const [name, spec] of quire) {
      const build = record(spec.build, `${name}.build`);
      expect(join(INFRA, text(build.context, `${name}.build.context`))).toBe(REPO.replace(/\/$/, ''));
      expect(existsSync(join(REPO, text(build.dockerfile, `${name}.build.dockerfile`)))).toBe(true);
      expect(stages).toContain(build.target);
    }
  });

  for (const { label, withExamples } of scenarios) {
    it(`have an environment each app accepts at start-up, with ${label}`, () => {
      for (const [name, spec] of quire) {
        const env = serviceEnv(name, spec, { withExamples });
        expect(() => contract(appOf(name, spec)).parse(env), name).not.toThrow();
      }
    });

    it(`set only variables their app reads, with ${label} (catches typos and misplaced settings)`, () => {
      for (const [name, spec] of quire) {
        const { keys } = contract(appOf(name, spec));
        const unknown = Object.keys(serviceEnv(name, spec, { withExamples })).filter(
          (key) => !keys.has(key) && !NODE_RUNTIME_VARS.has(key),
        );
        expect(unknown, name).toEqual([]);
      }
    });
  }

  it('share one Redis, one queue prefix and Qdrant', () => {
    const parsed = [...quire].map(([name, spec]) =>
      contract(appOf(name, spec)).parse(serviceEnv(name, spec, { withExamples: false })),
    );
    expect(new Set(parsed.map((p) => p.redisUrl)).size).toBe(1);
    expect(new Set(parsed.map((p) => p.queuePrefix)).size).toBe(1);
    expect(parsed.every((p) => p.store === 'qdrant')).toBe(true);
  });

  it('get a stop grace period at least 5 s longer than their shutdown deadline', () => {
    for (const [name, spec] of quire) {
      const { shutdownGraceMs } = contract(appOf(name, spec)).parse(
        serviceEnv(name, spec, { withExamples: true }),
      );
      if (shutdownGraceMs === undefined) continue;
      const stop = durationMs(text(spec.stop_grace_period, `${name}.stop_grace_period`));
      expect(stop, name).toBeGreaterThanOrEqual(shutdownGraceMs + 5000);
    }
  });

  it('run two ingest workers and two query workers', () => {
    for (const name of ['ingest-worker', 'query-worker']) {
      expect(record(all.get(name)?.deploy, `${name}.deploy`).replicas).toBe(2);
    }
  });

  it("check workers' /healthz on METRICS_PORT and the gateway's /readyz on PORT", () => {
    for (const [name, spec] of quire) {
      if (record(spec, name).profiles !== undefined) continue;
      const parsed = contract(appOf(name, spec)).parse(serviceEnv(name, spec, { withExamples: false }));
      const check = healthcheckCommand(name, spec);
      if (name === 'gateway') expect(check).toContain(`http://127.0.0.1:${parsed.port}/readyz`);
      else {
        expect(parsed.metricsPort, name).toBeGreaterThan(0);
        expect(check, name).toContain(`http://127.0.0.1:${parsed.metricsPort}/healthz`);
      }
    }
  });

  it("cap the ingest workers' memory above their parse sandbox (pool size × cap + the worker)", () => {
    const ingest = all.get('ingest-worker') ?? {};
    const limits = record(record(record(ingest.deploy, 'deploy').resources, 'resources').limits, 'limits');
    const match = /^(\d+)([mg])$/.exec(String(limits.memory));
    expect(match, 'deploy.resources.limits.memory like 2g').not.toBeNull();
    const limitMb = Number(match?.[1]) * (match?.[2] === 'g' ? 1024 : 1);
    const env = serviceEnv('ingest-worker', ingest, { withExamples: false });
    expect(limitMb).toBeGreaterThanOrEqual(parseMemoryBudgetMb(parseQuireEnv(env).parse));
  });

  it('wait for healthy Redis and Qdrant', () => {
    for (const name of ['ingest-worker', 'query-worker', 'gateway']) {
      const dependsOn = record(all.get(name)?.depends_on, `${name}.depends_on`);
      for (const dependency of ['redis', 'qdrant']) {
        expect(record(dependsOn[dependency], `${name} → ${dependency}`).condition).toBe('service_healthy');
      }
    }
  });

  it("run with a read-only root filesystem and the image's user (like the Kubernetes pods)", () => {
    for (const [name, spec] of quire) {
      expect(spec.read_only, name).toBe(true);
      expect(spec.tmpfs, name).toEqual(['/tmp']);
      expect(spec.user, name).toBeUndefined();
      expect(spec.cap_drop, name).toEqual(['ALL']);
    }
  });

  it("spool the gateway's large uploads where the ingest workers may read them", () => {
    const gateway = all.get('gateway') ?? {};
    const ingest = all.get('ingest-worker') ?? {};
    const dir = serviceEnv('gateway', gateway, { withExamples: false }).GATEWAY_UPLOAD_DIR ?? '';
    expect(dir).not.toBe('');
    const spool = mounts('gateway', gateway).find((m) => m.target === dir);
    expect(spool?.readOnly).toBe(false);
    const shared = mounts('ingest-worker', ingest).find((m) => m.target === dir);
    expect(shared?.source).toBe(spool?.source);
    const roots = serviceEnv('ingest-worker', ingest, { withExamples: false }).QUIRE_FILE_ROOTS ?? '';
    expect(roots.split(',')).toContain(dir);
  });
});

describe('env files', () => {
  const loaders = new Map<string, string[]>();
  for (const [name, spec] of quire) {
    for (const ref of envFiles(name, spec)) loaders.set(ref.path, [...(loaders.get(ref.path) ?? []), name]);
  }

  it('are optional and each has an example to copy', () => {
    for (const [name, spec] of quire) {
      for (const ref of envFiles(name, spec)) {
        expect(ref.required, `${name}: ${ref.path}`).toBe(false);
        expect(existsSync(`${ref.path}.example`), `${ref.path}.example`).toBe(true);
      }
    }
  });

  it('document only settings that every service loading them reads', () => {
    for (const [path, names] of loaders) {
      const example = readEnvFile(`${path}.example`);
      for (const key of [...example.values.keys(), ...example.documented]) {
        for (const name of names) {
          const { keys } = contract(appOf(name, all.get(name) ?? {}));
          expect(keys.has(key), `${key} in ${path}.example, loaded by ${name}`).toBe(true);
        }
      }
    }
  });
});

describe('Redis', () => {
  const redis = all.get('redis') ?? {};
  const command = list(redis.command, 'redis.command').map((c, i) => scalar(c, `redis.command[${i}]`));
  const option = (flag: string) => command[command.indexOf(flag) + 1];

  it('appends every write to its AOF and never evicts keys', () => {
    expect(command[0]).toBe('redis-server');
    expect(option('--appendonly')).toBe('yes');
    expect(option('--maxmemory-policy')).toBe('noeviction');
  });

  it('keeps its data in a named volume', () => {
    const data = mounts('redis', redis).find((m) => m.target === '/data');
    expect(Object.keys(record(compose.volumes, 'volumes'))).toContain(data?.source);
  });
});

describe('Qdrant', () => {
  const qdrant = all.get('qdrant') ?? {};

  it("is the server release of @quire/core's Qdrant client (same major, minor at most one apart)", () => {
    const lock = record(readYaml(join(REPO, 'pnpm-lock.yaml')), 'pnpm-lock.yaml');
    const core = record(record(lock.importers, 'importers')['packages/core'], 'packages/core');
    const client = text(
      record(record(core.dependencies, 'dependencies')['@qdrant/js-client-rest'], 'client').version,
      'version',
    );
    const [clientMajor, clientMinor] = client.split('.').map(Number);
    const tag = /^qdrant\/qdrant:v(\d+)\.(\d+)\.(\d+)(-unprivileged)?$/.exec(
      text(qdrant.image, 'qdrant.image'),
    );
    expect(tag).not.toBeNull();
    expect(Number(tag?.[1])).toBe(clientMajor);
    expect(Math.abs(Number(tag?.[2]) - (clientMinor ?? 0))).toBeLessThanOrEqual(1);
  });

  it('keeps its data in a named volume', () => {
    const storage = mounts('qdrant', qdrant).find((m) => m.target === '/qdrant/storage');
    expect(Object.keys(record(compose.volumes, 'volumes'))).toContain(storage?.source);
  });
});

describe('every service', () => {
  it('pins its image to a version', () => {
    for (const [name, spec] of all) {
      const image = text(spec.image, `${name}.image`);
      if (quire.has(name)) {
        expect(image).toMatch(/^\$\{QUIRE_IMAGE:-quire:[a-z0-9.-]+\}$/);
        continue;
      }
      expect(image, name).toMatch(/^[a-z0-9./-]+:v?\d+\.\d+\.\d+(-[a-z]+)?$/);
    }
  });

  it('runs as a non-root user', () => {
    for (const [name, spec] of all) {
      if (quire.has(name)) continue;
      const image = text(spec.image, `${name}.image`);
      if (image.endsWith('-unprivileged')) continue;
      expect(scalar(spec.user, `${name}.user`), name).toMatch(/^[1-9]\d*(:\d+)?$/);
    }
  });

  it('publishes ports on 127.0.0.1 only', () => {
    for (const [name, spec] of all) {
      for (const port of optionalList(spec.ports, `${name}.ports`)) {
        expect(scalar(port, `${name}.ports`), name).toMatch(/^127\.0\.0\.1:/);
      }
    }
  });

  it('uses only declared named volumes, and host paths that exist in the repository', () => {
    const declared = Object.keys(record(compose.volumes, 'volumes'));
    for (const [name, spec] of all) {
      for (const { source } of mounts(name, spec)) {
        const path = /^\$\{[A-Z_]+:-(.+)\}$/.exec(source)?.[1] ?? source;
        if (path.startsWith('.')) expect(existsSync(join(INFRA, path)), `${name}: ${path}`).toBe(true);
        else expect(declared, name).toContain(path);
      }
    }
  });

  it('keeps Prometheus and Grafana behind the observability profile and the CLI behind tools', () => {
    expect(all.get('prometheus')?.profiles).toEqual(['observability']);
    expect(all.get('grafana')?.profiles).toEqual(['observability']);
    expect(all.get('cli')?.profiles).toEqual(['tools']);
  });
});
