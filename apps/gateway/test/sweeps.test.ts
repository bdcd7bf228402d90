/**
 * The safety nets behind events: the upload sweep (files whose job is gone or never came) and the
 * webhook sweep (jobs that finished while no gateway was reading events).
 */

import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Producer } from '@quire/jobs';
import { createLogger } from '@quire/runtime';
import {
  cleanupPrefix,
  getTestRedis,
  makeTempDir,
  type TempDir,
  type TestRedis,
  uniquePrefix,
  waitFor,
} from '@quire/testkit';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobEvents } from '../src/job-events.js';
import { UploadSpool } from '../src/uploads.js';
import { verifyWebhookSignature, WebhookService } from '../src/webhooks/index.js';

const logger = createLogger({ service: 'gateway-test', level: 'silent', format: 'json' });
let redis: TestRedis;
let client: Redis;
let prefix: string;
let tmp: TempDir;
let producer: Producer;
let events: JobEvents;

beforeAll(async () => {
  redis = await getTestRedis();
  client = new Redis(redis.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
  await new Promise((resolve) => client.once('ready', resolve));
  prefix = uniquePrefix('gateway-sweeps');
  tmp = await makeTempDir('gateway-sweeps');
  producer = new Producer({ connection: client, prefix });
  events = await JobEvents.start({ redis: client, prefix, logger });
});

afterAll(async () => {
  await events?.close();
  await producer?.close();
  await cleanupPrefix(client, prefix);
  await client?.quit();
  await redis?.stop();
  await tmp?.cleanup();
});

async function aged(path: string, minutes: number): Promise<void> {
  await writeFile(path, 'bytes');
  const when = new Date(Date.now() - minutes * 60_000);
  await utimes(path, when, when);
}

describe('upload sweep', () => {
  it('removes old files whose job is gone or never came, keeps young ones and those of waiting jobs', async () => {
    const dir = join(tmp.path, 'uploads');
    const spool = new UploadSpool({
      redis: client,
      prefix,
      producer,
      logger,
      maxBytes: 1_000,
      inlineMaxBytes: 10,
      dir,
    });
    await producer.queue('ingest').pause();
    const { jobId: waiting } = await producer.enqueueIngest({
      tenant: 'acme',
      documentId: 'kept.txt',
      source: { kind: 'text', text: 'kept' },
    });
    const files = {
      orphan: join(dir, 'orphan.txt'),
      recentOrphan: join(dir, 'recent.txt'),
      gone: join(dir, 'gone.txt'),
      waiting: join(dir, 'waiting.txt'),
      young: join(dir, 'young.txt'),
    };
    await mkdir(dir, { recursive: true });
    await aged(files.orphan, 120);
    await aged(files.recentOrphan, 30);
    await aged(files.gone, 10);
    await spool.register(files.gone, 'no-such-job');
    await aged(files.waiting, 10);
    await spool.register(files.waiting, waiting);
    await aged(files.young, 1);
    await spool.register(files.young, 'no-such-job-either');

    await spool.sweep();
    expect((await readdir(dir)).sort()).toEqual(['recent.txt', 'waiting.txt', 'young.txt']);
    await producer.queue('ingest').resume();
  });
});

describe('webhook sweep', () => {
  let receiver: Server;
  const bodies: { signature: string; body: string }[] = [];

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString('utf8');
      });
      req.on('end', () => {
        bodies.push({ signature: String(req.headers['quire-signature']), body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await new Promise((resolve) => receiver.close(resolve));
  });

  it('delivers for a registered job that finished while nobody was listening', async () => {
    // A job that completes before any webhook service runs: its event is never seen.
    const { jobId } = await producer.enqueueQuery({ tenant: 'acme', question: 'Seen by nobody?' });
    const connection = client.duplicate({ maxRetriesPerRequest: null, enableOfflineQueue: true });
    const worker = new Worker('query', async () => ({ answer: 'nobody' }), { connection, prefix });
    await waitFor(async () => (await producer.queue('query').getJobState(jobId)) === 'completed', {
      timeoutMs: 10_000,
    });
    await worker.close();
    connection.disconnect();

    const settings = {
      secret: 'sweep-test-master-secret-0123456789abcdef',
      allowPrivateNetworks: false,
      allowAddresses: ['127.0.0.1'],
      timeoutMs: 2_000,
      attempts: 2,
      backoffMs: 10,
      concurrency: 1,
    };
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/late`;
    const service = new WebhookService({
      redis: client,
      prefix,
      settings,
      producer,
      events,
      logger,
      sweepIntervalMs: 60_000,
    });
    await service.register('query', jobId, 'acme', url);
    // Registered long enough ago for the sweep to consider it.
    await client.zadd(`${prefix}:gateway:webhooks:pending`, Date.now() - 60_000, `query/${jobId}`);
    service.start();
    try {
      await waitFor(() => bodies.length > 0, { timeoutMs: 10_000 });
      const [delivery] = bodies;
      expect(JSON.parse(delivery?.body ?? '{}')).toMatchObject({
        type: 'job.completed',
        data: { jobId, tenant: 'acme', result: { answer: 'nobody' } },
      });
      expect(
        verifyWebhookSignature(
          service.secretFor('acme') ?? '',
          delivery?.signature ?? '',
          delivery?.body ?? '',
        ),
      ).toBe(true);
      // Delivered once: the registration is gone, so a later sweep adds nothing.
      await service.sweep();
      expect(await client.hlen(`${prefix}:gateway:webhooks:registrations`)).toBe(0);
    } finally {
      await service.close();
    }
    expect(bodies).toHaveLength(1);
  });
});
