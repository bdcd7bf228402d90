/**
 * The gateway's connections and services, opened from its configuration: what `createServer`
 * needs, shared by the process entry point and the tests.
 */
import { checkSourceShape, createStore, type VectorStoreReader } from '@quire/core';
import { connectRedis, Producer, QUEUES } from '@quire/jobs';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { GatewayEnv } from './env.js';
import { IdempotencyStore } from './idempotency.js';
import { JobEvents } from './job-events.js';
import { createGatewayMetrics, type GatewayMetrics } from './metrics.js';
import { TenantQuotas } from './quotas.js';
import { UploadSpool } from './uploads.js';
import { type HostLookup, WebhookService } from './webhooks/index.js';

export interface GatewayServices {
  /**
   * The fail-fast Redis client of every request path: while Redis is unreachable, commands fail
   * at once (and time out when Redis stops answering) instead of waiting for it to come back.
   */
  redis: Redis;
  producer: Producer;
  store: StoreHandle;
  events: JobEvents;
  idempotency: IdempotencyStore;
  webhooks: WebhookService;
  uploads: UploadSpool;
  quotas: TenantQuotas;
  metrics: GatewayMetrics;
  /** Every queue shown on the dashboard and measured for `/metrics`. */
  queues(): Queue[];
  close(): Promise<void>;
}

/** The vector store, initialised on first use (so a store down at start-up only fails readiness). */
export class StoreHandle {
  readonly #store: VectorStoreReader;
  #ready: Promise<VectorStoreReader> | undefined;

  constructor(store: VectorStoreReader) {
    this.#store = store;
  }

  get(): Promise<VectorStoreReader> {
    this.#ready ??= this.#store.init().then(
      () => this.#store,
      (error: unknown) => {
        this.#ready = undefined;
        throw error;
      },
    );
    return this.#ready;
  }

  close(): Promise<void> {
    return this.#store.close();
  }
}

export interface OpenServicesOptions {
  env: GatewayEnv;
  logger: Logger;
  /** Collect the process's default metrics (CPU, memory, event loop). Default true. */
  defaultMetrics?: boolean;
  /** Replaces the system resolver for webhook hosts (tests). */
  webhookLookup?: HostLookup;
  /** How often webhook registrations are swept, in ms. Default 60,000. */
  webhookSweepMs?: number;
}

export async function openServices(options: OpenServicesOptions): Promise<GatewayServices> {
  const { env, logger } = options;
  const { config } = env;
  const prefix = config.queuePrefix;
  // The request-path client; every blocking reader (job events, webhook deliveries) duplicates it
  // in the blocking role.
  const redis = connectRedis(config.redisUrl, 'request', { commandTimeoutMs: env.redisCommandTimeoutMs });
  redis.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis connection error'));
  await untilReady(redis, 5_000);

  const producer = new Producer({
    connection: redis,
    prefix,
    secretKeys: config.secretKeys,
    // Refuses at once what the workers would refuse, with the gateway's view of their settings.
    checkSource: (source) =>
      checkSourceShape(source, {
        roots: env.uploads.dir === null ? [] : [env.uploads.dir],
        maxBytes: config.ingest.maxFileBytes,
        allowPrivateNetworks: config.ingest.allowPrivateUrls,
      }),
  });
  // The gateway only reads documents (writes are jobs for the workers): nothing is created here.
  const store = new StoreHandle(createStore(config, { readOnly: true }));
  await store
    .get()
    .catch((error: unknown) =>
      logger.warn(
        { err: error instanceof Error ? error.message : String(error) },
        'vector store not reachable yet',
      ),
    );
  const events = await JobEvents.start({ redis, prefix, logger });
  const webhooks = new WebhookService({
    redis,
    prefix,
    settings: env.webhooks,
    producer,
    events,
    logger,
    ...(options.webhookLookup ? { lookup: options.webhookLookup } : {}),
    ...(options.webhookSweepMs ? { sweepIntervalMs: options.webhookSweepMs } : {}),
  });
  webhooks.start();
  const uploads = new UploadSpool({
    redis,
    prefix,
    producer,
    logger,
    maxBytes: env.uploads.maxBytes,
    inlineMaxBytes: env.uploads.inlineMaxBytes,
    dir: env.uploads.dir,
  });
  uploads.start(events);
  const quotas = new TenantQuotas({
    redis,
    prefix,
    settings: env.quotas,
    logger,
    ingestQueue: producer.queue(QUEUES.ingest),
  });
  // Every gateway sees every end; the release counts once.
  const unfollowQuotas = events.onFinished((event) => {
    if (event.queue !== QUEUES.ingest) return;
    quotas
      .releaseJob(event.jobId)
      .catch((error: unknown) =>
        logger.warn(
          { err: error instanceof Error ? error.message : String(error), jobId: event.jobId },
          'quota release deferred to the sweep',
        ),
      );
  });
  quotas.start();
  const metrics = createGatewayMetrics(
    options.defaultMetrics === undefined ? {} : { defaultMetrics: options.defaultMetrics },
  );

  return {
    redis,
    producer,
    store,
    events,
    idempotency: new IdempotencyStore({ redis, prefix, ttlSeconds: env.idempotencyTtlSeconds }),
    webhooks,
    uploads,
    quotas,
    metrics,
    queues() {
      const queues = [QUEUES.ingest, QUEUES.query, QUEUES.batch].map((name) => producer.queue(name));
      const webhookQueue = webhooks.queue;
      return webhookQueue === null ? queues : [...queues, webhookQueue];
    },
    async close() {
      uploads.close();
      unfollowQuotas();
      quotas.close();
      await webhooks.close();
      await events.close();
      await producer.close();
      await redis.quit().catch(() => redis.disconnect());
      await store.close();
    },
  };
}

/** Waits up to `ms` for the first connection; a gateway started while Redis is down still starts. */
function untilReady(redis: Redis, ms: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    redis.once('ready', done);
  });
}
