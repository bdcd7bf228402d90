import { cleanupPrefix, getTestRedis, type TestRedis, uniquePrefix } from '@quire/testkit';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  documentOrderKeys,
  JobFailedError,
  JobInputError,
  JobResultError,
  JobTimeoutError,
  Producer,
  QUEUES,
} from '../src/index.js';

let redis: TestRedis;
let client: Redis;
let prefix: string;
let producer: Producer;
const workers: Worker[] = [];

beforeAll(async () => {
  redis = await getTestRedis();
  client = new Redis(redis.url, { maxRetriesPerRequest: null });
});
afterAll(async () => {
  client.disconnect();
  await redis.stop();
});
beforeEach(() => {
  prefix = uniquePrefix('jobs');
  producer = new Producer({ connection: redis.url, prefix });
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.close()));
  await producer.close();
  await cleanupPrefix(redis.url, prefix);
});

describe('Producer', () => {
  it('enqueues a valid ingest job with a per-document sequence number', async () => {
    const a = await producer.enqueueIngest({
      tenant: 't1',
      documentId: 'doc',
      source: { kind: 'text', text: 'hello' },
    });
    const b = await producer.enqueueIngest({
      tenant: 't1',
      documentId: 'doc',
      source: { kind: 'text', text: 'again' },
    });
    const other = await producer.enqueueIngest({
      tenant: 't1',
      documentId: 'x',
      source: { kind: 'text', text: 'x' },
    });
    const jobs = await Promise.all([a, b, other].map((j) => producer.queue(QUEUES.ingest).getJob(j.jobId)));
    expect(jobs.map((j) => j?.data.seq)).toEqual([1, 2, 1]);
    // The documented key, so producers in other languages can take numbers too.
    expect(await client.get(`${prefix}:doc:seq:t1:${Buffer.from('doc').toString('base64url')}`)).toBe('2');
    expect(documentOrderKeys(prefix, 't1', 'doc/ü?').seq).toBe(
      `${prefix}:doc:seq:t1:${Buffer.from('doc/ü?').toString('base64url')}`,
    );
    const status = await producer.getJob(QUEUES.ingest, a.jobId);
    expect(status).toMatchObject({ state: 'waiting', tenant: 't1', name: 'ingest', failedReason: null });
  });

  it('writes the oldest payload version that carries a question or a batch', async () => {
    const plain = await producer.enqueueQuery({ tenant: 't1', question: 'Why?', options: { topN: 20 } });
    const budget = await producer.enqueueQuery({
      tenant: 't1',
      question: 'Why?',
      options: { topN: 40, contextTokens: 8000 },
    });
    const query = producer.queue(QUEUES.query);
    expect((await query.getJob(plain.jobId))?.data).toMatchObject({ v: 1, options: { topN: 20 } });
    expect((await query.getJob(budget.jobId))?.data).toMatchObject({
      v: 2,
      options: { topN: 40, contextTokens: 8000 },
    });
    await expect(
      producer.enqueueQuery({ tenant: 't1', question: 'Why?', options: { contextTokens: 40_000 } }),
    ).rejects.toThrow(/contextTokens/);

    const { batchId } = await producer.enqueueBatch({
      tenant: 't1',
      questions: [{ question: 'One?' }, { question: 'Two?' }],
      options: { include: { passages: true, candidates: true } },
    });
    const parent = await producer.queue(QUEUES.batch).getJob(batchId);
    expect(parent?.data).toMatchObject({ v: 2, options: { include: { passages: true, candidates: true } } });
    const child = await query.getJob(`${batchId}-q1`);
    expect(child?.data).toMatchObject({ v: 2, question: 'Two?', batch: { id: batchId, index: 1 } });
    expect(await producer.getBatch(batchId)).toMatchObject({ total: 2 });
  });

  it('refuses bad payloads with a message naming the field, and enqueues nothing', async () => {
    await expect(
      producer.enqueueIngest({ tenant: 'bad tenant!', documentId: 'd', source: { kind: 'text', text: 'x' } }),
    ).rejects.toThrow(/tenant/);
    await expect(
      // @ts-expect-error: an unknown source kind, as a caller without types could send
      producer.enqueueIngest({ tenant: 't', documentId: 'd', source: { kind: 'ftp', url: 'ftp://x' } }),
    ).rejects.toBeInstanceOf(JobInputError);
    await expect(
      producer.enqueueIngest({ tenant: 't', documentId: '', source: { kind: 'text', text: 'x' } }),
    ).rejects.toThrow(/documentId/);
    await expect(
      producer.enqueueIngest({
        tenant: 't',
        documentId: 'd',
        source: { kind: 'base64', data: '@@not base64@@', name: 'a.bin' },
      }),
    ).rejects.toThrow(/base64/i);
    expect(await producer.queue(QUEUES.ingest).count()).toBe(0);
  });

  it('waits for a job result, and reports timeouts and unknown jobs', async () => {
    const worker = new Worker(
      QUEUES.ingest,
      async (job) => {
        if (job.data.documentId === 'fail') throw new Error('boom');
        if (job.data.documentId === 'slow') await new Promise((r) => setTimeout(r, 1_500));
        return { ok: job.data.documentId };
      },
      { connection: client, prefix },
    );
    workers.push(worker);
    const ok = await producer.enqueueIngest({
      tenant: 't',
      documentId: 'ok',
      source: { kind: 'text', text: 'x' },
    });
    await expect(producer.waitForJob(QUEUES.ingest, ok.jobId, { timeoutMs: 10_000 })).resolves.toEqual({
      ok: 'ok',
    });

    const bad = await producer.enqueueIngest({
      tenant: 't',
      documentId: 'fail',
      source: { kind: 'text', text: 'x' },
    });
    // Default options: several attempts with exponential backoff.
    expect((await producer.queue(QUEUES.ingest).getJob(bad.jobId))?.opts).toMatchObject({
      attempts: 5,
      backoff: { type: 'exponential' },
    });

    const slow = await producer.enqueueIngest({
      tenant: 't',
      documentId: 'slow',
      source: { kind: 'text', text: 'x' },
    });
    await expect(producer.waitForJob(QUEUES.ingest, slow.jobId, { timeoutMs: 300 })).rejects.toBeInstanceOf(
      JobTimeoutError,
    );
    await expect(
      producer.waitForJob(QUEUES.ingest, 'no-such-job', { timeoutMs: 300 }),
    ).rejects.toBeInstanceOf(JobFailedError);
  });

  it('checks the answer it reads back against the contract', async () => {
    workers.push(
      new Worker(
        QUEUES.query,
        async (job) =>
          job.data.question === 'bad?'
            ? { v: 1, tenant: 't', question: 'bad?', answer: 42 }
            : {
                v: 1,
                tenant: 't',
                question: job.data.question,
                answer: 'Yes [1].',
                notFound: false,
                generated: true,
                citations: [],
                passages: [],
                reranked: true,
                removedCitations: [],
                usage: { embeddingTokens: 1, documentsReranked: 0, promptTokens: 0, completionTokens: 0 },
                timingsMs: { embed: 1, search: 1, rerank: 0, generate: 0, total: 2 },
                candidates: 0,
                promptVersion: 'p1',
              },
        { connection: client, prefix },
      ),
    );
    await expect(
      producer.ask({ tenant: 't', question: 'good?' }, { timeoutMs: 10_000 }),
    ).resolves.toMatchObject({
      answer: 'Yes [1].',
    });
    const error = await producer
      .ask({ tenant: 't', question: 'bad?' }, { timeoutMs: 10_000 })
      .catch((e) => e);
    expect(error).toBeInstanceOf(JobResultError);
    expect(error.message).toMatch(/invalid result: answer: .*; notFound/);
    // Asked again under the id of a job that has finished: its answer, without running it again.
    const first = await producer.ask(
      { tenant: 't', question: 'once?' },
      { jobId: 'q-once', timeoutMs: 10_000 },
    );
    const again = await producer.ask(
      { tenant: 't', question: 'twice?' },
      { jobId: 'q-once', timeoutMs: 10_000 },
    );
    expect(again).toEqual(first);
    expect(again.question).toBe('once?');
  });

  it('reports a job that fails for good with its reason', async () => {
    const p = new Producer({ connection: redis.url, prefix, jobOptions: { attempts: 1 } });
    try {
      workers.push(
        new Worker(
          QUEUES.ingest,
          async (): Promise<unknown> => {
            throw new Error('the document is unreadable');
          },
          { connection: client, prefix },
        ),
      );
      const { jobId } = await p.enqueueIngest({
        tenant: 't',
        documentId: 'd',
        source: { kind: 'text', text: 'x' },
      });
      await expect(p.waitForJob(QUEUES.ingest, jobId, { timeoutMs: 10_000 })).rejects.toThrow(
        /the document is unreadable/,
      );
      expect(await p.getJob(QUEUES.ingest, jobId)).toMatchObject({
        state: 'failed',
        failedReason: 'the document is unreadable',
      });
    } finally {
      await p.close();
    }
  });
});
