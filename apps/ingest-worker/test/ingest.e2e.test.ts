/**
 * End to end through the queue: a real Redis, a real SQLite store, the worker as a separate process,
 * the producer SDK as another service would use it.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ChunkRecord, pointId, SqliteVectorStore, sqliteCollectionName } from '@quire/core';
import { type IngestResult, JobFailedError, Producer, QUEUES } from '@quire/jobs';
import {
  cleanupPrefix,
  type FixtureManifest,
  getTestRedis,
  makeTempDir,
  type SpawnedProcess,
  type TempDir,
  type TestRedis,
  uniquePrefix,
  writeFixtureSet,
} from '@quire/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIngestWorker } from './harness.js';

const TENANT = 'acme';
/** The fixtures' PDF passwords travel sealed: producer and worker share the keys. */
const SECRET_KEYS = `k1:${randomBytes(32).toString('base64')}`;
const MAX_BYTES = 2 * 1024 * 1024;

let redis: TestRedis;
let tmp: TempDir;
let prefix: string;
let worker: SpawnedProcess;
let producer: Producer;
let store: SqliteVectorStore;
let manifest: FixtureManifest;
let docs: string;

beforeAll(async () => {
  redis = await getTestRedis();
  tmp = await makeTempDir('ingest-e2e');
  prefix = uniquePrefix('ingest');
  docs = join(tmp.path, 'docs');
  manifest = await writeFixtureSet(docs);
  await writeFile(join(docs, 'huge.txt'), 'All work and no play. '.repeat(Math.ceil((MAX_BYTES * 1.5) / 22)));
  const dataDir = join(tmp.path, 'data');
  worker = await startIngestWorker({
    REDIS_URL: redis.url,
    QUIRE_QUEUE_PREFIX: prefix,
    QUIRE_DATA_DIR: dataDir,
    QUIRE_FILE_ROOTS: docs,
    QUIRE_MAX_FILE_BYTES: String(MAX_BYTES),
    INGEST_CONCURRENCY: '4',
    QUIRE_SECRET_KEYS: SECRET_KEYS,
  });
  producer = new Producer({ connection: redis.url, prefix, secretKeys: SECRET_KEYS });
  // Reading the worker's store from the test process: SQLite in WAL mode shares one file.
  store = new SqliteVectorStore({
    path: join(dataDir, 'vectors.db'),
    dimension: 384,
    collection: sqliteCollectionName('quire-hash-embed', 384),
  });
  await store.init();
}, 120_000);

afterAll(async () => {
  await producer?.close();
  await worker?.kill('SIGTERM');
  await store?.close();
  await cleanupPrefix(redis.url, prefix);
  await redis?.stop();
  await tmp?.cleanup();
});

async function ingestFile(name: string, extra: { password?: string; documentId?: string } = {}) {
  const { jobId } = await producer.enqueueIngest({
    tenant: TENANT,
    documentId: extra.documentId ?? name,
    source: { kind: 'path', path: join(docs, name) },
    ...(extra.password ? { password: extra.password } : {}),
  });
  return jobId;
}

function chunksOf(documentId: string, tenant = TENANT): Promise<ChunkRecord[]> {
  return store.listChunks(tenant, { documentId });
}

describe('ingest worker, end to end', () => {
  it('ingests every good fixture with its pages and headings, and fails every bad one at once with its reason', async () => {
    const names = [...Object.keys(manifest), 'huge.txt'];
    // Bad files first, so the good ones prove the worker kept serving after each failure.
    names.sort((a, b) => Number(manifest[a]?.outcome === 'ok') - Number(manifest[b]?.outcome === 'ok'));
    const jobs = new Map<string, string>();
    for (const name of names)
      jobs.set(name, await ingestFile(name, { password: manifest[name]?.password ?? '' }));

    for (const name of names) {
      const jobId = jobs.get(name)!;
      const expected = manifest[name] ?? { outcome: 'error' as const, code: 'too_large' };
      if (expected.outcome === 'ok') {
        const result = (await producer.waitForJob(QUEUES.ingest, jobId, {
          timeoutMs: 60_000,
        })) as IngestResult;
        expect(result, name).toMatchObject({
          outcome: 'ingested',
          kind: expected.kind,
          pages: expected.pageCount,
        });
        const chunks = await chunksOf(name);
        expect(chunks.length, name).toBe(result.chunks);
        expect(chunks.every((c) => c.chunkCount === result.chunks && c.version === result.version)).toBe(
          true,
        );
        const normalised = (s: string) => s.replace(/\s+/g, ' ');
        const holder = chunks.find((c) => normalised(c.text).includes(normalised(expected.phrase)));
        expect(holder, `${name}: a chunk holds "${expected.phrase}"`).toBeDefined();
        expect(holder?.pageStart, name).toBe(expected.page);
        // Tiny neighbouring sections may share a chunk, which then carries their common heading path.
        const path = holder?.headingPath ?? [];
        expect(expected.headingPath.slice(0, path.length), name).toEqual(path);
        expect(path.length > 0, name).toBe(expected.headingPath.length > 0);
      } else {
        const error = await producer
          .waitForJob(QUEUES.ingest, jobId, { timeoutMs: 60_000 })
          .catch((e: unknown) => e);
        expect(error, name).toBeInstanceOf(JobFailedError);
        const status = await producer.getJob(QUEUES.ingest, jobId);
        expect(status?.state, name).toBe('failed');
        // Permanent: one attempt, no retries, and the reason names the file.
        expect(status?.attemptsMade, name).toBe(1);
        expect(status?.failedReason, name).toContain(name);
        expect(await chunksOf(name)).toHaveLength(0);
      }
    }
    const failed = await producer.queue(QUEUES.ingest).getFailed();
    const reasons = Object.fromEntries(failed.map((j) => [j.data.documentId, j.failedReason]));
    expect(reasons['locked-no-password.pdf']).toMatch(/password/i);
    expect(reasons['scanned.pdf']).toMatch(/scanned|OCR/i);
    expect(reasons['huge.txt']).toMatch(/bytes|large|limit/i);
    expect(reasons['photo.png']).toMatch(/png|image|unsupported/i);
  }, 180_000);

  it('skips an unchanged document, replaces a changed one, and deletes', async () => {
    const path = join(docs, 'living.md');
    await writeFile(path, '# Living document\n\nThe first version talks about herons.\n');
    const first = await producer.waitForJob(QUEUES.ingest, await ingestFile('living.md'), {
      timeoutMs: 30_000,
    });
    expect(first).toMatchObject({ outcome: 'ingested' });

    const again = await producer.waitForJob(QUEUES.ingest, await ingestFile('living.md'), {
      timeoutMs: 30_000,
    });
    expect(again).toMatchObject({ outcome: 'skipped', chunksEmbedded: 0 });

    await writeFile(
      path,
      '# Living document\n\nThe second version talks about cormorants.\n\n## More\n\nAnd gulls.\n',
    );
    const changed = (await producer.waitForJob(QUEUES.ingest, await ingestFile('living.md'), {
      timeoutMs: 30_000,
    })) as IngestResult;
    expect(changed.outcome).toBe('ingested');
    const chunks = await chunksOf('living.md');
    expect(new Set(chunks.map((c) => c.version))).toEqual(new Set([changed.version]));
    expect(chunks.map((c) => c.text).join(' ')).toContain('cormorants');
    expect(chunks.map((c) => c.text).join(' ')).not.toContain('herons');

    const { jobId } = await producer.enqueueDelete({ tenant: TENANT, documentId: 'living.md' });
    expect(await producer.waitForJob(QUEUES.ingest, jobId, { timeoutMs: 30_000 })).toMatchObject({
      outcome: 'deleted',
    });
    expect(await chunksOf('living.md')).toHaveLength(0);
  }, 60_000);

  it('lets the last enqueued of two concurrent jobs for one document win, complete', async () => {
    const versions = ['alpha', 'beta', 'gamma', 'delta'];
    const jobIds: string[] = [];
    for (const word of versions) {
      const { jobId } = await producer.enqueueIngest({
        tenant: TENANT,
        documentId: 'contested',
        source: {
          kind: 'text',
          text: `Contested document, version ${word}. `.repeat(300),
          name: 'contested.txt',
        },
      });
      jobIds.push(jobId);
    }
    const results = (await Promise.all(
      jobIds.map((id) => producer.waitForJob(QUEUES.ingest, id, { timeoutMs: 60_000 })),
    )) as IngestResult[];
    const last = results.at(-1)!;
    expect(last.outcome).toBe('ingested');
    const chunks = await chunksOf('contested');
    expect(chunks.length).toBe(last.chunks);
    expect(new Set(chunks.map((c) => c.version))).toEqual(new Set([last.version]));
    expect(chunks.every((c) => c.text.includes('delta'))).toBe(true);
    // The earlier jobs either finished before or found a later one had won.
    for (const r of results.slice(0, -1)) expect(['ingested', 'superseded']).toContain(r.outcome);
  }, 90_000);

  it('keeps tenants apart', async () => {
    const { jobId } = await producer.enqueueIngest({
      tenant: 'other-tenant',
      documentId: 'report.pdf',
      source: { kind: 'path', path: join(docs, 'report.pdf') },
    });
    const result = (await producer.waitForJob(QUEUES.ingest, jobId, { timeoutMs: 30_000 })) as IngestResult;
    const mine = await chunksOf('report.pdf', 'other-tenant');
    expect(mine.length).toBe(result.chunks);
    expect(mine[0]?.id).toBe(pointId('other-tenant', 'report.pdf', result.version!, 0));
    const hits = await store.searchLexical('other-tenant', 'lighthouse harbour ferry tide', { limit: 50 });
    expect(hits.length).toBeGreaterThan(0);
    expect(
      hits.every((h) => h.record.tenant === 'other-tenant' && h.record.documentId === 'report.pdf'),
    ).toBe(true);
    // The same file under a second id of that tenant is reported as a copy of the first.
    const copy = await producer.enqueueIngest({
      tenant: 'other-tenant',
      documentId: 'report-copy.pdf',
      source: { kind: 'path', path: join(docs, 'report.pdf') },
    });
    const copied = (await producer.waitForJob(QUEUES.ingest, copy.jobId, {
      timeoutMs: 30_000,
    })) as IngestResult;
    expect(copied.outcome).toBe('ingested');
    expect(copied.duplicateOf).toEqual(['report.pdf']);
    expect(result.duplicateOf).toBeUndefined();
  }, 60_000);
});
