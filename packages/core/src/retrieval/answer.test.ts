import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiAbortError, InternalServerError, type Logger, NOT_FOUND_ANSWER } from '@quire/api-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { QuireError } from '../errors.js';
import { SqliteVectorStore } from '../vector-store/sqlite.js';
import {
  type ChunkInput,
  CountingModels,
  embedChunks,
  MemoryVectorStore,
  TENANT,
} from './__tests__/fakes.js';
import { type AnswerQuestionDeps, answerQuestion } from './answer.js';
import { RerankError } from './rerank.js';
import { AnswerResultSchema } from './schema.js';

const MODEL_NAMES = { embedding: 'embed', rerank: 'rerank', chat: 'chat' };

/** Short documents on unrelated topics, so each question has one right passage. */
const LIBRARY: ChunkInput[] = [
  {
    documentId: 'etna',
    sourceName: 'volcanoes.pdf',
    pageStart: 12,
    chunkIndex: 3,
    text: 'Mount Etna is an active volcano on the east coast of Sicily. The summit of Mount Etna stands about 3,357 metres above sea level.',
  },
  {
    documentId: 'bread',
    sourceName: 'baking.md',
    text: 'Sourdough bread is leavened by a starter of wild yeast and lactic acid bacteria. The dough usually proves overnight.',
  },
  {
    documentId: 'chess',
    sourceName: 'chess-rules.pdf',
    pageStart: 2,
    pageEnd: 3,
    text: 'In chess, castling moves the king two squares towards a rook. It is the only move in which two pieces move at once.',
  },
  {
    documentId: 'tides',
    sourceName: 'ocean.html',
    text: 'Tides are caused mainly by the gravitational pull of the Moon. Most coasts see two high tides every day.',
  },
];

function recordingLogger(): Logger & { warnings: { obj: object; msg: string | undefined }[] } {
  const warnings: { obj: object; msg: string | undefined }[] = [];
  const ignore = () => {};
  return {
    warnings,
    debug: ignore,
    info: ignore,
    error: ignore,
    warn: (obj, msg) => warnings.push({ obj, msg }),
  };
}

describe('answerQuestion over the SQLite store and the built-in models', () => {
  let dir: string;
  let store: SqliteVectorStore;
  let models: CountingModels;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'quire-retrieval-'));
    store = new SqliteVectorStore({ path: join(dir, 'store.db'), dimension: 64 });
    await store.init();
    const builtin = new CountingModels().inner;
    await store.upsert(TENANT, await embedChunks(builtin, LIBRARY));
    // Another tenant with a contradicting fact that must never be seen.
    await store.upsert(
      'rival',
      await embedChunks(builtin, [
        {
          documentId: 'etna',
          tenant: 'rival',
          text: 'The summit of Mount Etna stands 9,999 metres above sea level.',
        },
      ]),
    );
  });
  afterAll(async () => {
    await store?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    models = new CountingModels();
  });

  const deps = (): AnswerQuestionDeps => ({ store, models, modelNames: MODEL_NAMES });

  it('answers with the expected fact and cites the right passage', async () => {
    const result = await answerQuestion(deps(), {
      tenant: TENANT,
      question: 'How high is the summit of Mount Etna?',
    });
    expect(AnswerResultSchema.parse(result)).toEqual(result);
    expect(result.notFound).toBe(false);
    expect(result.generated).toBe(true);
    expect(result.answer).toContain('3,357 metres');
    expect(result.answer).not.toContain('9,999');
    expect(result.citations).toHaveLength(1);
    const citation = result.citations[0]!;
    expect(result.answer).toContain(`[${citation.number}]`);
    expect(citation).toMatchObject({
      documentId: 'etna',
      sourceName: 'volcanoes.pdf',
      pageStart: 12,
      pageEnd: 12,
      chunkIndex: 3,
    });
    expect(result.passages[citation.number - 1]!.documentId).toBe('etna');
    expect(result.passages[0]!.documentId).toBe('etna');

    expect(result.candidates).toBe(LIBRARY.length);
    expect(result.passages).toHaveLength(4);
    expect(result.passages.map((p) => p.rank)).toEqual([1, 2, 3, 4]);
    for (const passage of result.passages) {
      expect(passage.retrievalScore).toBeGreaterThan(0);
      expect(passage.rerankScore).not.toBeNull();
    }
    const rerankScores = result.passages.map((p) => p.rerankScore!);
    expect(rerankScores).toEqual([...rerankScores].sort((a, b) => b - a));
    expect(result.reranked).toBe(true);
    expect(result.removedCitations).toEqual([]);
    expect(result.usage.embeddingTokens).toBeGreaterThan(0);
    expect(result.usage.documentsReranked).toBe(LIBRARY.length);
    expect(result.usage.promptTokens).toBeGreaterThan(0);
    expect(result.usage.completionTokens).toBeGreaterThan(0);
    expect(result.timingsMs.total).toBeGreaterThanOrEqual(result.timingsMs.rerank);
    expect(models.calls).toEqual({ embeddings: 1, rerank: 1, chat: 1 });
  });

  it("renumbers a model's citations 1..n and orders the passages to match", async () => {
    models.chatContent = 'Etna is high [3]. Sourdough proves overnight [1]. Tides twice a day [3][9].';
    const result = await answerQuestion(deps(), {
      tenant: TENANT,
      question: 'How high is the summit of Mount Etna?',
    });
    expect(AnswerResultSchema.parse(result)).toEqual(result);
    expect(result.answer).toBe('Etna is high [1]. Sourdough proves overnight [2]. Tides twice a day [1].');
    expect(result.removedCitations).toEqual([9]);
    expect(result.citations.map((c) => c.number)).toEqual([1, 2]);
    expect(result.passages.map((p) => [p.rank, p.contextRank])).toEqual([
      [1, 3],
      [2, 1],
      [3, 2],
      [4, 4],
    ]);
    for (const citation of result.citations) {
      const passage = result.passages[citation.number - 1]!;
      expect([passage.documentId, passage.chunkIndex]).toEqual([citation.documentId, citation.chunkIndex]);
    }
    expect(result.contextTruncated).toBeUndefined();
    expect(result.preRerank).toBeUndefined();
  });

  it("numbers the built-in answerer's citation [1] when the passage it quotes was ranked last", async () => {
    // The reranker puts the Etna passage last of the four given to the answerer.
    models.rerankScorer = (document) => (document.includes('Etna') ? 0.1 : 0.9);
    const result = await answerQuestion(deps(), {
      tenant: TENANT,
      question: 'How high is the summit of Mount Etna?',
    });
    expect(result.answer).toContain('3,357 metres');
    expect(result.citations.map((c) => [c.number, c.documentId])).toEqual([[1, 'etna']]);
    expect(result.answer).toMatch(/\[1\]/);
    expect(result.answer).not.toMatch(/\[[2-9]\]/);
    expect(result.passages[0]).toMatchObject({ rank: 1, contextRank: 4, documentId: 'etna' });
    expect(result.passages.map((p) => p.contextRank)).toEqual([4, 1, 2, 3]);
  });

  it('says when the context budget left passages out, and returns the candidates when asked', async () => {
    const result = await answerQuestion(deps(), {
      tenant: TENANT,
      question: 'How high is the summit of Mount Etna?',
      topN: 4,
      contextTokens: 60,
      includeCandidates: true,
    });
    expect(AnswerResultSchema.parse(result)).toEqual(result);
    const truncated = result.contextTruncated!;
    expect(truncated).toBeDefined();
    expect(truncated.budget).toBe(60);
    expect(truncated.kept).toBe(result.passages.length);
    expect(truncated.kept + truncated.dropped).toBe(4);
    expect(truncated.dropped).toBeGreaterThan(0);
    expect(truncated.tokens).toBeLessThanOrEqual(60);
    expect(result.preRerank).toHaveLength(LIBRARY.length);
    expect(result.preRerank!.map((c) => c.fusedRank)).toEqual([1, 2, 3, 4]);
    const scores = result.preRerank!.map((c) => c.fusedScore);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
  });

  it('cites the chess passage for a chess question, within the filter', async () => {
    const result = await answerQuestion(deps(), {
      tenant: TENANT,
      question: 'Which chess move lets two pieces move at once?',
      filter: { sourceNames: ['chess-rules.pdf', 'baking.md'] },
      topN: 2,
    });
    expect(result.candidates).toBe(2);
    expect(result.answer).toContain('two pieces move at once');
    expect(result.citations.map((c) => [c.documentId, c.pageStart, c.pageEnd])).toEqual([['chess', 2, 3]]);
  });

  it('answers "not found" without calling the chat model when no passage clears minScore', async () => {
    const result = await answerQuestion(deps(), {
      tenant: TENANT,
      question: 'Who composed the Goldberg Variations?',
      minScore: 0.05,
    });
    expect(result).toMatchObject({
      answer: NOT_FOUND_ANSWER,
      notFound: true,
      generated: false,
      citations: [],
      passages: [],
      reranked: true,
      candidates: LIBRARY.length,
    });
    expect(result.usage).toMatchObject({
      documentsReranked: LIBRARY.length,
      promptTokens: 0,
      completionTokens: 0,
    });
    expect(models.calls).toEqual({ embeddings: 1, rerank: 1, chat: 0 });
    expect(AnswerResultSchema.parse(result)).toEqual(result);
  });
});

describe('answerQuestion failure paths', () => {
  let store: MemoryVectorStore;
  let models: CountingModels;

  beforeEach(async () => {
    models = new CountingModels();
    store = new MemoryVectorStore(64);
    await store.upsert(TENANT, await embedChunks(models.inner, LIBRARY));
  });
  const request = { tenant: TENANT, question: 'How high is the summit of Mount Etna?' };

  it('answers "not found" with no rerank or chat call when nothing is retrieved', async () => {
    const result = await answerQuestion(
      { store: new MemoryVectorStore(64), models, modelNames: MODEL_NAMES },
      request,
    );
    expect(result).toMatchObject({
      answer: NOT_FOUND_ANSWER,
      notFound: true,
      generated: false,
      candidates: 0,
      reranked: false,
    });
    expect(models.calls).toEqual({ embeddings: 1, rerank: 0, chat: 0 });
  });

  it('fails with a RerankError by default and never reaches the chat model', async () => {
    models.fail.rerank = new InternalServerError('/rerank: 503 overloaded', { status: 503 });
    const error = await answerQuestion({ store, models, modelNames: MODEL_NAMES }, request).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RerankError);
    expect((error as RerankError).retryable).toBe(true);
    expect((error as Error).message).toBe('reranking failed: /rerank: 503 overloaded');
    expect(models.calls.chat).toBe(0);
  });

  it("with rerankFallback 'fused' answers from the fused order, says why and warns the logger", async () => {
    models.fail.rerank = new InternalServerError('/rerank: 503 overloaded', { status: 503 });
    const logger = recordingLogger();
    const result = await answerQuestion(
      { store, models, modelNames: MODEL_NAMES, logger },
      { ...request, rerankFallback: 'fused', topN: 3 },
    );
    expect(result.reranked).toBe(false);
    expect(result.rerankError).toBe('/rerank: 503 overloaded');
    expect(result.usage.documentsReranked).toBe(0);
    expect(result.passages).toHaveLength(3);
    expect(result.passages.every((p) => p.rerankScore === null)).toBe(true);
    const retrieval = result.passages.map((p) => p.retrievalScore);
    expect(retrieval).toEqual([...retrieval].sort((a, b) => b - a));
    expect(result.answer).toContain('3,357');
    expect(logger.warnings).toEqual([
      {
        obj: { tenant: TENANT, rerankModel: 'rerank', error: '/rerank: 503 overloaded' },
        msg: 'reranking failed; answering from the fused order',
      },
    ]);
    expect(AnswerResultSchema.parse(result)).toEqual(result);
  });

  it('reports and removes citations to passages that do not exist', async () => {
    models.chatContent = 'About 3,357 metres [1][7].';
    const result = await answerQuestion({ store, models, modelNames: MODEL_NAMES }, request);
    expect(result.answer).toBe('About 3,357 metres [1].');
    expect(result.removedCitations).toEqual([7]);
    expect(result.citations.map((c) => c.number)).toEqual([1]);
  });

  it('passes the signal to every call and stops at an abort mid-way', async () => {
    const controller = new AbortController();
    models.before.rerank = () => controller.abort(new Error('client went away'));
    models.fail.rerank = new ApiAbortError('Request was aborted');
    const error = await answerQuestion(
      { store, models, modelNames: MODEL_NAMES },
      { ...request, rerankFallback: 'fused', signal: controller.signal },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiAbortError);
    expect(models.calls).toEqual({ embeddings: 1, rerank: 1, chat: 0 });
    expect(models.signals).toEqual([controller.signal, controller.signal]);
    expect(store.searches.map((s) => s.signal)).toEqual([controller.signal, controller.signal]);
  });

  it('does nothing once aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('too late'));
    await expect(
      answerQuestion({ store, models, modelNames: MODEL_NAMES }, { ...request, signal: controller.signal }),
    ).rejects.toThrow('too late');
    expect(models.calls).toEqual({ embeddings: 0, rerank: 0, chat: 0 });
  });

  it('rejects bad settings before any call', async () => {
    for (const bad of [
      { topN: 51 },
      { candidates: 0 },
      { contextTokens: -1 },
      { maxAnswerTokens: 1.5 },
      { maxRerankDocumentsPerRequest: 0 },
      { rerankFallback: 'retry' as 'fail' },
      { minScore: Number.POSITIVE_INFINITY },
    ]) {
      const error = await answerQuestion(
        { store, models, modelNames: MODEL_NAMES },
        { ...request, ...bad },
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(QuireError);
      expect((error as QuireError).code).toBe('invalid_input');
    }
    expect(models.calls).toEqual({ embeddings: 0, rerank: 0, chat: 0 });
  });
});
