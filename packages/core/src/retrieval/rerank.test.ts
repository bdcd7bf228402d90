import { ApiAbortError, BadRequestError, RateLimitError } from '@quire/api-client';
import { beforeEach, describe, expect, it } from 'vitest';
import { QuireError } from '../errors.js';
import { CountingModels, candidate, chunkRecord } from './__tests__/fakes.js';
import type { RetrievalCandidate } from './fusion.js';
import { RerankError, rerankCandidates } from './rerank.js';

const TEXTS = [
  'The museum opens at nine in the morning.',
  'Parking is free on Sundays.',
  'Tickets for the museum cost twelve euros.',
  'The café serves lunch from noon.',
  'Guided tours of the museum start every hour.',
];

/** Candidates in fused order: fused scores descending. */
const CANDIDATES: RetrievalCandidate[] = TEXTS.map((text, i) =>
  candidate(chunkRecord({ documentId: `doc-${i}`, text }), 1 / (61 + i)),
);

describe('rerankCandidates', () => {
  let models: CountingModels;
  beforeEach(() => {
    models = new CountingModels();
  });
  const base = () => ({
    models,
    rerankModel: 'rerank',
    question: 'How much do museum tickets cost?',
    candidates: CANDIDATES,
  });

  it('sends the candidates in fused order once and keeps the topN best, both scores kept', async () => {
    models.rerankResults = [
      { index: 2, relevanceScore: 0.9 },
      { index: 4, relevanceScore: 0.7 },
      { index: 0, relevanceScore: 0.7 },
      { index: 1, relevanceScore: 0.1 },
    ];
    const signal = new AbortController().signal;
    const result = await rerankCandidates({ ...base(), topN: 3, signal });
    expect(models.calls.rerank).toBe(1);
    expect(models.signals).toEqual([signal]);
    expect(models.rerankRequests[0]).toMatchObject({
      model: 'rerank',
      query: base().question,
      documents: TEXTS,
      topN: 3,
    });
    expect(result.reranked).toBe(true);
    expect(result.rerankError).toBeUndefined();
    expect(result.documentsReranked).toBe(5);
    // Equal scores (0.7) keep the fused order: doc-0 before doc-4.
    expect(result.passages.map((p) => [p.rank, p.record.documentId, p.rerankScore, p.fusedScore])).toEqual([
      [1, 'doc-2', 0.9, 1 / 63],
      [2, 'doc-0', 0.7, 1 / 61],
      [3, 'doc-4', 0.7, 1 / 65],
    ]);
  });

  it('ranks with the built-in reranker: the ticket sentence first', async () => {
    const result = await rerankCandidates({ ...base(), topN: 2 });
    expect(result.passages).toHaveLength(2);
    expect(result.passages[0]!.record.documentId).toBe('doc-2');
    expect(result.passages[0]!.rerankScore!).toBeGreaterThanOrEqual(result.passages[1]!.rerankScore!);
  });

  it('drops passages under minScore after taking the topN', async () => {
    models.rerankResults = [
      { index: 3, relevanceScore: 0.8 },
      { index: 1, relevanceScore: 0.5 },
      { index: 0, relevanceScore: 0.49 },
    ];
    const result = await rerankCandidates({ ...base(), topN: 3, minScore: 0.5 });
    expect(result.passages.map((p) => [p.rank, p.record.documentId])).toEqual([
      [1, 'doc-3'],
      [2, 'doc-1'],
    ]);
    const none = await rerankCandidates({ ...base(), minScore: 0.95 });
    expect(none).toMatchObject({ passages: [], reranked: true, documentsReranked: 5 });
  });

  it('splits over maxDocumentsPerRequest and merges by score', async () => {
    models.rerankScorer = (document) => (document.includes('museum') ? document.length : 0);
    const result = await rerankCandidates({ ...base(), topN: 3, maxDocumentsPerRequest: 2 });
    expect(models.rerankRequests.map((r) => r.documents)).toEqual([
      TEXTS.slice(0, 2),
      TEXTS.slice(2, 4),
      TEXTS.slice(4),
    ]);
    expect(models.rerankRequests.map((r) => r.topN)).toEqual([2, 2, 1]);
    const byLength = [0, 2, 4].sort((a, b) => TEXTS[b]!.length - TEXTS[a]!.length);
    expect(result.passages.map((p) => p.record.documentId)).toEqual(byLength.map((i) => `doc-${i}`));
    expect(result.documentsReranked).toBe(5);
  });

  it('throws a RerankError by default, keeping cause, retryable, status and Retry-After', async () => {
    const cause = new RateLimitError('/rerank: 429 slow down', { status: 429, retryAfterMs: 1500 });
    models.fail.rerank = cause;
    const error = await rerankCandidates(base()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RerankError);
    expect(error).toBeInstanceOf(QuireError);
    const rerankError = error as RerankError;
    expect(rerankError.message).toBe('reranking failed: /rerank: 429 slow down');
    expect(rerankError.code).toBe('rerank_failed');
    expect(rerankError.cause).toBe(cause);
    expect(rerankError.retryable).toBe(true);
    expect(rerankError.status).toBe(429);
    expect(rerankError.retryAfterMs).toBe(1500);

    models.fail.rerank = new BadRequestError('/rerank: 400 unknown model', { status: 400 });
    const permanent = (await rerankCandidates(base()).catch((e: unknown) => e)) as RerankError;
    expect(permanent.retryable).toBe(false);
    expect(permanent.message).toMatch(/^reranking failed: .*unknown model/);
  });

  it("with fallback 'fused' answers from the fused order's topN, unreranked", async () => {
    models.fail.rerank = new RateLimitError('/rerank: 429 slow down', { status: 429 });
    const result = await rerankCandidates({ ...base(), topN: 2, minScore: 0.99, fallback: 'fused' });
    expect(result.reranked).toBe(false);
    expect(result.rerankError).toBe('/rerank: 429 slow down');
    expect(result.documentsReranked).toBe(0);
    expect(result.passages.map((p) => [p.rank, p.record.documentId, p.rerankScore, p.fusedScore])).toEqual([
      [1, 'doc-0', null, 1 / 61],
      [2, 'doc-1', null, 1 / 62],
    ]);
  });

  it('treats indices that name no document as a failed rerank', async () => {
    models.rerankResults = [{ index: 5, relevanceScore: 0.9 }];
    await expect(rerankCandidates(base())).rejects.toThrow(
      'reranking failed: the reranker returned index 5 for 5 documents',
    );
    models.rerankResults = [
      { index: 1, relevanceScore: 0.9 },
      { index: 1, relevanceScore: 0.8 },
    ];
    const result = await rerankCandidates({ ...base(), fallback: 'fused' });
    expect(result).toMatchObject({ reranked: false, rerankError: 'the reranker returned index 1 twice' });
  });

  it('never falls back on an abort', async () => {
    const controller = new AbortController();
    models.before.rerank = () => controller.abort(new Error('user left'));
    models.fail.rerank = new ApiAbortError('Request was aborted');
    const error = await rerankCandidates({ ...base(), fallback: 'fused', signal: controller.signal }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ApiAbortError);

    const aborted = new AbortController();
    aborted.abort(new Error('already gone'));
    await expect(rerankCandidates({ ...base(), signal: aborted.signal })).rejects.toThrow('already gone');
    expect(models.calls.rerank).toBe(1);
  });

  it('makes no call without candidates and checks its settings', async () => {
    expect(await rerankCandidates({ ...base(), candidates: [] })).toEqual({
      passages: [],
      reranked: false,
      documentsReranked: 0,
    });
    expect(models.calls.rerank).toBe(0);
    for (const topN of [0, 51, 1.5]) {
      await expect(rerankCandidates({ ...base(), topN })).rejects.toThrow(
        /topN must be an integer in 1\.\.50/,
      );
    }
    await expect(rerankCandidates({ ...base(), minScore: Number.NaN })).rejects.toThrow(
      /minScore must be a finite number/,
    );
    await expect(rerankCandidates({ ...base(), maxDocumentsPerRequest: 0 })).rejects.toThrow(
      /maxDocumentsPerRequest/,
    );
    expect(models.calls.rerank).toBe(0);
  });

  it('keeps 4 passages by default', async () => {
    const result = await rerankCandidates(base());
    expect(result.passages).toHaveLength(4);
    expect(models.rerankRequests[0]!.topN).toBe(4);
  });
});
