/**
 * The bare client of `bench:query`'s floor, producer side: a BullMQ queue and its events (as the SDK's
 * `ask()` waits on them) in front of `bare-worker.ts` running in a process of its own.
 */
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type SpawnedProcess, spawnProcess } from '@quire/testkit';
import { Queue, QueueEvents } from 'bullmq';
import type { RecordedRequest } from './timed-models.js';

export interface BareClient {
  process: SpawnedProcess;
  /**
   * Question `i` asked: milliseconds from enqueueing it until its job is seen completed, and of
   * those, the ones its processor took (the requests, one after the other).
   */
  ask(i: number): Promise<{ ms: number; processorMs: number }>;
  close(): Promise<void>;
}

const QUEUE = 'bare';
const here = dirname(fileURLToPath(import.meta.url));

export async function startBareClient(options: {
  redisUrl: string;
  prefix: string;
  baseURL: string;
  apiKey: string;
  /** Per question, the requests to replay. */
  requests: RecordedRequest[][];
  /** Where the requests file is written. */
  dir: string;
}): Promise<BareClient> {
  const file = join(options.dir, 'bare-requests.json');
  await writeFile(file, JSON.stringify(options.requests));
  const worker = await spawnProcess(process.execPath, ['--import', 'tsx', join(here, 'bare-worker.ts')], {
    cwd: join(here, '..', '..'),
    env: {
      REDIS_URL: options.redisUrl,
      BARE_PREFIX: options.prefix,
      BARE_QUEUE: QUEUE,
      BARE_BASE_URL: options.baseURL,
      BARE_API_KEY: options.apiKey,
      BARE_REQUESTS: file,
    },
    readyLine: /bare worker ready/,
    readyTimeoutMs: 60_000,
  });
  const connection = { url: options.redisUrl };
  const queue = new Queue(QUEUE, { connection, prefix: options.prefix });
  const events = new QueueEvents(QUEUE, { connection, prefix: options.prefix });
  await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
  return {
    process: worker,
    async ask(i) {
      const started = performance.now();
      const job = await queue.add(
        'replay',
        { i },
        { removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 } },
      );
      const result = (await job.waitUntilFinished(events, 60_000)) as { processorMs?: unknown };
      const ms = performance.now() - started;
      if (typeof result?.processorMs !== 'number')
        throw new Error(`bare job ${job.id} returned no processorMs`);
      return { ms, processorMs: result.processorMs };
    },
    async close() {
      await Promise.allSettled([events.close(), queue.close()]);
      await worker.kill('SIGTERM');
    },
  };
}
