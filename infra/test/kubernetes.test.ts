/**
 * infra/kubernetes (kustomize base and the example overlay, KEDA) against the apps and the image:
 * references resolve, each Deployment's environment parses as its app parses it and sets nothing
 * it does not read, probes hit the ports the apps listen on, grace periods outlast the apps'
 * shutdown deadlines, pods run non-root with a read-only root filesystem, and each worker's
 * ScaledObject counts exactly the Redis keys of the queues it consumes, under the configured prefix.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseMemoryBudgetMb, parseQuireEnv } from '@quire/core';
import { QueueKeys } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { type AppContract, isAppName, loadApps, NODE_RUNTIME_VARS, type ParsedEnv } from './support/apps.js';
import { INFRA, type Json, list, listFiles, optionalList, record, shown, text } from './support/files.js';
import { imageCommands, imageEnv } from './support/image.js';
import {
  type Build,
  build,
  byName,
  type Container,
  containerEnv,
  deploymentContainers,
  kindAndName,
  ofKind,
  references,
} from './support/kustomize.js';

const BASE = join(INFRA, 'kubernetes', 'base');
const OVERLAY = join(INFRA, 'kubernetes', 'overlays', 'example');
/** States a worker has work in: BullMQ's `wait` and `active` lists and its `prioritized` sorted set. */
const COUNTED_STATES = ['wait', 'prioritized', 'active'] as const;

const apps = await loadApps();
const commands = imageCommands();

interface Workload {
  container: Container;
  app: AppContract;
  env: Record<string, string>;
  parsed: ParsedEnv;
}

function workloads(target: Build): Workload[] {
  return deploymentContainers(target).map((container) => {
    const args = list(container.spec.args, `${container.deployment} args`);
    const command = text(args[0], `${container.deployment} args[0]`);
    const appName = commands.get(command)?.app;
    const app = appName && isAppName(appName) ? apps.get(appName) : undefined;
    if (!app) throw new Error(`${container.deployment}: ${command} is not an image command`);
    const env = { ...imageEnv(), ...containerEnv(target, container) };
    return { container, app, env, parsed: app.parse(env) };
  });
}

function probe(container: Container, kind: string): { path: string; port: number } {
  const where = `${container.deployment} ${kind}`;
  const get = record(record(container.spec[kind], where).httpGet, `${where}.httpGet`);
  const port = get.port;
  const named = optionalList(container.spec.ports, `${container.deployment} ports`)
    .map((p, i) => record(p, `${container.deployment} ports[${i}]`))
    .find((p) => p.name === port);
  const number = typeof port === 'number' ? port : named?.containerPort;
  if (typeof number !== 'number') throw new Error(`${where}: port ${String(port)} is not declared`);
  return { path: text(get.path, `${where}.path`), port: number };
}

function preStopSeconds(container: Container): number {
  const preStop = record(container.spec.lifecycle ?? {}, 'lifecycle').preStop;
  if (preStop === undefined) return 0;
  const command = list(
    record(record(preStop, 'preStop').exec, 'preStop.exec').command,
    'preStop.exec.command',
  );
  return command[0] === 'sleep' ? Number(command[1]) : 0;
}

describe('kustomizations', () => {
  it('refer only to files and directories that exist', () => {
    for (const dir of [BASE, OVERLAY]) {
      for (const ref of references(dir)) {
        expect(existsSync(ref.path), `${ref.from} ${ref.field}: ${shown(ref.path)}`).toBe(true);
        if (ref.field === 'resources' && statSync(ref.path).isDirectory()) {
          expect(existsSync(join(ref.path, 'kustomization.yaml')), shown(ref.path)).toBe(true);
        }
      }
    }
  });

  it('build (patches apply to resources that exist, generators merge into existing ones)', () => {
    expect(() => build(BASE)).not.toThrow();
    expect(() => build(OVERLAY)).not.toThrow();
  });

  it('let the overlay set the image to a pinned registry tag', () => {
    const image = build(OVERLAY).images.get('quire');
    expect(image?.newName).toMatch(/^[a-z0-9.-]+(:\d+)?\/[a-z0-9./-]+$/);
    expect(image?.newTag).toMatch(/^\d+\.\d+\.\d+/);
    for (const { container } of workloads(build(OVERLAY))) expect(container.spec.image).toBe('quire');
  });
});

describe('the example overlay', () => {
  const overlay = build(OVERLAY);
  const running = workloads(overlay);

  it('runs each worker and the gateway with the right command', () => {
    expect(running.map((w) => `${w.container.deployment} ${w.app.name}`).sort()).toEqual([
      'Deployment/gateway gateway',
      'Deployment/ingest-worker ingest-worker',
      'Deployment/query-worker query-worker',
    ]);
  });

  it('gives every Deployment an environment its app accepts at start-up', () => {
    for (const { container, app, env } of running) {
      expect(() => app.parse(env), container.deployment).not.toThrow();
    }
  });

  it('sets only variables each app reads (catches typos and misplaced settings)', () => {
    for (const { container, app, env } of running) {
      const unknown = Object.keys(env).filter((key) => !app.keys.has(key) && !NODE_RUNTIME_VARS.has(key));
      expect(unknown, container.deployment).toEqual([]);
    }
  });

  it('uses Qdrant: pods share no disk, so the embedded SQLite store is not an option', () => {
    for (const { container, parsed } of running) expect(parsed.store, container.deployment).toBe('qdrant');
  });

  it('puts every Deployment on one Redis and one queue prefix', () => {
    expect(new Set(running.map((w) => w.parsed.redisUrl)).size).toBe(1);
    expect(new Set(running.map((w) => w.parsed.queuePrefix)).size).toBe(1);
  });

  it('keeps secrets out of the ConfigMaps', () => {
    const secretKeys = new Set(overlay.secrets.get('quire-secrets')?.keys());
    for (const [name, data] of overlay.configMaps) {
      for (const key of data.keys()) expect(secretKeys.has(key), `${key} in ConfigMap ${name}`).toBe(false);
      for (const key of data.keys())
        expect(key, `${key} in ConfigMap ${name}`).not.toMatch(/KEY|PASSWORD|SECRET/);
    }
  });
});

describe('Deployments', () => {
  const running = workloads(build(OVERLAY));

  it('give pods a termination grace period at least 5 s longer than preStop + SHUTDOWN_GRACE_MS', () => {
    for (const { container, parsed } of running) {
      const grace = container.pod.terminationGracePeriodSeconds;
      expect(typeof grace, container.deployment).toBe('number');
      const needed = preStopSeconds(container) * 1000 + (parsed.shutdownGraceMs ?? 0) + 5000;
      expect(Number(grace) * 1000, container.deployment).toBeGreaterThanOrEqual(needed);
    }
  });

  it("probe workers' /healthz on METRICS_PORT", () => {
    for (const { container, app, parsed } of running.filter((w) => w.app.queues.length > 0)) {
      expect(parsed.metricsPort, app.name).toBeGreaterThan(0);
      for (const kind of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
        expect(probe(container, kind), `${app.name} ${kind}`).toEqual({
          path: '/healthz',
          port: parsed.metricsPort,
        });
      }
    }
  });

  it("probe the gateway's /healthz (alive) and /readyz (Redis and store answer) on PORT", () => {
    const gateway = running.find((w) => w.app.name === 'gateway');
    const port = gateway?.parsed.port;
    expect(port).toBeGreaterThan(0);
    if (!gateway) return;
    expect(probe(gateway.container, 'startupProbe')).toEqual({ path: '/healthz', port });
    expect(probe(gateway.container, 'livenessProbe')).toEqual({ path: '/healthz', port });
    expect(probe(gateway.container, 'readinessProbe')).toEqual({ path: '/readyz', port });
  });

  it('run as a non-root user with a read-only root filesystem, no privilege escalation, no capabilities', () => {
    for (const { container } of running) {
      const pod = record(container.pod.securityContext, `${container.deployment} pod securityContext`);
      expect(pod.runAsNonRoot, container.deployment).toBe(true);
      expect(pod.runAsUser, container.deployment).toBeGreaterThan(0);
      const own = record(container.spec.securityContext, `${container.deployment} securityContext`);
      expect(own.readOnlyRootFilesystem, container.deployment).toBe(true);
      expect(own.allowPrivilegeEscalation, container.deployment).toBe(false);
      expect(record(own.capabilities, 'capabilities').drop).toEqual(['ALL']);
      expect(container.pod.automountServiceAccountToken, container.deployment).toBe(false);
    }
  });

  it("turn off service links, whose injected variables (GATEWAY_PORT=tcp://…) would collide with the apps' own", () => {
    for (const { container } of running)
      expect(container.pod.enableServiceLinks, container.deployment).toBe(false);
  });

  it('mount a writable /tmp (the root filesystem is read-only)', () => {
    for (const { container } of running) {
      const mount = optionalList(container.spec.volumeMounts, 'volumeMounts')
        .map((m) => record(m, 'volumeMount'))
        .find((m) => m.mountPath === '/tmp');
      const volume = optionalList(container.pod.volumes, 'volumes')
        .map((v) => record(v, 'volume'))
        .find((v) => v.name === mount?.name);
      expect(volume?.emptyDir, container.deployment).toBeDefined();
    }
  });

  it('request CPU and memory and cap memory', () => {
    for (const { container } of running) {
      const resources = record(container.spec.resources, `${container.deployment} resources`);
      const requests = record(resources.requests, 'requests');
      expect(requests.cpu, container.deployment).toBeDefined();
      expect(requests.memory, container.deployment).toBeDefined();
      expect(record(resources.limits, 'limits').memory, container.deployment).toBeDefined();
    }
  });

  it('give the ingest worker a memory limit that fits its parse sandbox (pool size × cap + the worker)', () => {
    const ingest = running.filter((w) => w.app.name === 'ingest-worker');
    expect(ingest.length).toBeGreaterThan(0);
    for (const { container, env } of ingest) {
      const limit = String(record(record(container.spec.resources, 'resources').limits, 'limits').memory);
      expect(limitMb(limit), container.deployment).toBeGreaterThanOrEqual(
        parseMemoryBudgetMb(parseQuireEnv(env).parse),
      );
    }
  });

  it('leave the replica count of autoscaled workers to KEDA', () => {
    for (const { container, app } of running.filter((w) => w.app.queues.length > 0)) {
      expect(container.deploymentSpec.replicas, app.name).toBeUndefined();
    }
  });
});

describe('KEDA', () => {
  for (const [label, dir] of [
    ['base', BASE],
    ['example overlay', OVERLAY],
  ] as const) {
    describe(label, () => {
      const target = build(dir);
      const scaled = ofKind(target, 'ScaledObject');
      const overlay = build(OVERLAY);
      const running = workloads(overlay);

      it('has one ScaledObject per worker Deployment, and none for anything else', () => {
        const targets = scaled.map((s) =>
          text(record(record(s.spec, 'spec').scaleTargetRef, 'scaleTargetRef').name, 'name'),
        );
        const workers = running.filter((w) => w.app.queues.length > 0).map((w) => w.container.deployment);
        expect(targets.map((t) => `Deployment/${t}`).sort()).toEqual(workers.sort());
      });

      it("counts wait, prioritized and active of every queue the worker consumes, under the app's prefix", () => {
        for (const object of scaled) {
          const spec = record(object.spec, kindAndName(object));
          const name = text(record(spec.scaleTargetRef, 'scaleTargetRef').name, 'name');
          const worker = running.find((w) => w.container.deployment === `Deployment/${name}`);
          expect(worker, name).toBeDefined();
          if (!worker) continue;
          const keys = new QueueKeys(worker.parsed.queuePrefix);
          const expected = worker.app.queues.flatMap((queue) =>
            COUNTED_STATES.map((s) => keys.toKey(queue, s)),
          );
          const triggers = list(spec.triggers, `${name} triggers`).map((t) => record(t, `${name} trigger`));
          const listNames = triggers.map((t) => record(t.metadata, 'metadata').listName);
          expect(listNames.sort(), name).toEqual(expected.sort());
          for (const trigger of triggers) expect(trigger.type, name).toBe('redis');
        }
      });

      it('sums every trigger in its scaling formula (HPA alone would take the largest)', () => {
        for (const object of scaled) {
          const spec = record(object.spec, kindAndName(object));
          const names = list(spec.triggers, 'triggers').map((t) =>
            text(record(t, 'trigger').name, 'trigger name'),
          );
          const modifiers = record(record(spec.advanced, 'advanced').scalingModifiers, 'scalingModifiers');
          const formula = text(modifiers.formula, 'formula');
          expect(
            formula
              .split('+')
              .map((term) => term.trim())
              .sort(),
            kindAndName(object),
          ).toEqual([...names].sort());
          expect(Number(modifiers.target)).toBeGreaterThan(0);
          expect(modifiers.metricType).toBe('AverageValue');
        }
      });

      it("reads the Redis database of the apps' REDIS_URL", () => {
        const database = new URL(running[0]?.parsed.redisUrl ?? '').pathname.replace('/', '') || '0';
        for (const object of scaled) {
          for (const trigger of list(record(object.spec, 'spec').triggers, 'triggers')) {
            expect(record(record(trigger, 'trigger').metadata, 'metadata').databaseIndex).toBe(database);
          }
        }
      });

      it('keeps at least one replica and a ceiling above it', () => {
        for (const object of scaled) {
          const spec = record(object.spec, kindAndName(object));
          const min = Number(spec.minReplicaCount);
          const max = Number(spec.maxReplicaCount);
          // Delayed retries and stalled-job recovery need a running worker (see keda.yaml).
          expect(min, kindAndName(object)).toBeGreaterThanOrEqual(1);
          expect(max, kindAndName(object)).toBeGreaterThanOrEqual(min);
          const fallback = Number(record(spec.fallback, 'fallback').replicas);
          expect(fallback).toBeGreaterThanOrEqual(min);
          expect(fallback).toBeLessThanOrEqual(max);
        }
      });
    });
  }

  it("authenticates with the Secret's REDIS_ADDRESS and REDIS_PASSWORD, the same Redis as REDIS_URL", () => {
    const overlay = build(OVERLAY);
    const auth = byName(overlay, 'TriggerAuthentication', 'quire-redis');
    const refs = list(record(auth.spec, 'spec').secretTargetRef, 'secretTargetRef').map((r) =>
      record(r, 'ref'),
    );
    const value = (parameter: string): string => {
      const ref = refs.find((r) => r.parameter === parameter);
      const secret = overlay.secrets.get(text(ref?.name, `${parameter} secret`));
      const found = secret?.get(text(ref?.key, `${parameter} key`));
      if (found === undefined) throw new Error(`TriggerAuthentication ${parameter}: no such Secret key`);
      return found;
    };
    const url = new URL(workloads(overlay)[0]?.parsed.redisUrl ?? '');
    expect(value('address')).toBe(`${url.hostname}:${url.port || '6379'}`);
    expect(value('password')).toBe(decodeURIComponent(url.password));
    expect(value('address')).toMatch(/\.svc\.cluster\.local:\d+$/);
    for (const object of ofKind(overlay, 'ScaledObject')) {
      for (const trigger of list(record(object.spec, 'spec').triggers, 'triggers')) {
        const ref = record(record(trigger, 'trigger').authenticationRef, 'authenticationRef');
        expect(ref.name).toBe('quire-redis');
      }
    }
  });
});

describe('PodDisruptionBudgets', () => {
  it('cover every Deployment', () => {
    const overlay = build(OVERLAY);
    const selected = ofKind(overlay, 'PodDisruptionBudget').map(
      (p) =>
        record(record(record(p.spec, 'spec').selector, 'selector').matchLabels, 'matchLabels')[
          'app.kubernetes.io/name'
        ],
    );
    const deployments = ofKind(overlay, 'Deployment').map((d) => record(d.metadata, 'metadata').name);
    expect([...selected].sort()).toEqual([...deployments].sort());
  });
});

describe('the Kubernetes files themselves', () => {
  it('are all used by their kustomization (nothing written and forgotten)', () => {
    for (const dir of [BASE, OVERLAY]) {
      const used = new Set(references(dir).map((r) => r.path));
      for (const file of listFiles(dir, /\.(ya?ml|env)$/)) {
        if (file === join(dir, 'kustomization.yaml')) continue;
        expect(used.has(file), shown(file)).toBe(true);
      }
    }
  });

  it('give each resource a unique kind and name', () => {
    const names = build(OVERLAY).resources.map((r: Json) => kindAndName(r));
    expect(new Set(names).size).toBe(names.length);
  });
});

/** A Kubernetes memory quantity (`2Gi`, `1536Mi`, `2G`) in MiB. */
function limitMb(quantity: string): number {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G)?$/.exec(quantity);
  if (!match) throw new Error(`unreadable memory quantity ${quantity}`);
  const units: Record<string, number> = {
    Ki: 1 / 1024,
    Mi: 1,
    Gi: 1024,
    K: 1e3 / 2 ** 20,
    M: 1e6 / 2 ** 20,
    G: 1e9 / 2 ** 20,
  };
  return Number(match[1]) * (units[match[2] ?? ''] ?? 1 / 2 ** 20);
}
