import { setTimeout as delay } from 'node:timers/promises';
import { beforeEach, describe, expect, it } from 'vitest';
import { QuireError, StoreError } from '../errors.js';
import {
  type ChunkInput,
  CountingModels,
  embedChunks,
  MemoryVectorStore,
  TENANT,
} from './__tests__/fakes.js';
import { retrieveCandidates } from './retrieve.js';

const CHUNKS: ChunkInput[] = Array.from({ length: 12 }, (_, i) => ({
  documentId: `doc-${i % 3}`,
  chunkIndex: i,
  text: `Chunk ${i} is about the lighthouse keeper and the ${i % 2 === 0 ? 'storm' : 'harbour'} of year ${1900 + i}.`,
  metadata: { lang: i % 2 === 0 ? 'en' : 'fr' },
}));

describe('retrieveCandidates', () => {
  let models: CountingModels;
  let store: MemoryVectorStore;

  beforeEach(async () => {
    models = new CountingModels();
    store = new MemoryVectorStore(64);
    await store.upsert(TENANT, await embedChunks(models.inner, CHUNKS));
    const other = await embedChunks(models.inner, [
      { documentId: 'secret', tenant: 'other', text: 'The lighthouse keeper of the other tenant.' },
    ]);
    await store.upsert('other', other);
  });

  const base = () => ({
    store,
    models,
    embeddingModel: 'embed',
    tenant: TENANT,
    question: 'lighthouse keeper storm',
  });

  it('embeds once, searches both ways with the same limit and fuses', async () => {
    const result = await retrieveCandidates({ ...base(), candidates: 5 });
    expect(models.calls.embeddings).toBe(1);
    expect(store.searches.map((s) => [s.kind, s.limit]).sort()).toEqual([
      ['dense', 5],
      ['lexical', 5],
    ]);
    expect(result.candidates).toHaveLength(5);
    const scores = result.candidates.map((c) => c.fusedScore);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    for (const c of result.candidates) {
      expect(c.denseRank !== null || c.lexicalRank !== null).toBe(true);
      expect(c.fusedScore).toBeCloseTo(
        (c.denseRank ? 1 / (60 + c.denseRank) : 0) + (c.lexicalRank ? 1 / (60 + c.lexicalRank) : 0),
        12,
      );
    }
    expect(new Set(result.candidates.map((c) => c.record.id)).size).toBe(5);
    const question = await models.inner.embeddings({ model: 'embed', input: ['lighthouse keeper storm'] });
    expect(result.usage.embeddingTokens).toBe(question.usage.promptTokens);
    expect(result.usage.embeddingTokens).toBeGreaterThan(0);
    expect(result.timingsMs.embed).toBeGreaterThanOrEqual(0);
    expect(result.timingsMs.search).toBeGreaterThanOrEqual(0);
  });

  it('keeps at most `candidates` even when the two lists disagree', async () => {
    const question = 'harbour 1903';
    const result = await retrieveCandidates({ ...base(), question, candidates: 3 });
    const vector = (await models.inner.embeddings({ model: 'embed', input: [question] })).vectors[0]!;
    const dense = await store.searchDense(TENANT, vector, { limit: 3 });
    const lexical = await store.searchLexical(TENANT, question, { limit: 3 });
    const union = new Set([...dense, ...lexical].map((hit) => hit.record.id));
    expect(union.size).toBeGreaterThan(3);
    expect(result.candidates).toHaveLength(3);
    for (const c of result.candidates) expect(union).toContain(c.record.id);
  });

  it('defaults to 30 candidates and rejects counts outside 1..100 before any call', async () => {
    await retrieveCandidates(base());
    expect(store.searches.map((s) => s.limit)).toEqual([30, 30]);
    for (const candidates of [0, 101, 2.5, Number.NaN]) {
      const error = await retrieveCandidates({ ...base(), candidates }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(QuireError);
      expect((error as QuireError).code).toBe('invalid_input');
      expect((error as QuireError).message).toMatch(/candidates must be an integer in 1\.\.100/);
    }
    expect(models.calls.embeddings).toBe(1);
  });

  it('passes tenant, filter and signal to the store and the model', async () => {
    const signal = new AbortController().signal;
    const filter = { documentIds: ['doc-1', 'doc-2'], metadata: { lang: 'en' } };
    const result = await retrieveCandidates({ ...base(), filter, signal });
    expect(store.searches).toHaveLength(2);
    for (const search of store.searches) {
      expect(search.tenant).toBe(TENANT);
      expect(search.filter).toEqual(filter);
      expect(search.signal).toBe(signal);
    }
    expect(models.signals).toEqual([signal]);
    expect(result.candidates.length).toBeGreaterThan(0);
    for (const c of result.candidates) {
      expect(c.record.tenant).toBe(TENANT);
      expect(['doc-1', 'doc-2']).toContain(c.record.documentId);
      expect(c.record.metadata.lang).toBe('en');
    }
  });

  it('never returns another tenant’s chunks', async () => {
    const result = await retrieveCandidates({ ...base(), tenant: 'other', question: 'lighthouse keeper' });
    expect(result.candidates.map((c) => c.record.documentId)).toEqual(['secret']);
  });

  it('rejects an empty question and a vector of the wrong dimension with clear errors', async () => {
    await expect(retrieveCandidates({ ...base(), question: '  ' })).rejects.toThrow(
      /question must not be empty/,
    );
    const narrow = new MemoryVectorStore(32);
    await expect(retrieveCandidates({ ...base(), store: narrow })).rejects.toThrow(
      /returned a 64-dimensional vector, but the vector store holds 32-dimensional vectors/,
    );
    // The lexical search, which could have started beside the embedding, is skipped too.
    await delay(5);
    expect(narrow.searches).toHaveLength(0);
  });

  it('rejects with the abort reason and calls nothing when already aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('caller gave up'));
    await expect(retrieveCandidates({ ...base(), signal: controller.signal })).rejects.toThrow(
      'caller gave up',
    );
    expect(models.calls.embeddings).toBe(0);
    expect(store.searches).toHaveLength(0);
  });

  /** The model answers after 30 ms; `order` gets its steps, and whether it says its request is out. */
  const slowEmbeddings = (order: string[], saysRequestIsOut: boolean) => {
    const embed = models.embeddings.bind(models);
    models.embeddings = async (params, options) => {
      if (saysRequestIsOut) {
        order.push('embedding sent');
        options?.onRequest?.();
      }
      // Without the signal this may as well be a rate limit's wait: no request yet.
      await delay(30);
      order.push('embedding back');
      return embed(params, options);
    };
  };
  it('searches lexically while the question is being embedded, then densely', async () => {
    const order: string[] = [];
    slowEmbeddings(order, true);
    store.onSearch = (kind) => order.push(`${kind} search`);
    const result = await retrieveCandidates(base());
    expect(order).toEqual(['embedding sent', 'lexical search', 'embedding back', 'dense search']);
    expect(result.candidates.some((c) => c.lexicalRank !== null)).toBe(true);
    expect(result.candidates.some((c) => c.denseRank !== null)).toBe(true);
  });

  it('searches lexically after the embedding when the model does not say its request is out', async () => {
    const order: string[] = [];
    slowEmbeddings(order, false);
    store.onSearch = (kind) => {
      if (kind === 'lexical') order.push('lexical search');
    };
    const result = await retrieveCandidates(base());
    expect(order).toEqual(['embedding back', 'lexical search']);
    expect(result.candidates.some((c) => c.lexicalRank !== null)).toBe(true);
  });

  it('reports a failed lexical search; skips it when the embedding failed first', async () => {
    store.searchLexical = async () => {
      throw new StoreError('store_unavailable', 'database is locked');
    };
    await expect(retrieveCandidates(base())).rejects.toThrow('database is locked');

    const fresh = new MemoryVectorStore(64);
    models.fail.embeddings = new Error('model API down');
    await expect(retrieveCandidates({ ...base(), store: fresh })).rejects.toThrow('model API down');
    await delay(5);
    expect(fresh.searches).toHaveLength(0);
  });

  it('stops before searching when aborted during the embedding call', async () => {
    const controller = new AbortController();
    models.before.embeddings = () => controller.abort(new Error('stop now'));
    await expect(retrieveCandidates({ ...base(), signal: controller.signal })).rejects.toThrow();
    expect(store.searches.every((s) => s.signal?.aborted)).toBe(true);
  });
});
