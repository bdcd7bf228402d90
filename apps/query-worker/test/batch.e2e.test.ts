/**
 * Batches end to end: a BullMQ flow enqueued by the producer SDK, its questions answered by the
 * query worker process, the report gathered by the same process on the `batch` queue; documents
 * ingested by the ingest worker process; the model API being the testkit server over HTTP.
 */
import {
  BatchItemSchema,
  type BatchReport,
  batchReportToCsv,
  batchReportToJsonl,
  JobInputError,
  Producer,
  QUEUES,
} from '@quire/jobs';
import { waitFor } from '@quire/testkit';
import { parse } from 'csv-parse/sync';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { documentSet, FACTS, TENANT_A, TENANT_B, TENANT_B_FACT, UNANSWERABLE } from './documents.js';
import { type Stack, startStack } from './harness.js';

const REFUSED_WORD = 'classified';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    label: 'batch-e2e',
    queryEnv: { QUIRE_MIN_RERANK_SCORE: '0.2', QUERY_CONCURRENCY: '16' },
  });
  const results = await stack.ingest(await documentSet());
  for (const result of results) expect(result.outcome).toBe('ingested');
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

afterEach(() => {
  stack.models.refuseWord = null;
});

/** `count` questions cycling over the known facts, with ids `q0`, `q1`, … */
function questions(count: number) {
  return Array.from({ length: count }, (_, i) => ({
    id: `q${i}`,
    question: FACTS[i % FACTS.length]!.question,
  }));
}

/** Reads a CSV export back into report items. */
function itemsFromCsv(csv: string) {
  const rows = parse(csv, { columns: true }) as Record<string, string>[];
  return rows.map((row) =>
    BatchItemSchema.parse(
      row.ok === 'true'
        ? {
            ok: true,
            index: Number(row.index),
            id: row.id === '' ? null : row.id,
            question: row.question,
            answer: row.answer,
            notFound: row.not_found === 'true',
            reranked: row.reranked === 'true',
            ...(row.rerank_error === '' ? {} : { rerankError: row.rerank_error }),
            citations: JSON.parse(row.citations ?? ''),
            timingsMs: {
              embed: Number(row.embed_ms),
              search: Number(row.search_ms),
              rerank: Number(row.rerank_ms),
              generate: Number(row.generate_ms),
              total: Number(row.total_ms),
            },
          }
        : {
            ok: false,
            index: Number(row.index),
            id: row.id === '' ? null : row.id,
            question: row.question,
            error: row.error,
          },
    ),
  );
}

describe('batches, end to end', () => {
  it('completes a batch whose failing questions are listed, with progress, and exports that read back', async () => {
    const failing = new Set([17, 88, 150]);
    const input = questions(200).map((q, i) =>
      failing.has(i) ? { ...q, question: `What does the ${REFUSED_WORD} file number ${i} say?` } : q,
    );
    input[42] = { id: 'q42', question: UNANSWERABLE };
    // The model API refuses these questions' embeddings with 400: permanent, so they fail at once.
    stack.models.refuseWord = REFUSED_WORD;
    const { batchId } = await stack.producer.enqueueBatch({
      tenant: TENANT_A,
      name: 'two hundred',
      questions: input,
    });

    const seen: { answered: number; failed: number; pending: number }[] = [];
    const finished = await waitFor(
      async () => {
        const status = await stack.producer.getBatch(batchId);
        if (status === null) throw new Error(`batch ${batchId} not found`);
        seen.push({ answered: status.answered, failed: status.failed, pending: status.pending });
        return status.state === 'completed' ? status : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 100, message: 'the batch completes' },
    );
    // Progress adds up at every look, and never goes back.
    for (const [i, counts] of seen.entries()) {
      expect(counts.answered + counts.failed + counts.pending).toBe(200);
      const previous = seen[i - 1];
      if (previous === undefined) continue;
      expect(counts.answered).toBeGreaterThanOrEqual(previous.answered);
      expect(counts.failed).toBeGreaterThanOrEqual(previous.failed);
    }
    expect(finished).toMatchObject({ total: 200, answered: 197, failed: 3, pending: 0, enqueued: true });
    expect(finished.name).toBe('two hundred');

    const report = await stack.producer.waitForBatch(batchId, { timeoutMs: 10_000 });
    expect(report).toEqual(finished.report);
    expect(report).toMatchObject({ batchId, tenant: TENANT_A, total: 200, answered: 197, failed: 3 });
    expect(report.items.map((item) => item.index)).toEqual([...Array(200).keys()]);
    expect(report.items.map((item) => item.id)).toEqual(input.map((q) => q.id));
    for (const item of report.items) {
      expect(item.question).toBe(input[item.index]!.question);
      if (failing.has(item.index)) {
        expect(item.ok, `question ${item.index}`).toBe(false);
        if (!item.ok) expect(item.error).toMatch(/content policy/);
        continue;
      }
      expect(item.ok, `question ${item.index}`).toBe(true);
      if (!item.ok) continue;
      if (item.index === 42) {
        expect(item).toMatchObject({ notFound: true, citations: [] });
        continue;
      }
      const fact = FACTS.find((f) => f.question === item.question)!;
      expect(item.answer).toContain(fact.expected);
      expect(item.citations.some((c) => c.documentId === fact.documentId && c.pageStart === fact.page)).toBe(
        true,
      );
    }
    // The failed questions failed once each, for good, and held nothing up.
    for (const index of failing) {
      const status = await stack.producer.getJob(QUEUES.query, `${batchId}-q${index}`);
      expect(status).toMatchObject({ state: 'failed', attemptsMade: 1 });
    }

    const jsonl = batchReportToJsonl(report);
    const lines = jsonl.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((line) => BatchItemSchema.parse(JSON.parse(line)))).toEqual(report.items);
    expect(itemsFromCsv(batchReportToCsv(report))).toEqual(report.items);
  }, 120_000);

  it('keeps a batch inside its tenant', async () => {
    const { batchId } = await stack.producer.enqueueBatch({
      tenant: TENANT_B,
      questions: [...FACTS, TENANT_B_FACT].map((fact) => ({ question: fact.question })),
    });
    const report = await stack.producer.waitForBatch(batchId, { timeoutMs: 60_000 });
    expect(report).toMatchObject({ tenant: TENANT_B, total: FACTS.length + 1, failed: 0 });
    const own = new Set(['south-cape.txt', 'vault-notes.txt']);
    for (const item of report.items) {
      if (!item.ok) throw new Error(`question ${item.index} failed: ${item.error}`);
      expect(
        item.citations.every((c) => own.has(c.sourceName)),
        item.question,
      ).toBe(true);
      for (const fact of FACTS) expect(item.answer).not.toContain(fact.expected);
    }
    const last = report.items.at(-1);
    expect(last?.ok && last.answer).toContain(TENANT_B_FACT.expected);
  }, 90_000);

  it('completes a batch of 1,000 questions', async () => {
    const input = questions(1000);
    const { batchId } = await stack.producer.enqueueBatch({ tenant: TENANT_A, questions: input });
    const report = await stack.producer.waitForBatch(batchId, { timeoutMs: 120_000 });
    expect(report).toMatchObject({ total: 1000, answered: 1000, failed: 0 });
    expect(report.items.every((item, i) => item.ok && item.id === `q${i}`)).toBe(true);
    expect(await stack.producer.getBatch(batchId)).toMatchObject({ state: 'completed', enqueued: true });
  }, 150_000);

  it('never completes a batch cut short while being enqueued, and finishes it when enqueued again', async () => {
    const list = questions(250);
    // One question fails before the cut, so that enqueueing again must leave a failed question alone.
    list[30] = { id: 'q30', question: `What does the ${REFUSED_WORD} memo say?` };
    stack.models.refuseWord = REFUSED_WORD;
    const input = { tenant: TENANT_A, questions: list };
    const producer = new Producer({ connection: stack.redis.url, prefix: stack.prefix, batchChunkSize: 50 });
    try {
      const stop = new AbortController();
      const cut = await producer
        .enqueueBatch(input, {
          batchId: 'cut-short',
          signal: stop.signal,
          onProgress: (enqueued) => {
            if (enqueued >= 100) stop.abort(new Error('stopped by the caller'));
          },
        })
        .catch((e: unknown) => e);
      expect(cut).toBeInstanceOf(Error);
      expect((cut as Error).message).toBe('stopped by the caller');

      // Every question that made it in is answered, yet the batch waits for the rest.
      const waiting = await waitFor(
        async () => {
          const status = await producer.getBatch('cut-short');
          return status !== null && status.answered + status.failed === 100 ? status : undefined;
        },
        { timeoutMs: 30_000, message: 'the enqueued questions are answered' },
      );
      expect(waiting).toMatchObject({
        state: 'waiting-children',
        enqueued: false,
        total: 250,
        answered: 99,
        failed: 1,
        pending: 150,
        report: null,
      });
      expect(await producer.queue(QUEUES.query).getJob('cut-short-q100')).toBeUndefined();

      // Other questions under this id are refused; the same ones resume the batch.
      await expect(
        producer.enqueueBatch({ ...input, questions: questions(10) }, { batchId: 'cut-short' }),
      ).rejects.toThrow(JobInputError);
      let progress = 0;
      await producer.enqueueBatch(input, {
        batchId: 'cut-short',
        onProgress: (enqueued) => {
          progress = enqueued;
        },
      });
      expect(progress).toBe(250);
      const report: BatchReport = await producer.waitForBatch('cut-short', { timeoutMs: 60_000 });
      expect(report).toMatchObject({ total: 250, answered: 249, failed: 1 });
      expect(report.items.map((item) => item.id)).toEqual(list.map((q) => q.id));
      expect(report.items.filter((item) => !item.ok).map((item) => item.index)).toEqual([30]);

      // Enqueueing a complete batch again changes nothing.
      await producer.enqueueBatch(input, { batchId: 'cut-short' });
      expect(await producer.getBatch('cut-short')).toMatchObject({
        state: 'completed',
        enqueued: true,
        answered: 249,
      });
      expect(await producer.queue(QUEUES.query).getJobCountByTypes('waiting', 'active', 'delayed')).toBe(0);
    } finally {
      await producer.close();
    }
  }, 120_000);
});
