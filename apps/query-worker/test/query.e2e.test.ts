/**
 * Questions end to end: documents ingested by the ingest worker process, questions answered by the
 * query worker process, the model API being the testkit server over HTTP (built-in models behind
 * it, with levers), the producer SDK asking as another service would.
 */
import { NOT_FOUND_ANSWER } from '@quire/api-client';
import { JobFailedError, Producer, QUEUES, type QueryResult } from '@quire/jobs';
import { waitFor } from '@quire/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  documentSet,
  FACTS,
  FIELD_GUIDE_FACT,
  TENANT_A,
  TENANT_B,
  TENANT_B_FACT,
  TENANT_B_SECRET,
  UNANSWERABLE,
} from './documents.js';
import { type Stack, startStack } from './harness.js';

/** Passages the reranker scores below this are dropped; with none left, the chat model is not asked. */
const MIN_RERANK_SCORE = 0.2;
/** The reranker's documents-per-request limit, below the candidate count. */
const RERANK_MAX_DOCUMENTS = 12;

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    label: 'query-e2e',
    queryEnv: {
      QUIRE_MIN_RERANK_SCORE: String(MIN_RERANK_SCORE),
      QUIRE_RERANK_MAX_DOCUMENTS: String(RERANK_MAX_DOCUMENTS),
    },
  });
  const results = await stack.ingest(await documentSet());
  for (const result of results) expect(result.outcome).toBe('ingested');
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

afterEach(() => {
  stack.models.failRerank = false;
  stack.models.refuseWord = null;
  stack.server.setOptions({ maxInputsPerRequest: undefined });
});

function ask(question: string, extra: Omit<Parameters<Producer['ask']>[0], 'question' | 'tenant'> = {}) {
  return stack.producer.ask({ tenant: TENANT_A, question, ...extra }, { timeoutMs: 30_000 });
}

/** The answer without its `[n]` markers, for looking for a phrase. */
function prose(result: QueryResult): string {
  return result.answer.replace(/\s*\[\d+(?:,\s*\d+)*\]/g, '');
}

describe('query worker, end to end', () => {
  it('answers from the right document and page, citing passages it was given', async () => {
    for (const fact of [...FACTS, FIELD_GUIDE_FACT]) {
      const result = await ask(fact.question);
      expect(result.notFound, fact.question).toBe(false);
      expect(result.generated).toBe(true);
      expect(prose(result), fact.question).toContain(fact.expected);
      expect(result.citations.length, fact.question).toBeGreaterThan(0);
      // Every citation names a passage of the result, and the one quoting the fact is from the right place.
      for (const citation of result.citations) {
        const passage = result.passages.find((p) => p.rank === citation.number);
        expect(passage, `${fact.question}: [${citation.number}]`).toBeDefined();
        expect(citation).toMatchObject({
          documentId: passage?.documentId,
          chunkIndex: passage?.chunkIndex,
          pageStart: passage?.pageStart,
        });
      }
      const quoting = result.citations.filter((c) =>
        result.passages.find((p) => p.rank === c.number)?.text.includes(fact.expected),
      );
      expect(quoting.length, fact.question).toBeGreaterThan(0);
      for (const citation of quoting) {
        expect(citation.documentId, fact.question).toBe(fact.documentId);
        expect(citation.pageStart, fact.question).toBe(fact.page);
        expect(citation.pageEnd, fact.question).toBe(fact.page);
      }
      expect(result.removedCitations).toEqual([]);
      expect(result.reranked).toBe(true);
      expect(result).toMatchObject({ tenant: TENANT_A, question: fact.question });
      // Citations run 1..n in order of first use; the cited passages come first, by that number.
      expect(result.citations.map((c) => c.number)).toEqual(result.citations.map((_, i) => i + 1));
      const firstUse = [...result.answer.matchAll(/\[(\d+)/g)].map((m) => Number(m[1]));
      expect(firstUse.filter((n, i) => firstUse.indexOf(n) === i)).toEqual(
        result.citations.map((c) => c.number),
      );
      expect(result.passages.map((p) => p.rank)).toEqual(result.passages.map((_, i) => i + 1));
      // Both scores of every passage, best reranked first in the order the model was given them.
      const given = [...result.passages].sort((a, b) => (a.contextRank ?? 0) - (b.contextRank ?? 0));
      expect(given.map((p) => p.contextRank)).toEqual(given.map((_, i) => i + 1));
      const scores = given.map((p) => p.rerankScore ?? Number.NaN);
      expect(scores.every((s) => s >= MIN_RERANK_SCORE)).toBe(true);
      expect([...scores].sort((a, b) => b - a)).toEqual(scores);
      expect(given.every((p) => p.retrievalScore > 0)).toBe(true);
      expect(result.usage.embeddingTokens).toBeGreaterThan(0);
      expect(result.usage.promptTokens).toBeGreaterThan(0);
      expect(result.usage.completionTokens).toBeGreaterThan(0);
      for (const stage of ['embed', 'search', 'rerank', 'generate'] as const) {
        expect(result.timingsMs[stage]).toBeGreaterThan(0);
      }
      expect(result.timingsMs.total).toBeGreaterThanOrEqual(result.timingsMs.generate);
    }
  }, 60_000);

  it('says "not found" without calling the chat model when nothing clears the rerank threshold', async () => {
    stack.server.resetStats();
    const result = await ask(UNANSWERABLE);
    expect(result).toMatchObject({
      answer: NOT_FOUND_ANSWER,
      notFound: true,
      generated: false,
      citations: [],
      passages: [],
      removedCitations: [],
    });
    // Retrieval and reranking ran; the chat model was never asked.
    expect(result.candidates).toBeGreaterThan(0);
    expect(result.usage).toMatchObject({ promptTokens: 0, completionTokens: 0 });
    const stats = stack.server.stats;
    expect(stats.byEndpoint['/v1/embeddings']).toBe(1);
    expect(stats.byEndpoint['/v1/rerank']).toBeGreaterThanOrEqual(1);
    expect(stats.byEndpoint['/v1/chat/completions'] ?? 0).toBe(0);
    expect(stack.models.chatsFor(UNANSWERABLE)).toEqual([]);
  }, 60_000);

  it('keeps retrieval inside the filters and the tenant', async () => {
    const lamp = FACTS[0]!;
    const onlySourdough = await ask(lamp.question, { filter: { documentIds: ['sourdough'] } });
    expect(onlySourdough.candidates).toBeGreaterThan(0);
    expect(onlySourdough.candidates).toBeLessThanOrEqual(3);
    expect(onlySourdough.passages.every((p) => p.documentId === 'sourdough')).toBe(true);
    expect(prose(onlySourdough)).not.toContain(lamp.expected);

    const manualOnly = await ask(lamp.question, {
      filter: { documentIds: ['lighthouse-manual'] },
      options: { minRerankScore: 0 },
    });
    expect(manualOnly.passages.length).toBeGreaterThan(0);
    expect(manualOnly.passages.every((p) => p.documentId === 'lighthouse-manual')).toBe(true);
    expect(manualOnly.candidates).toBe(3);

    const byMetadata = await ask(lamp.question, {
      filter: { metadata: { department: 'garden' } },
      options: { minRerankScore: 0 },
    });
    expect(byMetadata.passages.length).toBeGreaterThan(0);
    expect(byMetadata.passages.every((p) => ['beekeeping', 'field-guide'].includes(p.documentId))).toBe(true);

    const bySource = await ask(FACTS[4]!.question, { filter: { sourceNames: ['beekeeping.txt'] } });
    expect(bySource.passages.map((p) => p.sourceName)).toEqual(['beekeeping.txt']);
    expect(prose(bySource)).toContain(FACTS[4]!.expected);

    // Tenant A never sees tenant B's passages, even under the same document id…
    const secret = await ask(TENANT_B_SECRET.question, { options: { minRerankScore: 0 } });
    expect(secret.passages.length).toBeGreaterThan(0);
    expect(secret.passages.some((p) => p.documentId === TENANT_B_SECRET.documentId)).toBe(false);
    expect(secret.passages.some((p) => p.text.includes('acetylene'))).toBe(false);
    expect(prose(secret)).not.toContain(TENANT_B_SECRET.expected);

    // …and tenant B sees only its own.
    const other = await stack.producer.ask(
      { tenant: TENANT_B, question: lamp.question },
      { timeoutMs: 30_000 },
    );
    expect(other.tenant).toBe(TENANT_B);
    expect(other.passages.length).toBeGreaterThan(0);
    expect(other.passages.every((p) => ['south-cape.txt', 'vault-notes.txt'].includes(p.sourceName))).toBe(
      true,
    );
    expect(prose(other)).not.toContain(lamp.expected);
    const own = await stack.producer.ask(
      { tenant: TENANT_B, question: TENANT_B_FACT.question },
      { timeoutMs: 30_000 },
    );
    expect(prose(own)).toContain(TENANT_B_FACT.expected);
  }, 60_000);

  it('fails the job with the reason when reranking fails, unless asked to fall back to the fused order', async () => {
    stack.models.failRerank = true;
    const question = FACTS[3]!.question;
    // One attempt: the failure is final at once, not after BullMQ's backoff.
    const once = new Producer({
      connection: stack.redis.url,
      prefix: stack.prefix,
      jobOptions: { attempts: 1 },
    });
    try {
      const error = await once
        .ask({ tenant: TENANT_A, question }, { timeoutMs: 30_000 })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JobFailedError);
      const failed = error as JobFailedError;
      expect(failed.reason).toMatch(/rerank/i);
      expect(failed.reason).toMatch(/500|reranker is down/);
      const status = await once.getJob(QUEUES.query, failed.jobId);
      expect(status).toMatchObject({ state: 'failed', attemptsMade: 1 });
    } finally {
      await once.close();
    }

    // With the default options a rerank outage is transient: the attempt fails and is retried later.
    const { jobId } = await stack.producer.enqueueQuery({ tenant: TENANT_A, question });
    const retried = await waitFor(
      async () => {
        const status = await stack.producer.getJob(QUEUES.query, jobId);
        return status?.state === 'delayed' ? status : undefined;
      },
      { timeoutMs: 15_000, message: 'the failed attempt is scheduled again' },
    );
    expect(retried.attemptsMade).toBeGreaterThanOrEqual(1);
    expect(retried.failedReason).toMatch(/rerank/i);
    await (await stack.producer.queue(QUEUES.query).getJob(jobId))?.remove();

    const fallback = await ask(question, { options: { rerankFallback: 'fused' } });
    expect(fallback.reranked).toBe(false);
    expect(fallback.rerankError).toMatch(/500|reranker is down/);
    expect(fallback.usage.documentsReranked).toBe(0);
    expect(fallback.passages.length).toBeGreaterThan(0);
    expect(fallback.passages.every((p) => p.rerankScore === null && p.retrievalScore > 0)).toBe(true);
    expect(prose(fallback)).toContain(FACTS[3]!.expected);
  }, 60_000);

  it('retrieves 20+ candidates, keeps top_n, and answers from exactly those passages', async () => {
    const topN = 5;
    const fact = FIELD_GUIDE_FACT;
    stack.models.chats.splice(0);
    // The server refuses (413) a rerank call over the limit the worker is configured with.
    stack.server.setOptions({ maxInputsPerRequest: RERANK_MAX_DOCUMENTS });
    stack.server.resetStats();
    const result = await ask(fact.question, { options: { topN, minRerankScore: 0 } });
    expect(result.candidates).toBeGreaterThanOrEqual(20);
    expect(result.candidates).toBeLessThanOrEqual(30);
    expect(result.passages).toHaveLength(topN);
    expect(result.passages.map((p) => p.rank)).toEqual([1, 2, 3, 4, 5]);
    expect(result.usage.documentsReranked).toBe(result.candidates);
    // All candidates were scored, a limit's worth per call.
    expect(stack.server.stats.byEndpoint['/v1/rerank']).toBe(
      Math.ceil(result.candidates / RERANK_MAX_DOCUMENTS),
    );
    expect(stack.server.stats.byStatus['413'] ?? 0).toBe(0);

    // The citations name passages of the result…
    const ranks = new Set(result.passages.map((p) => p.rank));
    expect(result.citations.every((c) => ranks.has(c.number))).toBe(true);
    expect(prose(result)).toContain(fact.expected);

    // …and the chat request held exactly these passages, in their reranked order (`contextRank`;
    // the result lists the cited ones first), with their sources.
    const chats = stack.models.chatsFor(fact.question);
    expect(chats).toHaveLength(1);
    const sent = chats[0]!.passages;
    const given = [...result.passages].sort((a, b) => (a.contextRank ?? 0) - (b.contextRank ?? 0));
    expect(sent.map((p) => p.number)).toEqual(given.map((p) => p.contextRank));
    expect(sent.map((p) => p.text)).toEqual(given.map((p) => p.text));
    expect(sent.map((p) => p.source)).toEqual(given.map((p) => p.sourceName));
  }, 60_000);
});
