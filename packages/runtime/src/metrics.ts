import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { ParseFinishedEvent, SandboxExitReason } from '@quire/core';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The metrics Quire records. Code depends on this interface; `createMetrics()` backs it with
 * prom-client, `noopMetrics` with nothing (libraries and tests).
 */
export interface Metrics {
  jobFinished(queue: string, outcome: 'completed' | 'failed' | 'retried' | 'delayed', seconds: number): void;
  modelCall(
    endpoint: string,
    outcome: 'ok' | 'error',
    seconds: number,
    tokens: number,
    errorCode?: string,
  ): void;
  stageDuration(queue: string, stage: string, seconds: number): void;
  setQueueDepth(queue: string, state: string, count: number): void;
  /** One parse in the sandbox ended: its outcome, the reason it was killed, its peak RSS. */
  parseFinished(event: ParseFinishedEvent): void;
  /** A sandbox child ended; all reasons but `idle` and `closed` are restarts. */
  sandboxChildExited(reason: SandboxExitReason): void;
}

export const noopMetrics: Metrics = {
  jobFinished() {},
  modelCall() {},
  stageDuration() {},
  setQueueDepth() {},
  parseFinished() {},
  sandboxChildExited() {},
};

export interface PromMetrics extends Metrics {
  readonly registry: Registry;
}

export function createMetrics(options: { service: string; defaultMetrics?: boolean }): PromMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service: options.service });
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const jobs = new Counter({
    name: 'quire_jobs_total',
    help: 'Jobs finished by queue and outcome',
    labelNames: ['queue', 'outcome'],
    registers: [registry],
  });
  const jobSeconds = new Histogram({
    name: 'quire_job_duration_seconds',
    help: 'Job processing time by queue and outcome',
    labelNames: ['queue', 'outcome'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  const stageSeconds = new Histogram({
    name: 'quire_stage_duration_seconds',
    help: 'Time per pipeline stage',
    labelNames: ['queue', 'stage'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const modelCalls = new Counter({
    name: 'quire_model_calls_total',
    help: 'Model API calls by endpoint and outcome',
    labelNames: ['endpoint', 'outcome', 'code'],
    registers: [registry],
  });
  const modelSeconds = new Histogram({
    name: 'quire_model_call_duration_seconds',
    help: 'Model API call latency by endpoint',
    labelNames: ['endpoint'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const modelTokens = new Counter({
    name: 'quire_model_tokens_total',
    help: 'Tokens sent to or received from the model API by endpoint',
    labelNames: ['endpoint'],
    registers: [registry],
  });
  const depth = new Gauge({
    name: 'quire_queue_jobs',
    help: 'Jobs in each queue by state',
    labelNames: ['queue', 'state'],
    registers: [registry],
  });
  const parses = new Counter({
    name: 'quire_parses_total',
    help: 'Parses in the sandbox by kind (pdf, docx, html) and outcome (ok, failed, killed) and error code',
    labelNames: ['kind', 'outcome', 'code'],
    registers: [registry],
  });
  const parsesKilled = new Counter({
    name: 'quire_parses_killed_total',
    help: 'Parses killed by the sandbox by kind and reason (memory, timeout, abort, crash)',
    labelNames: ['kind', 'reason'],
    registers: [registry],
  });
  const parsePeakRss = new Histogram({
    name: 'quire_parse_peak_rss_bytes',
    help: 'Peak RSS of the sandbox child during one parse',
    labelNames: ['kind'],
    buckets: [64, 96, 128, 192, 256, 384, 512, 768, 1024, 2048].map((mib) => mib * 2 ** 20),
    registers: [registry],
  });
  const sandboxRestarts = new Counter({
    name: 'quire_sandbox_restarts_total',
    help: 'Sandbox children replaced, by reason (memory, timeout, abort, crash, recycled)',
    labelNames: ['reason'],
    registers: [registry],
  });
  return {
    registry,
    parseFinished(event) {
      parses.inc({ kind: event.kind, outcome: event.outcome, code: event.code ?? '' });
      if (event.killReason !== undefined) parsesKilled.inc({ kind: event.kind, reason: event.killReason });
      if (event.peakRssBytes > 0) parsePeakRss.observe({ kind: event.kind }, event.peakRssBytes);
    },
    sandboxChildExited(reason) {
      if (reason !== 'idle' && reason !== 'closed') sandboxRestarts.inc({ reason });
    },
    jobFinished(queue, outcome, seconds) {
      jobs.inc({ queue, outcome });
      jobSeconds.observe({ queue, outcome }, seconds);
    },
    modelCall(endpoint, outcome, seconds, tokens, errorCode) {
      modelCalls.inc({ endpoint, outcome, code: errorCode ?? '' });
      modelSeconds.observe({ endpoint }, seconds);
      if (tokens > 0) modelTokens.inc({ endpoint }, tokens);
    },
    stageDuration(queue, stage, seconds) {
      stageSeconds.observe({ queue, stage }, seconds);
    },
    setQueueDepth(queue, state, count) {
      depth.set({ queue, state }, count);
    },
  };
}

/** Serves `GET /metrics` (and `/healthz`) on its own port for a worker process. */
export async function serveMetrics(
  registry: Registry,
  options: { port: number; host?: string; ready?: () => boolean },
): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === '/metrics') {
      registry
        .metrics()
        .then((body) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(body);
        })
        .catch((error: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(String(error));
        });
      return;
    }
    if (req.url === '/healthz') {
      const ok = options.ready ? options.ready() : true;
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => resolve());
  });
  return server;
}

/**
 * The memory limit of the container this process runs in (cgroup v2 `memory.max`, else v1
 * `memory.limit_in_bytes`), in bytes; null when there is none or it cannot be read.
 */
export function readContainerMemoryLimit(): number | null {
  for (const file of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8').trim();
    } catch {
      continue;
    }
    if (text === 'max') return null;
    const bytes = Number(text);
    // cgroup v1 says "no limit" with a number near 2^63.
    return Number.isFinite(bytes) && bytes > 0 && bytes < 2 ** 60 ? bytes : null;
  }
  return null;
}
