/**
 * Evals end to end: a BEIR-style set enqueued by the producer SDK, its corpus ingested by the ingest
 * worker process, its questions run by the query worker process and the report made on the `eval`
 * queue. The report's figures are checked against a reference computed here, in this process, from
 * the same stored chunks and the same (built-in) models, with metric code written apart from the
 * one under test.
 */
import { join } from 'node:path';
import { BuiltinModels } from '@quire/api-client';
import { evaluateQuestion, SqliteVectorStore, sqliteCollectionName } from '@quire/core';
import {
  type EvalInput,
  type EvalReport,
  evalReportToCsv,
  evalReportToMarkdown,
  JobInputError,
} from '@quire/jobs';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIMENSION, type Stack, startStack } from './harness.js';

const TENANT = 'eval-e2e';

const CORPUS = [
  {
    id: 'lamp',
    text: 'The North Point lamp burns paraffin oil and is lit every evening at dusk by the keeper.',
  },
  { id: 'horn', text: 'In fog the diaphone horn sounds two blasts every sixty seconds until the fog lifts.' },
  {
    id: 'bread',
    text: 'A sourdough starter must be fed with flour and water every twelve hours to stay active.',
  },
  { id: 'bees', text: 'In summer a honeybee queen lays up to two thousand eggs per day in the brood comb.' },
  {
    id: 'chess',
    text: 'Castling is not allowed when the king is in check or passes through an attacked square.',
  },
  { id: 'tea', text: 'Green tea should steep for two minutes in water just below the boiling point.' },
  { id: 'bike', text: 'Bicycle tyres for city riding are usually pumped to about four bar of pressure.' },
  { id: 'moss', text: 'Moss grows best on the shaded north side of stones, where the ground stays damp.' },
];
const QUERIES = [
  { id: 'q1', text: 'What fuel does the North Point lamp burn?', doc: 'lamp', answer: 'paraffin oil' },
  {
    id: 'q2',
    text: 'How often does the diaphone horn sound in fog?',
    doc: 'horn',
    answer: 'two blasts every sixty seconds',
  },
  {
    id: 'q3',
    text: 'How often should a sourdough starter be fed?',
    doc: 'bread',
    answer: 'every twelve hours',
  },
  {
    id: 'q4',
    text: 'How many eggs does a honeybee queen lay per day?',
    doc: 'bees',
    answer: 'two thousand eggs',
  },
  {
    id: 'q5',
    text: 'Is castling allowed when the king is in check?',
    doc: 'chess',
    answer: 'Castling is not allowed',
  },
  { id: 'u1', text: 'Which vaccine protects against measles?', doc: null, answer: null },
  { id: 'u2', text: 'What is the capital city of Canada?', doc: null, answer: null },
];

function evalInput(overrides: Partial<EvalInput> = {}): EvalInput {
  return {
    tenant: TENANT,
    name: 'e2e',
    corpus: CORPUS,
    queries: QUERIES.map((q) => ({ id: q.id, text: q.text })),
    qrels: QUERIES.filter((q) => q.doc !== null).map((q) => ({
      queryId: q.id,
      documentId: q.doc!,
      grade: 1,
    })),
    answers: QUERIES.filter((q) => q.answer !== null).map((q) => ({ queryId: q.id, answers: [q.answer!] })),
    options: { candidates: 10, topN: 3, include: { passages: true, candidates: true } },
    ...overrides,
  };
}

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ label: 'eval-e2e', queryEnv: { QUERY_CONCURRENCY: '4' } });
  // A second query worker: questions spread over both.
  await stack.addQueryWorker();
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

/** The reference: each question through the stages in this process, measured with plain loops. */
async function reference() {
  const store = new SqliteVectorStore({
    path: join(stack.env.QUIRE_DATA_DIR!, 'vectors.db'),
    dimension: DIMENSION,
    collection: sqliteCollectionName('test-embed', DIMENSION),
  });
  await store.init();
  const models = new BuiltinModels({ dimension: DIMENSION });
  try {
    const rows = [];
    for (const q of QUERIES) {
      const result = await evaluateQuestion(
        { store, models, modelNames: { embedding: 'test-embed', rerank: 'test-rerank', chat: 'test-chat' } },
        { tenant: TENANT, question: q.text, candidates: 10, topN: 3, answer: true },
      );
      const rank = (list: { documentId: string }[]) => {
        const seen: string[] = [];
        for (const hit of list) if (!seen.includes(hit.documentId)) seen.push(hit.documentId);
        const i = q.doc === null ? -1 : seen.indexOf(q.doc);
        return i < 0 ? null : i + 1;
      };
      rows.push({
        q,
        ranks: {
          lexical: rank(result.rankings.lexical),
          dense: rank(result.rankings.dense),
          fused: rank(result.rankings.fused),
          reranked: rank(result.rankings.reranked),
        },
        answer: result.answer!,
      });
    }
    return rows;
  } finally {
    await store.close();
  }
}

function expectMatchesReference(report: EvalReport, ref: Awaited<ReturnType<typeof reference>>) {
  const answerable = ref.filter((r) => r.q.doc !== null);
  for (const mode of ['lexical', 'dense', 'fused', 'reranked'] as const) {
    // One relevant document per question: recall@k is "rank ≤ k", MRR@10 is 1/rank within 10.
    const recall = (k: number) =>
      answerable.filter((r) => r.ranks[mode] !== null && r.ranks[mode]! <= k).length / answerable.length;
    const mrr =
      answerable.reduce(
        (s, r) => s + (r.ranks[mode] !== null && r.ranks[mode]! <= 10 ? 1 / r.ranks[mode]! : 0),
        0,
      ) / answerable.length;
    const ndcg =
      answerable.reduce(
        (s, r) =>
          s + (r.ranks[mode] !== null && r.ranks[mode]! <= 10 ? 1 / Math.log2(r.ranks[mode]! + 1) : 0),
        0,
      ) / answerable.length;
    expect(report.retrieval[mode].recallAt1, mode).toBeCloseTo(recall(1), 10);
    expect(report.retrieval[mode].recallAt5, mode).toBeCloseTo(recall(5), 10);
    expect(report.retrieval[mode].recallAt20, mode).toBeCloseTo(recall(20), 10);
    expect(report.retrieval[mode].mrrAt10, mode).toBeCloseTo(mrr, 10);
    expect(report.retrieval[mode].ndcgAt10, mode).toBeCloseTo(ndcg, 10);
  }
  for (const r of ref) {
    const row = report.queries.find((x) => x.id === r.q.id);
    expect(row?.ok).toBe(true);
    if (!row?.ok) continue;
    expect(row.firstRelevantRank).toEqual(r.ranks);
    expect(row.notFound).toBe(r.answer.notFound);
    expect(row.answer).toBe(r.answer.text);
  }
  const contained = answerable.filter(
    (r) => !r.answer.notFound && r.answer.text.toLowerCase().includes(r.q.answer!.toLowerCase()),
  ).length;
  expect(report.answers?.answerable.containment).toBeCloseTo(contained / answerable.length, 10);
  const unanswerable = ref.filter((r) => r.q.doc === null);
  expect(report.answers?.unanswerable.notFoundRate).toBeCloseTo(
    unanswerable.filter((r) => r.answer.notFound).length / unanswerable.length,
    10,
  );
}

describe('quire eval on the queues', () => {
  it('ingests the corpus, runs every question and reports figures that match the reference', async () => {
    const progress: number[] = [];
    const { evalId } = await stack.producer.enqueueEval(evalInput(), {
      evalId: 'e2e-one',
      onProgress: (n) => progress.push(n),
    });
    expect(progress.at(-1)).toBe(CORPUS.length);
    const report = await stack.producer.waitForEval(evalId, { timeoutMs: 120_000 });
    expect(report).toMatchObject({
      evalId: 'e2e-one',
      tenant: TENANT,
      total: QUERIES.length,
      evaluated: QUERIES.length,
      failed: 0,
      answerable: 5,
      unanswerable: 2,
      documents: { ingested: CORPUS.length, failed: [], cleanedUp: false },
    });
    // The lexical search alone finds every gold passage first on this set: a sanity check that the
    // figures are about the stored corpus, not about nothing.
    expect(report.retrieval.lexical.recallAt1).toBe(1);
    expectMatchesReference(report, await reference());

    const row = report.queries.find((q) => q.id === 'q1');
    expect(row?.ok && row.candidates?.length).toBeGreaterThan(0);
    expect(row?.ok && row.passages?.[0]?.number).toBe(1);
    expect(row?.ok && row.contextTokens).toBeGreaterThan(0);

    const status = await stack.producer.getEval(evalId);
    expect(status).toMatchObject({ state: 'completed', step: 'report', documentsDone: 8, questionsDone: 7 });

    const csv = parse(evalReportToCsv(report), { columns: true }) as Record<string, string>[];
    expect(csv).toHaveLength(QUERIES.length);
    expect(csv[0]).toMatchObject({ id: 'q1', ok: 'true', relevant: 'lamp', rank_lexical: '1' });
    expect(evalReportToMarkdown(report)).toContain('| fused + rerank |');
  });

  it('evaluates a tenant that is already ingested, then deletes the corpus when asked', async () => {
    const { corpus: _corpus, ...withoutCorpus } = evalInput();
    const again = await stack.producer.waitForEval(
      (await stack.producer.enqueueEval(withoutCorpus, { evalId: 'e2e-two' })).evalId,
      { timeoutMs: 120_000 },
    );
    expect(again.documents.ingested).toBe(0);
    expectMatchesReference(again, await reference());

    const cleaned = await stack.producer.waitForEval(
      (await stack.producer.enqueueEval(evalInput({ cleanup: true }), { evalId: 'e2e-three' })).evalId,
      { timeoutMs: 120_000 },
    );
    expect(cleaned.documents).toMatchObject({ ingested: CORPUS.length, cleanedUp: true });
    const store = new SqliteVectorStore({
      path: join(stack.env.QUIRE_DATA_DIR!, 'vectors.db'),
      dimension: DIMENSION,
      collection: sqliteCollectionName('test-embed', DIMENSION),
    });
    await store.init();
    try {
      expect(await store.listDocuments(TENANT)).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('refuses bad input and a set over its token cap, naming what is wrong', async () => {
    await expect(
      stack.producer.enqueueEval(evalInput({ qrels: [{ queryId: 'q1', documentId: 'nowhere', grade: 1 }] })),
    ).rejects.toThrow(/no corpus document has id "nowhere"/);
    await expect(
      stack.producer.enqueueEval(evalInput({ qrels: [{ queryId: 'q9', documentId: 'lamp', grade: 1 }] })),
    ).rejects.toThrow(/no query has id "q9"/);
    await expect(stack.producer.enqueueEval(evalInput(), { maxTokens: 10 })).rejects.toBeInstanceOf(
      JobInputError,
    );
    await expect(
      stack.producer.enqueueEval(evalInput({ name: 'other' }), { evalId: 'e2e-one' }),
    ).rejects.toThrow(/already exists/);
  });
});
