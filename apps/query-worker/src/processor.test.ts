import { type BatchJobData, batchChildId, type QueryResult } from '@quire/jobs';
import { UnrecoverableError } from 'bullmq';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { type BatchParentJob, createBatchProcessor } from './processor.js';

const logger = pino({ level: 'silent' });
const processBatch = createBatchProcessor({ logger });

const data: BatchJobData = {
  v: 1,
  batchId: 'b1',
  tenant: 'acme',
  name: 'three',
  questions: [
    { id: 'first', question: 'What fuel does the lamp burn?' },
    { id: null, question: 'How often is the starter fed?' },
    { id: 'third', question: 'Who keeps the light?' },
  ],
};

function answer(question: string, text: string): QueryResult {
  return {
    v: 1,
    tenant: 'acme',
    question,
    answer: `${text} [1]`,
    notFound: false,
    generated: true,
    citations: [
      {
        number: 1,
        documentId: 'manual',
        sourceName: 'manual.pdf',
        pageStart: 2,
        pageEnd: 2,
        chunkIndex: 1,
        excerpt: text,
      },
    ],
    passages: [],
    reranked: false,
    rerankError: 'reranking failed: HTTP 500',
    removedCitations: [],
    usage: { embeddingTokens: 5, documentsReranked: 0, promptTokens: 40, completionTokens: 6 },
    timingsMs: { embed: 1, search: 2, rerank: 3, generate: 4, total: 10 },
    candidates: 12,
    promptVersion: 'answer-v1',
  };
}

/** Children are keyed as BullMQ keys them: `<prefix>:<queue>:<job id>`. */
const key = (index: number) => `{quire}:query:${batchChildId('b1', index)}`;

function parent(overrides: Partial<BatchParentJob> = {}): BatchParentJob {
  return {
    id: 'b1',
    name: 'batch',
    data,
    getChildrenValues: async () => ({}),
    getIgnoredChildrenFailures: async () => ({}),
    ...overrides,
  };
}

describe('batch processor', () => {
  it('reports every question in order, answered or failed, and counts them', async () => {
    const report = await processBatch(
      parent({
        getChildrenValues: async () => ({
          [key(2)]: answer(data.questions[2]!.question, 'The keeper.'),
          [key(0)]: answer(data.questions[0]!.question, 'Paraffin oil.'),
        }),
        getIgnoredChildrenFailures: async () => ({ [key(1)]: 'input refused by the content policy' }),
      }),
    );
    expect(report).toMatchObject({ v: 1, batchId: 'b1', tenant: 'acme', name: 'three', total: 3 });
    expect(report).toMatchObject({ answered: 2, failed: 1 });
    expect(report.items.map((item) => [item.index, item.id, item.ok])).toEqual([
      [0, 'first', true],
      [1, null, false],
      [2, 'third', true],
    ]);
    expect(report.items[0]).toMatchObject({
      answer: 'Paraffin oil. [1]',
      reranked: false,
      rerankError: 'reranking failed: HTTP 500',
      timingsMs: { total: 10 },
    });
    expect(report.items[1]).toMatchObject({ error: 'input refused by the content policy' });
  });

  it('gives a question with no recorded outcome, or an invalid one, a failed line of its own', async () => {
    const report = await processBatch(
      parent({
        getChildrenValues: async () => ({
          [key(0)]: { answer: 'no schema here' },
          // Not a child of this batch: ignored.
          '{quire}:query:other-q1': answer('?', 'Elsewhere.'),
        }),
      }),
    );
    expect(report).toMatchObject({ answered: 0, failed: 3 });
    expect(report.items[0]).toMatchObject({ ok: false, error: expect.stringMatching(/invalid/) });
    expect(report.items[1]).toMatchObject({ ok: false, error: 'no result was recorded for this question' });
  });

  it('carries passages, pre-rerank candidates and the budget note when a version 2 batch asks', async () => {
    const withExtras = (question: string, text: string): QueryResult => ({
      ...answer(question, text),
      passages: [
        {
          rank: 1,
          contextRank: 2,
          documentId: 'manual',
          sourceName: 'manual.pdf',
          pageStart: 2,
          pageEnd: 2,
          chunkIndex: 1,
          text,
          retrievalScore: 0.03,
          rerankScore: 0.9,
        },
      ],
      contextTruncated: { budget: 100, tokens: 95, kept: 1, dropped: 3, shortened: false },
      preRerank: [
        {
          documentId: 'manual',
          chunkIndex: 1,
          fusedRank: 1,
          fusedScore: 0.03,
          denseRank: 1,
          denseScore: 0.8,
          lexicalRank: null,
          lexicalScore: null,
        },
      ],
    });
    const values = async () => ({ [key(0)]: withExtras(data.questions[0]!.question, 'Paraffin oil.') });
    const v2 = {
      ...data,
      v: 2,
      options: { topN: 30, contextTokens: 100, include: { passages: true, candidates: true } },
    };
    const report = await processBatch(parent({ data: v2, getChildrenValues: values }));
    expect(report.items[0]).toMatchObject({
      ok: true,
      contextTruncated: { kept: 1, dropped: 3 },
      passages: [{ rank: 1, contextRank: 2, text: 'Paraffin oil.' }],
      preRerank: [{ fusedRank: 1, denseRank: 1, lexicalRank: null }],
    });

    // Without `include`, only the budget note comes along.
    const plain = await processBatch(parent({ getChildrenValues: values }));
    expect(plain.items[0]).toMatchObject({ contextTruncated: { dropped: 3 } });
    expect(plain.items[0]).not.toHaveProperty('passages');
    expect(plain.items[0]).not.toHaveProperty('preRerank');
  });

  it('refuses a job it does not know at once', async () => {
    await expect(processBatch(parent({ name: 'other' }))).rejects.toBeInstanceOf(UnrecoverableError);
    await expect(processBatch(parent({ data: { ...data, questions: [] } }))).rejects.toThrow(
      /invalid batch job: questions/,
    );
    // Version 1 refuses the options of version 2.
    await expect(
      processBatch(parent({ data: { ...data, options: { contextTokens: 500 } } })),
    ).rejects.toThrow(/invalid batch job/);
  });
});
