/**
 * Prometheus and Grafana of the compose `observability` profile: Prometheus scrapes the ports the
 * apps listen on, and every metric and queue state the dashboard queries is one the apps export,
 * so a renamed metric shows up here rather than as an empty panel.
 */
import { join } from 'node:path';
import { createMetrics } from '@quire/runtime';
import { describe, expect, it } from 'vitest';
import { loadApps } from './support/apps.js';
import { readCompose, serviceEnv, services } from './support/compose.js';
import { INFRA, isRecord, type Json, list, REPO, readText, readYaml, record, text } from './support/files.js';

const OBSERVABILITY = join(INFRA, 'observability');
const apps = await loadApps();
const compose = readCompose();
const all = services(compose);

interface RegistryLike {
  getMetricsAsJSON(): Promise<{ name: string }[]>;
}

/** The gateway's metrics module (app-internal, loaded by path): its registry and queue states. */
async function gatewayMetrics(): Promise<{ registry: RegistryLike; states: string[] }> {
  const module: unknown = await import(join(REPO, 'apps', 'gateway', 'src', 'metrics.ts'));
  if (!isRecord(module) || typeof module.createGatewayMetrics !== 'function') {
    throw new Error('apps/gateway/src/metrics.ts: expected createGatewayMetrics()');
  }
  const created: unknown = module.createGatewayMetrics({ defaultMetrics: false });
  const prom = isRecord(created) ? created.prom : undefined;
  const registry = isRecord(prom) ? prom.registry : undefined;
  if (!isRecord(registry) || typeof registry.getMetricsAsJSON !== 'function') {
    throw new Error('createGatewayMetrics(): no prom.registry');
  }
  const states = list(module.DEPTH_STATES, 'DEPTH_STATES').map((s) => text(s, 'state'));
  return { registry: registry as unknown as RegistryLike, states };
}

async function exportedNames(): Promise<Set<string>> {
  const worker = createMetrics({ service: 'infra-test', defaultMetrics: false }).registry;
  const gateway = (await gatewayMetrics()).registry;
  const names = [...(await worker.getMetricsAsJSON()), ...(await gateway.getMetricsAsJSON())].map(
    (m) => m.name,
  );
  return new Set(names);
}

function dashboard(): Json {
  return record(
    JSON.parse(readText(join(OBSERVABILITY, 'grafana', 'dashboards', 'quire.json'))),
    'quire.json',
  );
}

function panels(): Json[] {
  return list(dashboard().panels, 'panels').map((p, i) => record(p, `panels[${i}]`));
}

function expressions(): string[] {
  return panels().flatMap((panel) =>
    panel.type === 'row'
      ? []
      : list(panel.targets, `${String(panel.title)} targets`).map((t) =>
          text(record(t, 'target').expr, 'expr'),
        ),
  );
}

describe('Grafana dashboard', () => {
  it('queries only metrics the workers and the gateway export', async () => {
    const names = await exportedNames();
    const used = new Set(
      expressions().flatMap((expr) => [...expr.matchAll(/\b(quire_[a-z0-9_]+)/g)].map((m) => m[1] ?? '')),
    );
    expect(used.size).toBeGreaterThan(0);
    for (const metric of used) {
      const base = metric.replace(/_(bucket|sum|count)$/, '');
      expect(names.has(metric) || names.has(base), metric).toBe(true);
    }
  });

  it('asks for queue states the gateway reports', async () => {
    const { states } = await gatewayMetrics();
    for (const expr of expressions()) {
      for (const match of expr.matchAll(/state=~?"([^"]+)"/g)) {
        for (const state of (match[1] ?? '').split('|')) expect(states, expr).toContain(state);
      }
    }
  });

  it('uses the provisioned data source, with unique panel ids that fit a 24-column grid', () => {
    const provisioned = record(
      readYaml(join(OBSERVABILITY, 'grafana', 'provisioning', 'datasources', 'prometheus.yaml')),
      'datasources',
    );
    const uid = record(list(provisioned.datasources, 'datasources')[0], 'datasource').uid;
    const ids = panels().map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of panels()) {
      const grid = record(panel.gridPos, 'gridPos');
      expect(Number(grid.x) + Number(grid.w)).toBeLessThanOrEqual(24);
      if (panel.type !== 'row') expect(record(panel.datasource, 'datasource').uid).toBe(uid);
    }
  });

  it('is where the dashboard provider and compose put it', () => {
    const providers = record(
      readYaml(join(OBSERVABILITY, 'grafana', 'provisioning', 'dashboards', 'quire.yaml')),
      'providers',
    );
    const path = record(
      record(list(providers.providers, 'providers')[0], 'provider').options,
      'options',
    ).path;
    const grafana = all.get('grafana') ?? {};
    const mounts = list(grafana.volumes, 'grafana.volumes').map((v) => text(v, 'volume'));
    expect(mounts).toContain(`./observability/grafana/dashboards:${String(path)}:ro`);
    expect(record(grafana.environment, 'grafana.environment').GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH).toBe(
      `${String(path)}/quire.json`,
    );
  });
});

describe('Prometheus', () => {
  const config = record(readYaml(join(OBSERVABILITY, 'prometheus', 'prometheus.yml')), 'prometheus.yml');
  const jobs = list(config.scrape_configs, 'scrape_configs').map((j) => record(j, 'scrape config'));

  it('scrapes every replica of each worker and of the gateway on METRICS_PORT', () => {
    const expected = (['ingest-worker', 'query-worker', 'gateway'] as const).map((name) => {
      const parsed = apps.get(name)?.parse(serviceEnv(name, all.get(name) ?? {}, { withExamples: false }));
      return { name, port: parsed?.metricsPort };
    });
    for (const { name, port } of expected) {
      const job = jobs.find((j) => j.job_name === name);
      const discovery = record(list(job?.dns_sd_configs, `${name} dns_sd_configs`)[0], 'dns_sd_config');
      expect(discovery.names, name).toEqual([name]);
      expect(discovery.type).toBe('A');
      expect(discovery.port, name).toBe(port);
    }
  });

  it('is the data source Grafana is given', () => {
    const provisioned = record(
      readYaml(join(OBSERVABILITY, 'grafana', 'provisioning', 'datasources', 'prometheus.yaml')),
      'datasources',
    );
    const url = new URL(
      text(record(list(provisioned.datasources, 'datasources')[0], 'datasource').url, 'url'),
    );
    expect(all.has(url.hostname)).toBe(true);
    const ports = list(all.get(url.hostname)?.ports, 'prometheus.ports').map((p) => text(p, 'port'));
    expect(ports.some((p) => p.endsWith(`:${url.port}`))).toBe(true);
  });
});
