/**
 * The gateway's Prometheus metrics: Quire's shared set (queue depth among them) plus HTTP requests
 * by route and status. Queue depth is read from Redis when Prometheus scrapes, so it is never stale.
 */
import { COUNTED_JOB_STATES } from '@quire/contracts';
import { createMetrics, type PromMetrics } from '@quire/runtime';
import type { Queue } from 'bullmq';
import { Counter, Gauge, Histogram } from 'prom-client';

/** Job states counted per queue, and `paused` (jobs waiting in a paused queue). */
export const DEPTH_STATES = [...COUNTED_JOB_STATES, 'paused'] as const;

export interface GatewayMetrics {
  readonly prom: PromMetrics;
  /** Records one answered request; `route` is the route's template, never the raw URL. */
  httpRequest(method: string, route: string, status: number, seconds: number): void;
  /** Renders the exposition text, reading queue depths first. */
  render(queues: readonly Queue[], redisReady: boolean): Promise<{ contentType: string; body: string }>;
}

export function createGatewayMetrics(options: { defaultMetrics?: boolean } = {}): GatewayMetrics {
  const prom = createMetrics({
    service: 'gateway',
    ...(options.defaultMetrics === undefined ? {} : { defaultMetrics: options.defaultMetrics }),
  });
  const { registry } = prom;
  const requests = new Counter({
    name: 'quire_http_requests_total',
    help: 'HTTP requests answered, by method, route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const seconds = new Histogram({
    name: 'quire_http_request_duration_seconds',
    help: 'HTTP request duration by method and route',
    labelNames: ['method', 'route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const redisUp = new Gauge({
    name: 'quire_gateway_redis_up',
    help: 'Whether the gateway reached Redis at the last scrape (1) or not (0)',
    registers: [registry],
  });
  return {
    prom,
    httpRequest(method, route, status, elapsed) {
      requests.inc({ method, route, status: String(status) });
      seconds.observe({ method, route }, elapsed);
    },
    async render(queues, redisReady) {
      let up = redisReady;
      if (redisReady) {
        try {
          const counts = await Promise.all(queues.map((queue) => queue.getJobCounts(...DEPTH_STATES)));
          queues.forEach((queue, i) => {
            for (const state of DEPTH_STATES) prom.setQueueDepth(queue.name, state, counts[i]?.[state] ?? 0);
          });
        } catch {
          // Depths keep their last values; the gauge below says they are stale.
          up = false;
        }
      }
      redisUp.set(up ? 1 : 0);
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
