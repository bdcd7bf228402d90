/**
 * Hostile uploads against a real ingest worker process (built `dist/main.js`, real Redis, the
 * embedded store and models) whose parse sandbox has a low cap: a PDF with a huge content stream, a
 * DOCX whose entry lies about its size and inflates to 1 GiB, and a DOCX of 100 MiB of XML. Each
 * job fails at once (one attempt) with a reason naming the file, the limit and its setting; another
 * tenant's small document enqueued during the PDF bomb completes before the bomb's job ends; the
 * RSS of the worker and its sandbox children together stays under a stated bound, and the worker's
 * own RSS comes back to its baseline.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type IngestResult, Producer, QUEUES } from '@quire/jobs';
import {
  cleanupPrefix,
  getTestRedis,
  makeContentStreamBombPdf,
  makeLargeXmlDocx,
  makePdf,
  makeTempDir,
  makeZipBombDocx,
  readTreeRss,
  type SpawnedProcess,
  type TempDir,
  type TestRedis,
  TreeRssWatcher,
  uniquePrefix,
  waitFor,
} from '@quire/testkit';
import { QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIngestWorker } from './harness.js';

const MIB = 2 ** 20;
const CAP_MB = 256;
/**
 * Bound on the worker and its children together, beyond the worker's baseline: one child at the
 * cap (the bomb), one child parsing a small PDF beside it (~100 MiB in a compiled child), and a
 * margin for what the watchdog misses between two samples and the worker's own working memory.
 */
const SMALL_CHILD_MB = 128;
const MARGIN_MB = 96;

const NOTE = Array.from(
  { length: 6 },
  () => 'A short note about lighthouses and the keepers who tended them.',
);

let redis: TestRedis;
let tmp: TempDir;
let prefix: string;
let producer: Producer;
let events: QueueEvents;
let worker: SpawnedProcess;
let baselineBytes = 0;
/** Job ids in the order their jobs ended (completed or failed), as the queue reports them. */
const ended: string[] = [];

beforeAll(async () => {
  redis = await getTestRedis();
  tmp = await makeTempDir('ingest-sandbox');
  prefix = uniquePrefix('sandbox');
  await writeFile(join(tmp.path, 'bomb.pdf'), makeContentStreamBombPdf());
  await writeFile(
    join(tmp.path, 'bomb.docx'),
    makeZipBombDocx({ inflateToBytes: 1024 * MIB, declaredBytes: 1000 }),
  );
  await writeFile(join(tmp.path, 'huge.docx'), makeLargeXmlDocx(100 * MIB));
  await writeFile(join(tmp.path, 'note.pdf'), await makePdf([NOTE]));
  worker = await startIngestWorker({
    REDIS_URL: redis.url,
    QUIRE_QUEUE_PREFIX: prefix,
    QUIRE_DATA_DIR: join(tmp.path, 'data'),
    QUIRE_FILE_ROOTS: tmp.path,
    INGEST_CONCURRENCY: '2',
    QUIRE_PARSE_POOL_SIZE: '2',
    QUIRE_PARSE_MAX_MEMORY_MB: String(CAP_MB),
    QUIRE_PARSE_TIMEOUT_MS: '90000',
    QUIRE_MAX_INFLATED_BYTES: String(128 * MIB),
  });
  producer = new Producer({ connection: redis.url, prefix });
  events = new QueueEvents(QUEUES.ingest, { connection: { url: redis.url }, prefix });
  events.on('completed', ({ jobId }) => ended.push(jobId));
  events.on('failed', ({ jobId }) => ended.push(jobId));
  await events.waitUntilReady();
  // Ordinary PDFs first, two at once: modules loaded, both children started; then the baseline.
  const warm = await Promise.all([ingest('warm', 'note.pdf'), ingest('warm-2', 'note.pdf')]);
  for (const jobId of warm) await producer.waitForJob(QUEUES.ingest, jobId, { timeoutMs: 60_000 });
  baselineBytes = (await readTreeRss(worker.pid)).ownBytes;
}, 120_000);

afterAll(async () => {
  await events?.close();
  await producer?.close();
  await worker?.kill('SIGTERM');
  await cleanupPrefix(redis.url, prefix);
  await redis?.stop();
  await tmp?.cleanup();
});

async function ingest(tenant: string, name: string): Promise<string> {
  const { jobId } = await producer.enqueueIngest({
    tenant,
    documentId: name,
    source: { kind: 'path', path: join(tmp.path, name) },
  });
  return jobId;
}

async function failure(jobId: string) {
  await producer.waitForJob(QUEUES.ingest, jobId, { timeoutMs: 120_000 }).catch(() => undefined);
  return producer.getJob(QUEUES.ingest, jobId);
}

describe('ingest worker with hostile documents', () => {
  it('fails every bomb permanently with its reason, serves another tenant meanwhile, and holds the memory bound', async () => {
    const watcher = new TreeRssWatcher(worker.pid);

    const bomb = await ingest('tenant-a', 'bomb.pdf');
    await waitFor(async () => (await producer.getJob(QUEUES.ingest, bomb))?.state === 'active', {
      timeoutMs: 30_000,
      message: 'the bomb job is active',
    });
    const small = await ingest('tenant-b', 'note.pdf');
    const result = (await producer.waitForJob(QUEUES.ingest, small, { timeoutMs: 120_000 })) as IngestResult;
    expect(result).toMatchObject({ outcome: 'ingested', kind: 'pdf' });

    const bombStatus = await failure(bomb);
    expect(bombStatus).toMatchObject({ state: 'failed', attemptsMade: 1 });
    expect(bombStatus?.failedReason).toBe(
      `"bomb.pdf": parsing needed more than ${CAP_MB} MiB of memory (limit parseMaxMemoryMb, QUIRE_PARSE_MAX_MEMORY_MB)`,
    );
    // Ordering, not timing: the small document's job ended before the bomb's.
    expect(ended.indexOf(small)).toBeGreaterThanOrEqual(0);
    expect(ended.indexOf(small)).toBeLessThan(ended.indexOf(bomb));

    const zip = await failure(await ingest('tenant-a', 'bomb.docx'));
    expect(zip).toMatchObject({ state: 'failed', attemptsMade: 1 });
    expect(zip?.failedReason).toMatch(
      /^"bomb\.docx": inflates to more than 128\.0 MiB \(limit maxInflatedBytes, QUIRE_MAX_INFLATED_BYTES\)/,
    );

    const xml = await failure(await ingest('tenant-a', 'huge.docx'));
    expect(xml).toMatchObject({ state: 'failed', attemptsMade: 1 });
    expect(xml?.failedReason).toBe(
      `"huge.docx": parsing needed more than ${CAP_MB} MiB of memory (limit parseMaxMemoryMb, QUIRE_PARSE_MAX_MEMORY_MB)`,
    );

    const peak = watcher.stop();
    expect(peak).toBeLessThan(baselineBytes + (CAP_MB + SMALL_CHILD_MB + MARGIN_MB) * MIB);
    // The worker's own memory comes back (the sandbox took the parses, not the worker).
    await waitFor(async () => Math.abs((await readTreeRss(worker.pid)).ownBytes - baselineBytes) < 50 * MIB, {
      timeoutMs: 20_000,
      intervalMs: 250,
      message: 'the worker RSS back within 50 MiB of its baseline',
    });
    // And the worker still ingests.
    const after = await producer.waitForJob(QUEUES.ingest, await ingest('tenant-c', 'note.pdf'), {
      timeoutMs: 60_000,
    });
    expect(after).toMatchObject({ outcome: 'ingested' });
  }, 300_000);
});
