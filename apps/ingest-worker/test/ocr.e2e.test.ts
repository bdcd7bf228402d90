/**
 * A scanned contract through the whole path: the producer enqueues an image-only PDF, the worker
 * (a separate process, OCR on by default) reads its pages by OCR and stores chunks marked as OCR
 * text, and a question is answered from it with the page that holds the answer cited.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BuiltinModels } from '@quire/api-client';
import { answerQuestion, BUILTIN_MODEL_NAMES, SqliteVectorStore, sqliteCollectionName } from '@quire/core';
import { type IngestResult, Producer, QUEUES } from '@quire/jobs';
import {
  cleanupPrefix,
  getTestRedis,
  makeImagePdf,
  makeTempDir,
  renderTextPage,
  type SpawnedProcess,
  type TempDir,
  type TestRedis,
  uniquePrefix,
  wordRecall,
} from '@quire/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIngestWorker } from './harness.js';

const TENANT = 'acme';
const COVER = [
  'Commercial lease of the harbour warehouse.',
  'This contract is made between the port authority and the tenant.',
  'The warehouse stands at the end of the northern pier.',
];
const TERMS = [
  'Payment terms of the lease.',
  'The annual rent is forty two thousand euros, paid each quarter.',
  'The security deposit is returned within sixty days of the end of the lease.',
  'Late payments carry interest of four percent per year.',
];

let redis: TestRedis;
let tmp: TempDir;
let prefix: string;
let worker: SpawnedProcess;
let producer: Producer;
let store: SqliteVectorStore;
let docs: string;

beforeAll(async () => {
  redis = await getTestRedis();
  tmp = await makeTempDir('ocr-e2e');
  prefix = uniquePrefix('ocr');
  docs = join(tmp.path, 'docs');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(docs, { recursive: true });
  const pdf = await makeImagePdf([
    { image: await renderTextPage(COVER) },
    { image: await renderTextPage(TERMS) },
  ]);
  await writeFile(join(docs, 'lease-scan.pdf'), pdf);
  const dataDir = join(tmp.path, 'data');
  worker = await startIngestWorker({
    REDIS_URL: redis.url,
    QUIRE_QUEUE_PREFIX: prefix,
    QUIRE_DATA_DIR: dataDir,
    QUIRE_FILE_ROOTS: docs,
    QUIRE_OCR_LANGS: 'eng',
  });
  producer = new Producer({ connection: redis.url, prefix });
  store = new SqliteVectorStore({
    path: join(dataDir, 'vectors.db'),
    dimension: 384,
    collection: sqliteCollectionName(BUILTIN_MODEL_NAMES.embedding, 384),
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

describe('ingest worker with OCR, end to end', () => {
  it('ingests a scanned PDF and answers a question from it, citing its page', async () => {
    const { jobId } = await producer.enqueueIngest({
      tenant: TENANT,
      documentId: 'lease-scan',
      source: { kind: 'path', path: join(docs, 'lease-scan.pdf') },
    });
    const result = (await producer.waitForJob(QUEUES.ingest, jobId, { timeoutMs: 240_000 })) as IngestResult;
    expect(result).toMatchObject({ outcome: 'ingested', kind: 'pdf', pages: 2 });

    const chunks = await store.listChunks(TENANT, { documentId: 'lease-scan' });
    expect(chunks.length).toBe(result.chunks);
    for (const chunk of chunks) {
      expect(chunk.metadata).toMatchObject({ ocr: true });
      expect(chunk.metadata.ocrConfidence).toBeGreaterThan(80);
    }
    const page2 = chunks
      .filter((c) => c.pageStart === 2)
      .map((c) => c.text)
      .join('\n');
    expect(wordRecall(TERMS.join('\n'), page2)).toBeGreaterThanOrEqual(0.95);

    const answer = await answerQuestion(
      { store, models: new BuiltinModels({ dimension: 384 }), modelNames: BUILTIN_MODEL_NAMES },
      { tenant: TENANT, question: 'Within how many days is the security deposit returned?' },
    );
    expect(answer.notFound).toBe(false);
    expect(answer.answer).toMatch(/sixty days/i);
    expect(answer.citations.length).toBeGreaterThan(0);
    expect(answer.citations[0]).toMatchObject({ pageStart: 2 });
  }, 300_000);
});
