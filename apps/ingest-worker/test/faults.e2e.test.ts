/**
 * Faults for real: the worker killed with SIGKILL mid-ingestion, and a provider answering 429.
 * The model API is the testkit server over HTTP, so latency and faults are real network behaviour.
 */
import { join } from 'node:path';
import { pointId, SqliteVectorStore, sqliteCollectionName } from '@quire/core';
import { type IngestProgress, type IngestResult, Producer, QUEUES } from '@quire/jobs';
import {
  cleanupPrefix,
  getTestRedis,
  makeTempDir,
  type RunningModelServer,
  type SpawnedProcess,
  startModelServer,
  type TempDir,
  type TestRedis,
  uniquePrefix,
  waitFor,
} from '@quire/testkit';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startIngestWorker } from './harness.js';

const DIMENSION = 64;
const MODEL = 'test-embed';

let redis: TestRedis;
let tmp: TempDir;
let server: RunningModelServer;
let prefix: string;
let producer: Producer;
let store: SqliteVectorStore;
const running: SpawnedProcess[] = [];

function workerEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    REDIS_URL: redis.url,
    QUIRE_QUEUE_PREFIX: prefix,
    QUIRE_DATA_DIR: join(tmp.path, prefix),
    QUIRE_MODEL_BASE_URL: server.url,
    QUIRE_MODEL_API_KEY: 'sk-test-secret-key',
    QUIRE_EMBEDDING_MODEL: MODEL,
    QUIRE_EMBEDDING_DIMENSION: String(DIMENSION),
    QUIRE_RERANK_MODEL: 'test-rerank',
    QUIRE_CHAT_MODEL: 'test-chat',
    QUIRE_EMBED_BATCH_SIZE: '4',
    QUIRE_EMBED_CONCURRENCY: '1',
    QUIRE_MODEL_MAX_RETRIES: '0',
    WORKER_LOCK_MS: '2000',
    WORKER_STALLED_INTERVAL_MS: '1000',
    ...extra,
  };
}

async function start(extra: Record<string, string> = {}) {
  const p = await startIngestWorker(workerEnv(extra));
  running.push(p);
  return p;
}

/** A long text: many chunks, so many embedding batches. */
function bookText(label: string): string {
  return Array.from(
    { length: 60 },
    (_, i) =>
      `Chapter ${i + 1} of the ${label} log. The keeper of station ${i} wrote about the weather, ` +
      `the boats that passed, and the lamp oil used that night. `.repeat(12),
  ).join('\n\n');
}

beforeAll(async () => {
  redis = await getTestRedis();
  tmp = await makeTempDir('ingest-faults');
  server = await startModelServer({ apiKey: 'sk-test-secret-key', dimension: DIMENSION });
});
afterAll(async () => {
  await server?.close();
  await redis?.stop();
  await tmp?.cleanup();
});
beforeEach(async () => {
  prefix = uniquePrefix('faults');
  producer = new Producer({ connection: redis.url, prefix });
  store = new SqliteVectorStore({
    path: join(tmp.path, prefix, 'vectors.db'),
    dimension: DIMENSION,
    collection: sqliteCollectionName(MODEL, DIMENSION),
  });
  await store.init();
  server.setOptions({ latencyMs: 0, rateLimit: {}, failNext: [] });
  server.resetStats();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill('SIGKILL')));
  await producer.close();
  await store.close();
  await cleanupPrefix(redis.url, prefix);
});

describe('ingest worker under faults', () => {
  it('completes a job whose worker was killed mid-ingestion, with exactly the chunks of a clean run', async () => {
    server.setOptions({ latencyMs: 150 });
    const first = await start();
    const text = bookText('storm');
    const { jobId } = await producer.enqueueIngest({
      tenant: 'crash',
      documentId: 'book',
      source: { kind: 'text', text, name: 'book.txt' },
    });
    // Wait until some batches are stored, then kill the worker without warning.
    await waitFor(
      async () => {
        const p = (await producer.getJob(QUEUES.ingest, jobId))?.progress as IngestProgress | null;
        return (p?.batchesDone ?? 0) >= 3 ? p : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 50, message: 'some batches stored' },
    );
    await first.kill('SIGKILL');
    const partial = await store.listChunks('crash', { documentId: 'book' });
    expect(partial.length).toBeGreaterThan(0);

    server.setOptions({ latencyMs: 0 });
    await start();
    const result = (await producer.waitForJob(QUEUES.ingest, jobId, { timeoutMs: 60_000 })) as IngestResult;
    expect(result.outcome).toBe('ingested');
    // Resumed: the chunks stored before the crash were not embedded again.
    expect(result.chunksEmbedded).toBeLessThan(result.chunks);

    // A clean run of the same document in another tenant, for comparison.
    const clean = await producer.enqueueIngest({
      tenant: 'clean',
      documentId: 'book',
      source: { kind: 'text', text, name: 'book.txt' },
    });
    const cleanResult = (await producer.waitForJob(QUEUES.ingest, clean.jobId, {
      timeoutMs: 60_000,
    })) as IngestResult;
    const crashed = await store.listChunks('crash', { documentId: 'book' });
    const reference = await store.listChunks('clean', { documentId: 'book' });
    expect(crashed.length).toBe(cleanResult.chunks);
    expect(crashed.map((c) => c.id)).toEqual(
      crashed.map((c) => pointId('crash', 'book', result.version!, c.chunkIndex)),
    );
    const shape = (c: (typeof crashed)[number]) => [
      c.version,
      c.chunkIndex,
      c.chunkCount,
      c.text,
      c.pageStart,
      c.pageEnd,
    ];
    expect(crashed.map(shape)).toEqual(reference.map(shape));
  }, 120_000);

  it('removes what a job stored before it failed for good, and names the document in the reason', async () => {
    server.setOptions({ latencyMs: 100 });
    await start();
    const { jobId } = await producer.enqueueIngest({
      tenant: 'broken',
      documentId: 'half-written',
      source: { kind: 'text', text: bookText('failing'), name: 'half.txt' },
    });
    await waitFor(
      async () => {
        const p = (await producer.getJob(QUEUES.ingest, jobId))?.progress as IngestProgress | null;
        return (p?.batchesDone ?? 0) >= 2 ? p : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 20, message: 'some batches stored' },
    );
    // The provider now refuses the request for good (a 400 is not retried).
    server.setOptions({
      failNext: [{ status: 400, body: { error: { message: 'input rejected', type: 'invalid_request' } } }],
    });
    const failure = await producer
      .waitForJob(QUEUES.ingest, jobId, { timeoutMs: 30_000 })
      .catch((e: unknown) => e);
    expect(String(failure)).toMatch(/input rejected/);
    const status = await producer.getJob(QUEUES.ingest, jobId);
    expect(status).toMatchObject({ state: 'failed', attemptsMade: 1 });
    expect(status?.failedReason).toContain('half-written');
    await waitFor(async () => ((await store.listChunks('broken')).length === 0 ? true : undefined), {
      timeoutMs: 5_000,
      message: 'the unfinished version removed',
    });
  }, 60_000);

  it('rides out provider 429s without losing an attempt', async () => {
    await start();
    server.setOptions({
      failNext: Array.from({ length: 3 }, () => ({
        status: 429,
        headers: { 'retry-after-ms': '300' },
        body: { error: { message: 'slow down', type: 'rate_limit' } },
      })),
    });
    const { jobId } = await producer.enqueueIngest({
      tenant: 't',
      documentId: 'rated',
      source: { kind: 'text', text: bookText('calm').slice(0, 20_000), name: 'rated.txt' },
    });
    const result = (await producer.waitForJob(QUEUES.ingest, jobId, { timeoutMs: 60_000 })) as IngestResult;
    expect(result.outcome).toBe('ingested');
    expect(server.stats.byStatus[429]).toBe(3);
    const job = await producer.queue(QUEUES.ingest).getJob(jobId);
    // Rate limiting moved the job back to waiting; it never counted as a failed attempt.
    expect(job?.attemptsMade).toBeLessThanOrEqual(1);
    expect(job?.failedReason ?? '').toBe('');
    expect(await store.countChunks('t', 'rated', result.version!)).toBe(result.chunks);
  }, 60_000);
});
