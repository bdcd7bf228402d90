import { describe, expect, it } from 'vitest';
import { fakeFetch, json, type RecordedCall } from './__tests__/fake-fetch.js';
import { ModelClient } from './client.js';
import { BadRequestError, InvalidResponseError } from './errors.js';

const BASE_URL = 'https://models.test/v1';
const REQUEST = {
  model: 'bge-reranker-v2-m3',
  query: 'Organic skincare products for sensitive skin',
  topN: 3,
  documents: [
    'Organic skincare for sensitive skin with aloe vera and chamomile. Clinically tested and hypoallergenic.',
    'New makeup trends focus on bold colors and innovative application techniques for a striking look.',
    'Bio-Hautpflege für empfindliche Haut mit Aloe Vera und Kamille. Klinisch getestet und hypoallergen.',
  ],
};
const [D0, D1, D2] = REQUEST.documents as [string, string, string];
const EXPECTED_RESULTS = [
  { index: 0, relevanceScore: 0.95 },
  { index: 2, relevanceScore: 0.9 },
  { index: 1, relevanceScore: 0.01 },
];

describe('ModelClient.rerank', () => {
  it('sends exactly model, query, documents and top_n', async () => {
    const { fetch, calls } = fakeFetch(() => json({ results: [] }));
    const client = new ModelClient({ baseURL: BASE_URL, fetch });
    await client.rerank(REQUEST);
    expect(calls[0]!.url).toBe(`${BASE_URL}/rerank`);
    expect(calls[0]!.body).toEqual({
      model: REQUEST.model,
      query: REQUEST.query,
      documents: REQUEST.documents,
      top_n: 3,
    });
    await client.rerank({ ...REQUEST, topN: undefined, returnDocuments: false });
    expect(calls[1]!.body).toEqual({ ...calls[0]!.body, top_n: 3, return_documents: false });
  });

  it.each([
    [
      'reference: results + relevance_score + usage',
      {
        results: [
          { index: 0, relevance_score: 0.95 },
          { index: 2, relevance_score: 0.9 },
          { index: 1, relevance_score: 0.01 },
        ],
        usage: { total_tokens: 42 },
      },
      { totalTokens: 42 },
    ],
    [
      'data + document objects + model',
      {
        object: 'list',
        model: 'bge-reranker-v2-m3',
        data: [
          { index: 2, relevance_score: 0.9, document: { text: D2 } },
          { index: 0, relevance_score: 0.95, document: { text: D0 } },
          { index: 1, relevance_score: 0.01, document: { text: D1 } },
        ],
        usage: { total_tokens: 42 },
      },
      { totalTokens: 42 },
    ],
    [
      'bare array with score',
      [
        { index: 1, score: 0.01 },
        { index: 0, score: 0.95 },
        { index: 2, score: 0.9 },
      ],
      { totalTokens: 0 },
    ],
    [
      'Cohere meta with billed units and tokens',
      {
        id: 'abc',
        results: [
          { index: 0, relevance_score: 0.95, document: { text: D0 } },
          { index: 2, relevance_score: 0.9, document: { text: D2 } },
          { index: 1, relevance_score: 0.01, document: { text: D1 } },
        ],
        meta: {
          api_version: { version: '2' },
          billed_units: { search_units: 1 },
          tokens: { input_tokens: 40, output_tokens: 2 },
        },
      },
      { totalTokens: 42, searchUnits: 1 },
    ],
    [
      'documents as strings, unsorted, with extra top results ignored by the server',
      {
        results: [
          { index: 1, relevance_score: 0.01, document: D1 },
          { index: 2, relevance_score: 0.9, document: D2 },
          { index: 0, relevance_score: 0.95, document: D0 },
        ],
      },
      { totalTokens: 0 },
    ],
  ])('normalises %s to the same result', async (_, body, usage) => {
    const { fetch } = fakeFetch(() => json(body));
    const client = new ModelClient({ baseURL: BASE_URL, fetch });
    const result = await client.rerank(REQUEST);
    expect(result.results).toEqual(EXPECTED_RESULTS);
    expect(result.usage).toEqual(usage);
    expect(result.model).toBe('bge-reranker-v2-m3');
    const withDocs = await client.rerank({ ...REQUEST, returnDocuments: true });
    expect(withDocs.results.map((item) => item.document)).toEqual([D0, D2, D1]);
  });

  it('applies top_n on the client when the server ignores it', async () => {
    const { fetch } = fakeFetch(() =>
      json({
        results: [
          { index: 1, relevance_score: 0.01 },
          { index: 0, relevance_score: 0.95 },
          { index: 2, relevance_score: 0.9 },
        ],
      }),
    );
    const client = new ModelClient({ baseURL: BASE_URL, fetch });
    const result = await client.rerank({ ...REQUEST, topN: 1 });
    expect(result.results).toEqual([{ index: 0, relevanceScore: 0.95 }]);
  });

  it('splits many documents over several requests and merges them by score', async () => {
    // Each document carries its own score; the server returns the best `top_n` of what it got.
    const server = (call: RecordedCall): Response => {
      const documents = call.body.documents as string[];
      const ranked = documents
        .map((text, index) => ({ index, relevance_score: Number(text.split(':')[1]) }))
        .sort((a, b) => b.relevance_score - a.relevance_score)
        .slice(0, call.body.top_n as number);
      return json({ results: ranked, usage: { total_tokens: documents.length } });
    };
    const { fetch, calls } = fakeFetch(server);
    const client = new ModelClient({ baseURL: BASE_URL, fetch, maxRerankDocuments: 2 });
    const scores = [0.1, 0.7, 0.3, 0.9, 0.5];
    const documents = scores.map((score, i) => `doc${i}:${score}`);
    const result = await client.rerank({ model: 'r', query: 'q', documents, topN: 3, returnDocuments: true });
    expect(calls.map((call) => call.body.documents)).toEqual([
      documents.slice(0, 2),
      documents.slice(2, 4),
      documents.slice(4),
    ]);
    expect(calls.map((call) => call.body.top_n)).toEqual([2, 2, 1]);
    expect(result.results).toEqual([
      { index: 3, relevanceScore: 0.9, document: 'doc3:0.9' },
      { index: 1, relevanceScore: 0.7, document: 'doc1:0.7' },
      { index: 4, relevanceScore: 0.5, document: 'doc4:0.5' },
    ]);
    expect(result.usage.totalTokens).toBe(5);
    expect(result.requests).toBe(3);
  });

  it('makes no request for zero documents', async () => {
    const { fetch, calls } = fakeFetch(() => json({ results: [] }));
    const client = new ModelClient({ baseURL: BASE_URL, fetch });
    expect(await client.rerank({ model: 'r', query: 'q', documents: [], topN: 3 })).toEqual({
      model: 'r',
      results: [],
      usage: { totalTokens: 0 },
      requests: 0,
    });
    expect(calls).toHaveLength(0);
  });

  it('rejects an invalid top_n before any request', async () => {
    const { fetch, calls } = fakeFetch(() => json({ results: [] }));
    const client = new ModelClient({ baseURL: BASE_URL, fetch });
    await expect(client.rerank({ ...REQUEST, topN: 0 })).rejects.toBeInstanceOf(BadRequestError);
    expect(calls).toHaveLength(0);
  });

  it.each([
    ['no results', { usage: { total_tokens: 1 } }, 'needs a `results` or `data` array'],
    ['no score', { results: [{ index: 0 }] }, 'needs `relevance_score` or `score`'],
    ['an index out of range', { results: [{ index: 3, score: 1 }] }, 'result index 3 is out of range'],
    [
      'a repeated index',
      [
        { index: 0, score: 1 },
        { index: 0, score: 0.5 },
      ],
      'result index 0 is repeated',
    ],
    ['a string score', { results: [{ index: 0, relevance_score: 'high' }] }, 'results.0.relevance_score'],
  ])('rejects a response with %s', async (_, body, message) => {
    const { fetch } = fakeFetch(() => json(body));
    const client = new ModelClient({ baseURL: BASE_URL, fetch });
    const error = await client.rerank(REQUEST).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect((error as Error).message).toContain(message);
  });
});
