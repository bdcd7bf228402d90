import { readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  cleanupPrefix,
  getTestRedis,
  makeTempDir,
  type TempDir,
  type TestRedis,
  uniquePrefix,
} from '@quire/testkit';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  isSpooled,
  QUEUES,
  releaseSpoolWhenDone,
  Spool,
  spoolFileName,
  spoolRegistryKey,
} from '../src/index.js';

let redis: TestRedis;
let client: Redis;
let prefix: string;
let tmp: TempDir;
let spool: Spool;
let queue: Queue;
const workers: Worker[] = [];

beforeAll(async () => {
  redis = await getTestRedis();
  client = new Redis(redis.url, { maxRetriesPerRequest: null });
});
afterAll(async () => {
  client.disconnect();
  await redis.stop();
});
beforeEach(async () => {
  prefix = uniquePrefix('spool');
  tmp = await makeTempDir('spool');
  spool = new Spool({ dir: join(tmp.path, 'spool'), redis: client, prefix });
  queue = new Queue(QUEUES.ingest, { connection: client, prefix });
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.close()));
  await queue.close();
  await cleanupPrefix(redis.url, prefix);
  await tmp.cleanup();
});

async function spooledFile(text: string, name = 'notes.txt'): Promise<string> {
  const source = join(tmp.path, name);
  await writeFile(source, text);
  return spool.copyIn(source);
}

/** Makes a file look `ageMs` old to the sweep. */
async function age(path: string, ageMs: number): Promise<void> {
  const when = new Date(Date.now() - ageMs);
  await utimes(path, when, when);
}

async function until(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('Spool', () => {
  it('copies a file in under a unique, safe name that keeps the original readable', async () => {
    const path = await spooledFile('the text', 'Résumé 2024.txt');
    expect(isSpooled(path, spool.dir)).toBe(true);
    expect(path).toMatch(/\/[0-9a-f-]{36}-Résumé_2024\.txt$/);
    expect(await readFile(path, 'utf8')).toBe('the text');
    expect(spoolFileName('../../etc/passwd')).toMatch(/^[0-9a-f-]{36}-passwd$/);
    expect(spoolFileName('...')).toMatch(/-document$/);
  });

  it('registers a file with its job and discards both', async () => {
    const path = await spooledFile('x');
    await spool.register(path, 'job-1');
    expect(await client.hgetall(spoolRegistryKey(prefix))).toEqual({ [path.split('/').pop()!]: 'job-1' });
    await spool.discard(path);
    expect(await readdir(spool.dir)).toEqual([]);
    expect(await client.hlen(spoolRegistryKey(prefix))).toBe(0);
  });

  it('never removes a file outside its directory', async () => {
    const outside = join(tmp.path, 'keep.txt');
    await writeFile(outside, 'keep');
    await spool.discard(outside);
    expect(await readFile(outside, 'utf8')).toBe('keep');
  });

  it('sweeps files whose job ended or is gone and old orphans, and keeps the rest', async () => {
    const waiting = await queue.add('ingest', {});
    // A job removed by retention: its state reads `unknown`.
    const done = await queue.add('ingest', {});
    await done.remove();

    const forWaiting = await spooledFile('a', 'a.txt');
    const forGone = await spooledFile('b', 'b.txt');
    const oldOrphan = await spooledFile('c', 'c.txt');
    const youngOrphan = await spooledFile('d', 'd.txt');
    const recentForGone = await spooledFile('e', 'e.txt');
    await spool.register(forWaiting, waiting.id!);
    await spool.register(forGone, done.id!);
    await spool.register(recentForGone, done.id!);
    for (const path of [forWaiting, forGone, oldOrphan]) await age(path, 2 * 3_600_000);
    await age(youngOrphan, 30 * 60_000);

    expect(await spool.sweep(queue, 3_600_000)).toBe(2);
    const left = (await readdir(spool.dir)).sort();
    expect(left).toEqual([forWaiting, youngOrphan, recentForGone].map((p) => p.split('/').pop()!).sort());
  });
});

describe('releaseSpoolWhenDone', () => {
  it('removes the file of a completed job', async () => {
    const path = await spooledFile('text');
    const job = await queue.add('ingest', { source: { kind: 'path', path } });
    await spool.register(path, job.id!);
    const worker = new Worker(QUEUES.ingest, async () => 'ok', { connection: client, prefix });
    workers.push(worker);
    releaseSpoolWhenDone(worker, spool);
    await until(async () => (await readdir(spool.dir)).length === 0);
    expect(await client.hlen(spoolRegistryKey(prefix))).toBe(0);
  });

  it('keeps the file while a failed job has attempts left, and removes it after the last', async () => {
    const path = await spooledFile('text');
    let attempts = 0;
    const seenFile: boolean[] = [];
    const worker = new Worker(
      QUEUES.ingest,
      async (): Promise<string> => {
        attempts++;
        seenFile.push((await readdir(spool.dir)).length === 1);
        throw new Error('provider down');
      },
      { connection: client, prefix },
    );
    workers.push(worker);
    releaseSpoolWhenDone(worker, spool);
    const job = await queue.add('ingest', { source: { kind: 'path', path } }, { attempts: 3 });
    await spool.register(path, job.id!);
    await until(async () => attempts === 3 && (await readdir(spool.dir)).length === 0);
    expect(seenFile).toEqual([true, true, true]);
  });

  it('leaves a path source outside the spool alone', async () => {
    const outside = join(tmp.path, 'shared.txt');
    await writeFile(outside, 'shared');
    let finished = false;
    const worker = new Worker(QUEUES.ingest, async () => 'ok', { connection: client, prefix });
    workers.push(worker);
    worker.on('completed', () => {
      finished = true;
    });
    releaseSpoolWhenDone(worker, spool);
    await queue.add('ingest', { source: { kind: 'path', path: outside } });
    await until(async () => finished);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await readFile(outside, 'utf8')).toBe('shared');
  });
});
