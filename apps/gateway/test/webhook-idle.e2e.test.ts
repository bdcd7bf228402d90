/**
 * A gateway that has idled longer than its request-path Redis timeout still delivers webhooks at
 * once: the delivery worker blocks on a connection of its own, in the blocking role, whose waits
 * no command timeout cuts short.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import {
  cleanupPrefix,
  getTestRedis,
  makeTempDir,
  type SpawnedProcess,
  type TempDir,
  type TestRedis,
  uniquePrefix,
  waitFor,
} from '@quire/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hashApiKey } from '../src/auth.js';
import { type RunningGateway, startGateway, startWorker } from './harness.js';

const KEY = 'idle-tenant-key';
/** The request-path timeout under test, and an idle period well past it and past BullMQ's blocking wait (5 s). */
const COMMAND_TIMEOUT_MS = 1_000;
const IDLE_MS = 6_500;

let redis: TestRedis;
let tmp: TempDir;
let prefix: string;
let worker: SpawnedProcess | undefined;
let gateway: RunningGateway | undefined;
let receiver: Server;
let receiverUrl: string;
const deliveries: { at: number; body: string }[] = [];
const logs: string[] = [];

beforeAll(async () => {
  redis = await getTestRedis();
  tmp = await makeTempDir('gateway-webhook-idle');
  prefix = uniquePrefix('webhook-idle');
  const shared = { REDIS_URL: redis.url, QUIRE_QUEUE_PREFIX: prefix, QUIRE_DATA_DIR: join(tmp.path, 'data') };
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    req.on('end', () => {
      deliveries.push({ at: Date.now(), body });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  worker = await startWorker('query', shared);
  const logStream = new PassThrough();
  logStream.on('data', (line: Buffer) => logs.push(line.toString('utf8')));
  gateway = await startGateway(
    {
      ...shared,
      QUIRE_API_KEYS: `idle:${hashApiKey(KEY)}`,
      GATEWAY_REDIS_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS),
      GATEWAY_WEBHOOK_SECRET: 'webhook-idle-master-secret-0123456789',
      GATEWAY_WEBHOOK_ALLOW_ADDRESSES: '127.0.0.1',
    },
    { logs: logStream },
  );
}, 120_000);

afterAll(async () => {
  await gateway?.close();
  await worker?.kill('SIGTERM');
  await new Promise((resolve) => receiver?.close(resolve));
  if (redis) await cleanupPrefix(redis.url, prefix);
  await redis?.stop();
  await tmp?.cleanup();
});

it('delivers a webhook promptly after the gateway idled past its Redis command timeout', async () => {
  if (!gateway) throw new Error('gateway did not start');
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
  // Idle blocking waits are not errors: a delivery worker on a timed-out connection logs one at
  // every wait, and can stop taking deliveries altogether.
  expect(logs.filter((line) => /timed out|webhook worker error|queue events/i.test(line))).toEqual([]);

  const submittedAt = Date.now();
  const response = await fetch(`${gateway.url}/v1/queries`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ question: 'Is anybody there?', webhookUrl: receiverUrl }),
  });
  expect(response.status).toBe(202);
  const { jobId } = (await response.json()) as { jobId: string };

  // Bounded, not timed: on a stalled delivery worker nothing arrives for minutes.
  await waitFor(() => deliveries.length >= 1, { timeoutMs: 20_000 });
  const [delivery] = deliveries;
  const payload = JSON.parse(delivery?.body ?? '{}') as { type?: string; data?: { jobId?: string } };
  expect(payload).toMatchObject({ type: 'job.completed', data: { jobId } });
  console.info(`webhook delivered ${(delivery?.at ?? 0) - submittedAt} ms after the request`);
}, 60_000);
