/**
 * The behaviour every `VectorStore` must show, as a reusable vitest suite. Each adapter's test file
 * calls `describeVectorStoreContract` with a factory; the suite calls `init()` itself.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../src/errors.js';
import { pointId } from '../src/vector-store/ids.js';
import { guardStore } from '../src/vector-store/tenant-guard.js';
import type {
  ChunkPoint,
  ChunkRecord,
  Metadata,
  SearchFilter,
  SearchHit,
  VectorStore,
  VectorStoreAdapter,
} from '../src/vector-store/types.js';

export interface VectorStoreContractHandle {
  /**
   * An adapter with no data for the suite's tenants, not yet initialised. The suite wraps it in the
   * tenant guard, as `createStore` does: the rules below are those of the pair.
   */
  store: VectorStoreAdapter;
  /** Closes the store and removes what it created. */
  cleanup(): Promise<void>;
}

export interface VectorStoreContractOptions {
  /**
   * Dimension the factory's stores use; the suite's hand-made vectors are padded with zeros up to it.
   * @default 8 (at least 8)
   */
  dimension?: number;
}

type PointOverrides = Partial<Omit<ChunkPoint, 'id' | 'tenant' | 'documentId' | 'version' | 'chunkIndex'>>;

const INGESTED_AT = '2024-05-01T10:00:00.000Z';

function cosine(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return dot / Math.sqrt(na * nb);
}

function recordOf(point: ChunkPoint): ChunkRecord {
  const { vector: _vector, ...record } = point;
  return record;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected the call to reject, it resolved');
    },
    (error: unknown) => error,
  );
}

async function expectRejected(promise: Promise<unknown>): Promise<void> {
  const error = await rejection(promise);
  expect(error).toBeInstanceOf(StoreError);
  expect((error as StoreError).code).toBe('store_rejected');
  expect((error as StoreError).retryable).toBe(false);
}

export function describeVectorStoreContract(
  name: string,
  factory: () => Promise<VectorStoreContractHandle>,
  options: VectorStoreContractOptions = {},
): void {
  const dimension = options.dimension ?? 8;
  if (dimension < 8) throw new Error('the contract suite needs a dimension of at least 8');

  /** A vector of the store's dimension from its first components. */
  function vec(...components: number[]): number[] {
    const out = new Array<number>(dimension).fill(0);
    components.forEach((value, i) => {
      out[i] = value;
    });
    return out;
  }

  /** A unit vector at `angle` radians in the plane of the first two axes: similarity falls with the angle. */
  function angled(angle: number): number[] {
    return vec(Math.cos(angle), Math.sin(angle));
  }

  function point(
    tenant: string,
    documentId: string,
    version: string,
    chunkIndex: number,
    overrides: PointOverrides = {},
  ): ChunkPoint {
    return {
      id: pointId(tenant, documentId, version, chunkIndex),
      tenant,
      documentId,
      version,
      chunkIndex,
      chunkCount: chunkIndex + 1,
      text: `chunk ${chunkIndex} of ${documentId}`,
      pageStart: null,
      pageEnd: null,
      headingPath: [],
      sourceName: `${documentId}.txt`,
      metadata: {},
      ingestedAt: INGESTED_AT,
      vector: vec(1),
      ...overrides,
    };
  }

  /** `count` chunks of one document version, each with its own angle so that orders are certain. */
  function documentPoints(
    tenant: string,
    documentId: string,
    version: string,
    count: number,
    overrides: PointOverrides = {},
  ): ChunkPoint[] {
    return Array.from({ length: count }, (_, i) =>
      point(tenant, documentId, version, i, { chunkCount: count, vector: angled(0.1 * i), ...overrides }),
    );
  }

  const ids = (hits: SearchHit[]): string[] => hits.map((hit) => hit.record.id);
  const docIds = (hits: SearchHit[]): string[] => hits.map((hit) => hit.record.documentId);

  describe(`VectorStore contract: ${name}`, () => {
    let handle: VectorStoreContractHandle;
    let store: VectorStore;

    beforeEach(async () => {
      handle = await factory();
      store = guardStore(handle.store);
      await store.init();
    });

    afterEach(async () => {
      await handle.cleanup();
    });

    describe('setup', () => {
      it('reports its dimension', () => {
        expect(store.dimension).toBe(dimension);
      });

      it('init is idempotent and keeps data', async () => {
        await store.upsert('t1', documentPoints('t1', 'doc', 'v1', 3));
        await store.init();
        await store.init();
        expect(await store.countChunks('t1', 'doc', 'v1')).toBe(3);
        const hits = await store.searchDense('t1', angled(0), { limit: 10 });
        expect(hits).toHaveLength(3);
      });

      it('an empty upsert is a no-op', async () => {
        await store.upsert('t1', []);
        expect(await store.listChunks('t1')).toEqual([]);
      });
    });

    describe('upsert', () => {
      it('makes points findable by dense and lexical search', async () => {
        const points = [
          point('t1', 'a', 'v1', 0, { vector: vec(1, 0), text: 'granite quarries of Aberdeen' }),
          point('t1', 'b', 'v1', 0, { vector: vec(0, 1), text: 'tidal mills on the estuary' }),
        ];
        await store.upsert('t1', points);
        const dense = await store.searchDense('t1', vec(1, 0), { limit: 10 });
        expect(ids(dense)).toEqual([points[0]!.id, points[1]!.id]);
        expect(dense[0]!.record).toEqual(recordOf(points[0]!));
        const lexical = await store.searchLexical('t1', 'estuary', { limit: 10 });
        expect(ids(lexical)).toEqual([points[1]!.id]);
        expect(lexical[0]!.record).toEqual(recordOf(points[1]!));
      });

      it('re-upserting the same ids replaces payload, vector and lexical text without duplicates', async () => {
        const first = documentPoints('t1', 'doc', 'v1', 3, { text: 'original wording about lighthouses' });
        await store.upsert('t1', first);
        await store.upsert('t1', first);
        expect(await store.countChunks('t1', 'doc', 'v1')).toBe(3);

        const second = first.map((p, i) => ({
          ...p,
          text: `revised wording about windmills ${i}`,
          metadata: { revised: true },
          vector: angled(Math.PI / 2 + 0.1 * i),
        }));
        await store.upsert('t1', second);

        expect(await store.countChunks('t1', 'doc', 'v1')).toBe(3);
        expect(await store.listChunks('t1')).toEqual(second.map(recordOf));
        const dense = await store.searchDense('t1', angled(Math.PI / 2), { limit: 10 });
        expect(ids(dense)).toEqual(second.map((p) => p.id));
        expect(dense[0]!.score).toBeCloseTo(1, 4);
        expect(await store.searchLexical('t1', 'lighthouses', { limit: 10 })).toEqual([]);
        expect(await store.searchLexical('t1', 'windmills', { limit: 10 })).toHaveLength(3);
        const [summary] = await store.listDocuments('t1');
        expect(summary?.chunks).toBe(3);
      });

      it('upserts 1,000 points in one call', async () => {
        const points = Array.from({ length: 1000 }, (_, i) =>
          point('t1', `doc-${String(Math.floor(i / 100)).padStart(2, '0')}`, 'v1', i % 100, {
            chunkCount: 100,
            vector: angled((i / 1000) * Math.PI),
            text: `bulk chunk number ${i}`,
          }),
        );
        await store.upsert('t1', points);
        expect(await store.countChunks('t1', 'doc-00', 'v1')).toBe(100);
        expect(await store.countChunks('t1', 'doc-09', 'v1')).toBe(100);
        expect(await store.listChunks('t1')).toHaveLength(1000);
        const documents = await store.listDocuments('t1');
        expect(documents.map((d) => d.chunks)).toEqual(new Array(10).fill(100));
        const [best] = await store.searchDense('t1', angled((537 / 1000) * Math.PI), { limit: 1 });
        expect(best?.record.id).toBe(points[537]!.id);
      });

      it('rejects a vector of the wrong dimension and writes nothing of the batch', async () => {
        const good = point('t1', 'doc', 'v1', 0);
        const bad = point('t1', 'doc', 'v1', 1, { vector: new Array<number>(dimension + 1).fill(0.5) });
        await expectRejected(store.upsert('t1', [good, bad]));
        const short = point('t1', 'doc', 'v1', 1, { vector: new Array<number>(dimension - 1).fill(0.5) });
        await expectRejected(store.upsert('t1', [good, short]));
        expect(await store.listChunks('t1')).toEqual([]);
      });

      it('rejects a zero or non-finite vector', async () => {
        await expectRejected(store.upsert('t1', [point('t1', 'doc', 'v1', 0, { vector: vec() })]));
        await expectRejected(
          store.upsert('t1', [point('t1', 'doc', 'v1', 0, { vector: vec(1, Number.NaN) })]),
        );
        await expectRejected(store.searchDense('t1', vec(), { limit: 1 }));
        await expectRejected(store.searchDense('t1', vec(Number.POSITIVE_INFINITY), { limit: 1 }));
        expect(await store.listChunks('t1')).toEqual([]);
      });

      it('rejects a point whose id is not derived from its tenant, document, version and index', async () => {
        const forged = { ...point('t1', 'doc', 'v1', 0), id: pointId('t2', 'doc', 'v1', 0) };
        await expectRejected(store.upsert('t1', [forged]));
        const moved = { ...point('t1', 'doc', 'v1', 0), chunkIndex: 1, chunkCount: 2 };
        await expectRejected(store.upsert('t1', [moved]));
        expect(await store.listChunks('t1')).toEqual([]);
      });

      it('rejects points of another tenant and writes nothing of the batch', async () => {
        const mine = point('t1', 'doc', 'v1', 0);
        const theirs = point('t2', 'doc', 'v1', 1);
        await expectRejected(store.upsert('t1', [mine, theirs]));
        expect(await store.listChunks('t1')).toEqual([]);
        expect(await store.listChunks('t2')).toEqual([]);
      });
    });

    describe('payload', () => {
      it('round-trips every field exactly', async () => {
        const points = [
          point('t1', 'report', 'v7', 0, {
            chunkCount: 2,
            text: 'Line one\n\nLine two\twith a tab and "quotes" and a back\\slash',
            pageStart: 1,
            pageEnd: 3,
            headingPath: ['Part I', 'Chapter 2: Methods', 'Sampling'],
            sourceName: 'reports/2024/annual report.pdf',
            metadata: {
              lang: 'en',
              year: 2024,
              ratio: 0.25,
              negative: -3,
              draft: false,
              reviewed: true,
              empty: '',
            },
            ingestedAt: '2024-12-31T23:59:59.999Z',
          }),
          point('t1', 'report', 'v7', 1, {
            chunkCount: 2,
            text: 'no pages here',
            vector: vec(0, 1),
            pageStart: null,
            pageEnd: null,
            headingPath: [],
            sourceName: 'reports/2024/annual report.pdf',
            metadata: {},
            ingestedAt: '2024-12-31T23:59:59.999Z',
          }),
        ];
        await store.upsert('t1', points);
        const expected = points.map(recordOf);
        expect(await store.listChunks('t1')).toEqual(expected);
        expect(await store.listChunks('t1', { documentId: 'report' })).toEqual(expected);
        const hits = await store.searchDense('t1', points[0]!.vector, { limit: 2 });
        expect(hits.map((hit) => hit.record)).toEqual(expected);
      });

      it('round-trips unicode text, names and metadata, and finds it lexically', async () => {
        const p = point('t1', 'dok-ü', 'v1', 0, {
          text: 'Grüße aus Köln: die Straße am Fluß. 東京タワーに行きました。한국어 텍스트. Emoji 🚀 survive.',
          headingPath: ['Überblick', '概要'],
          sourceName: 'Übersicht 概要.md',
          metadata: { author: 'Zoë Ångström', city: '北京' },
        });
        await store.upsert('t1', [p]);
        expect(await store.listChunks('t1')).toEqual([recordOf(p)]);
        expect(ids(await store.searchLexical('t1', 'grüße', { limit: 5 }))).toEqual([p.id]);
        expect(ids(await store.searchLexical('t1', 'KÖLN', { limit: 5 }))).toEqual([p.id]);
        expect(ids(await store.searchLexical('t1', '東京', { limit: 5 }))).toEqual([p.id]);
        expect(ids(await store.searchLexical('t1', 'タワー', { limit: 5 }))).toEqual([p.id]);
        expect(await store.searchLexical('t1', '大阪', { limit: 5 })).toEqual([]);
        const filtered = await store.searchDense('t1', p.vector, {
          limit: 5,
          filter: { metadata: { city: '北京' }, sourceNames: ['Übersicht 概要.md'], documentIds: ['dok-ü'] },
        });
        expect(ids(filtered)).toEqual([p.id]);
      });
    });

    describe('dense search', () => {
      it('orders by cosine similarity with exact scores', async () => {
        // Different magnitudes: a dot-product or L2 ranking would order these differently.
        const vectors = [
          vec(10, 0, 0),
          vec(0.5, 0.5, 0),
          vec(0, 3, 1),
          vec(-1, 0, 0),
          vec(1, 0, 4),
          vec(0.2, 0.1, 0, 0, 0, 0, 0, 0.05),
        ];
        const points = vectors.map((vector, i) => point('t1', `doc-${i}`, 'v1', 0, { vector }));
        await store.upsert('t1', points);
        const query = vec(2, 1, 0.5);
        const expected = points
          .map((p) => ({ id: p.id, score: cosine(query, p.vector) }))
          .sort((a, b) => b.score - a.score);
        const hits = await store.searchDense('t1', query, { limit: 10 });
        expect(ids(hits)).toEqual(expected.map((e) => e.id));
        hits.forEach((hit, i) => {
          expect(hit.score).toBeCloseTo(expected[i]!.score, 4);
        });
        expect(hits.at(-1)!.score).toBeLessThan(0);
      });

      it('respects the limit', async () => {
        await store.upsert('t1', documentPoints('t1', 'doc', 'v1', 10));
        const hits = await store.searchDense('t1', angled(0), { limit: 3 });
        expect(hits.map((hit) => hit.record.chunkIndex)).toEqual([0, 1, 2]);
      });

      it('rejects a query vector of the wrong dimension', async () => {
        await store.upsert('t1', documentPoints('t1', 'doc', 'v1', 2));
        await expectRejected(store.searchDense('t1', vec(1).slice(1), { limit: 3 }));
        await expectRejected(store.searchDense('t1', [...vec(1), 1], { limit: 3 }));
      });

      it('rejects a limit that is not a positive integer', async () => {
        await expectRejected(store.searchDense('t1', vec(1), { limit: 0 }));
        await expectRejected(store.searchDense('t1', vec(1), { limit: 2.5 }));
        await expectRejected(store.searchLexical('t1', 'word', { limit: -1 }));
      });
    });

    describe('lexical search', () => {
      const texts = [
        'Zymurgy is the branch of chemistry that studies fermentation in brewing.',
        'Brewing beer at home: brewing kettles, brewing yeast and brewing water.',
        'A guide to brewing tea and coffee in the morning.',
        'Notes on brewing cider from apples.',
        'The history of the printing press in Europe.',
      ];

      beforeEach(async () => {
        await store.upsert(
          't1',
          texts.map((text, i) => point('t1', `doc-${i}`, 'v1', 0, { text, vector: angled(i) })),
        );
      });

      it('ranks the chunk holding a rare query term first, with positive descending scores', async () => {
        const hits = await store.searchLexical('t1', 'zymurgy brewing', { limit: 10 });
        expect(docIds(hits)[0]).toBe('doc-0');
        expect(new Set(docIds(hits))).toEqual(new Set(['doc-0', 'doc-1', 'doc-2', 'doc-3']));
        for (const [i, hit] of hits.entries()) {
          expect(hit.score).toBeGreaterThan(0);
          if (i > 0) expect(hit.score).toBeLessThanOrEqual(hits[i - 1]!.score);
        }
      });

      it('matches case-insensitively and ignores punctuation', async () => {
        expect(docIds(await store.searchLexical('t1', 'PRINTING-press!', { limit: 10 }))).toEqual(['doc-4']);
      });

      it('returns nothing for terms present nowhere, stopwords or an empty query', async () => {
        expect(await store.searchLexical('t1', 'xylophone quasar', { limit: 10 })).toEqual([]);
        expect(await store.searchLexical('t1', 'the of and', { limit: 10 })).toEqual([]);
        expect(await store.searchLexical('t1', '   ', { limit: 10 })).toEqual([]);
        expect(await store.searchLexical('t1', '', { limit: 10 })).toEqual([]);
      });

      it('treats query syntax characters as plain text', async () => {
        const hits = await store.searchLexical('t1', '"cider" OR (apples* AND -NEAR) ^col:x', { limit: 10 });
        expect(docIds(hits)[0]).toBe('doc-3');
      });

      it('respects the limit', async () => {
        expect(await store.searchLexical('t1', 'brewing', { limit: 2 })).toHaveLength(2);
      });
    });

    describe('tenant isolation', () => {
      // Tenant t2 holds the very same documents, texts and vectors as t1, plus more.
      beforeEach(async () => {
        const shared = (tenant: string): ChunkPoint[] => [
          ...documentPoints(tenant, 'shared', 'v1', 3, { text: 'common words about harbours' }),
          ...documentPoints(tenant, 'shared', 'v2', 2, { text: 'common words about harbours' }),
        ];
        await store.upsert('t1', shared('t1'));
        await store.upsert('t2', [
          ...shared('t2'),
          ...documentPoints('t2', 'secret', 'v1', 4, { text: 'confidential harbours plan' }),
        ]);
      });

      it('dense search returns only the tenant’s own points', async () => {
        const hits = await store.searchDense('t1', angled(0), { limit: 50 });
        expect(hits).toHaveLength(5);
        expect(hits.every((hit) => hit.record.tenant === 't1')).toBe(true);
        expect(await store.searchDense('t3', angled(0), { limit: 50 })).toEqual([]);
      });

      it('lexical search returns only the tenant’s own points', async () => {
        const hits = await store.searchLexical('t1', 'harbours confidential', { limit: 50 });
        expect(hits).toHaveLength(5);
        expect(hits.every((hit) => hit.record.tenant === 't1')).toBe(true);
        expect(await store.searchLexical('t1', 'confidential', { limit: 50 })).toEqual([]);
      });

      it('a filter naming another tenant’s document finds nothing', async () => {
        const filter: SearchFilter = { documentIds: ['secret'] };
        expect(await store.searchDense('t1', angled(0), { limit: 10, filter })).toEqual([]);
        expect(await store.searchLexical('t1', 'confidential', { limit: 10, filter })).toEqual([]);
      });

      it('counts, lists and deletes inside the tenant only', async () => {
        expect(await store.countChunks('t1', 'secret', 'v1')).toBe(0);
        expect(await store.countChunks('t2', 'secret', 'v1')).toBe(4);
        expect((await store.listDocuments('t1')).map((d) => d.documentId)).toEqual(['shared']);
        expect((await store.listChunks('t1')).every((c) => c.tenant === 't1')).toBe(true);

        await store.deleteDocument('t1', 'secret');
        expect(await store.countChunks('t2', 'secret', 'v1')).toBe(4);

        await store.deleteOtherVersions('t1', 'shared', 'v2');
        expect(await store.countChunks('t1', 'shared', 'v1')).toBe(0);
        expect(await store.countChunks('t2', 'shared', 'v1')).toBe(3);

        await store.deleteDocument('t1', 'shared');
        expect(await store.listChunks('t1')).toEqual([]);
        expect(await store.listChunks('t2')).toHaveLength(9);
      });

      it('rejects an empty tenant everywhere', async () => {
        await expectRejected(store.searchDense('', angled(0), { limit: 5 }));
        await expectRejected(store.searchLexical('', 'harbours', { limit: 5 }));
        await expectRejected(store.upsert('', [point('', 'doc', 'v1', 0)]));
        await expectRejected(store.listChunks(''));
        await expectRejected(store.listDocuments(''));
        await expectRejected(store.countChunks('', 'shared', 'v1'));
        await expectRejected(store.deleteDocument('', 'shared'));
        await expectRejected(store.deleteOtherVersions('', 'shared', 'v1'));
      });
    });

    describe('filters', () => {
      beforeEach(async () => {
        const make = (
          documentId: string,
          sourceName: string,
          metadata: Metadata,
          angle: number,
        ): ChunkPoint =>
          point('t1', documentId, 'v1', 0, {
            sourceName,
            metadata,
            vector: angled(angle),
            text: `quarterly figures for ${documentId}`,
          });
        await store.upsert('t1', [
          make('a', 'a.pdf', { lang: 'en', year: 2023, score: 0.5, public: true }, 0.0),
          make('b', 'b.pdf', { lang: 'de', year: 2024, score: 1.5, public: false }, 0.1),
          make('c', 'c.md', { lang: 'en', year: 2024, score: 0.5, public: true }, 0.2),
          make('d', 'd.md', { lang: 'en', year: '2024', public: 1 }, 0.3),
          make('e', 'e.html', {}, 0.4),
        ]);
      });

      const cases: { title: string; filter: SearchFilter; expected: string[] }[] = [
        { title: 'document ids', filter: { documentIds: ['c', 'e', 'missing'] }, expected: ['c', 'e'] },
        { title: 'a string metadata value', filter: { metadata: { lang: 'en' } }, expected: ['a', 'c', 'd'] },
        { title: 'an integer metadata value', filter: { metadata: { year: 2024 } }, expected: ['b', 'c'] },
        { title: 'a fractional metadata value', filter: { metadata: { score: 0.5 } }, expected: ['a', 'c'] },
        { title: 'a true metadata value', filter: { metadata: { public: true } }, expected: ['a', 'c'] },
        { title: 'a false metadata value', filter: { metadata: { public: false } }, expected: ['b'] },
        {
          title: 'a string that looks like a number',
          filter: { metadata: { year: '2024' } },
          expected: ['d'],
        },
        { title: 'a number that stands for a boolean', filter: { metadata: { public: 1 } }, expected: ['d'] },
        { title: 'a missing metadata key', filter: { metadata: { nothere: 'x' } }, expected: [] },
        { title: 'several metadata keys', filter: { metadata: { lang: 'en', year: 2024 } }, expected: ['c'] },
        { title: 'an empty metadata filter', filter: { metadata: {} }, expected: ['a', 'b', 'c', 'd', 'e'] },
        { title: 'source names', filter: { sourceNames: ['b.pdf', 'e.html'] }, expected: ['b', 'e'] },
        {
          title: 'everything combined',
          filter: { documentIds: ['a', 'b', 'c'], sourceNames: ['a.pdf', 'c.md'], metadata: { year: 2024 } },
          expected: ['c'],
        },
        { title: 'an empty document id list', filter: { documentIds: [] }, expected: [] },
        { title: 'an empty source name list', filter: { sourceNames: [] }, expected: [] },
      ];

      for (const { title, filter, expected } of cases) {
        it(`dense and lexical search filter by ${title}`, async () => {
          const dense = await store.searchDense('t1', angled(0), { limit: 10, filter });
          expect(docIds(dense)).toEqual(expected);
          const lexical = await store.searchLexical('t1', 'quarterly figures', { limit: 10, filter });
          expect(docIds(lexical).sort()).toEqual(expected);
        });
      }

      it('applies filters and the tenant before the limit', async () => {
        // 300 chunks of other documents and another tenant lie closer to the query than the one wanted.
        const crowd = [
          ...Array.from({ length: 150 }, (_, i) =>
            point('t1', 'crowd', 'v1', i, { chunkCount: 150, vector: angled(Math.PI - 0.001 * i) }),
          ),
        ];
        const otherTenant = Array.from({ length: 150 }, (_, i) =>
          point('t9', 'crowd', 'v1', i, { chunkCount: 150, vector: angled(Math.PI - 0.001 * i) }),
        );
        await store.upsert('t1', crowd);
        await store.upsert('t9', otherTenant);
        const query = angled(Math.PI);
        const byDocument = await store.searchDense('t1', query, {
          limit: 3,
          filter: { documentIds: ['e', 'd'] },
        });
        expect(docIds(byDocument)).toEqual(['e', 'd']);
        const byMetadata = await store.searchDense('t1', query, {
          limit: 3,
          filter: { metadata: { public: true } },
        });
        expect(docIds(byMetadata)).toEqual(['c', 'a']);
        await store.upsert('t8', [point('t8', 'lonely', 'v1', 0, { vector: angled(0) })]);
        expect(docIds(await store.searchDense('t8', query, { limit: 1 }))).toEqual(['lonely']);
      });
    });

    describe('documents and versions', () => {
      beforeEach(async () => {
        await store.upsert('t1', [
          ...documentPoints('t1', 'alpha', 'v1', 3, {
            sourceName: 'alpha-old.txt',
            ingestedAt: '2024-01-01T00:00:00.000Z',
            pageStart: 2,
          }),
          ...documentPoints('t1', 'alpha', 'v2', 2, {
            sourceName: 'alpha.txt',
            ingestedAt: '2024-02-01T00:00:00.000Z',
            pageStart: 1,
            pageEnd: 7,
          }),
          ...documentPoints('t1', 'beta', 'v1', 4, { sourceName: 'beta.txt' }),
        ]);
      });

      it('counts chunks per version', async () => {
        expect(await store.countChunks('t1', 'alpha', 'v1')).toBe(3);
        expect(await store.countChunks('t1', 'alpha', 'v2')).toBe(2);
        expect(await store.countChunks('t1', 'beta', 'v1')).toBe(4);
        expect(await store.countChunks('t1', 'alpha', 'v3')).toBe(0);
        expect(await store.countChunks('t1', 'gamma', 'v1')).toBe(0);
      });

      it('lists documents with their versions, chunk and page counts', async () => {
        expect(await store.listDocuments('t1')).toEqual([
          {
            documentId: 'alpha',
            sourceName: 'alpha.txt',
            versions: [
              { version: 'v1', chunks: 3, chunkCount: 3, ingestedAt: '2024-01-01T00:00:00.000Z', pages: 2 },
              { version: 'v2', chunks: 2, chunkCount: 2, ingestedAt: '2024-02-01T00:00:00.000Z', pages: 7 },
            ],
            chunks: 5,
            pages: 7,
          },
          {
            documentId: 'beta',
            sourceName: 'beta.txt',
            versions: [{ version: 'v1', chunks: 4, chunkCount: 4, ingestedAt: INGESTED_AT, pages: null }],
            chunks: 4,
            pages: null,
          },
        ]);
        expect(await store.listDocuments('t-empty')).toEqual([]);
      });

      it('lists one document by id, or none', async () => {
        const all = await store.listDocuments('t1');
        expect(await store.listDocuments('t1', { documentId: 'beta' })).toEqual([all[1]]);
        expect(await store.listDocuments('t1', { documentId: 'alpha' })).toEqual([all[0]]);
        expect(await store.listDocuments('t1', { documentId: 'gamma' })).toEqual([]);
        expect(await store.listDocuments('t2', { documentId: 'alpha' })).toEqual([]);
      });

      it('lists documents a page at a time, after a cursor', async () => {
        await store.upsert('t1', [
          ...documentPoints('t1', 'aardvark', 'v1', 1),
          ...documentPoints('t1', 'gamma', 'v1', 2),
          ...documentPoints('t1', 'Émile', 'v1', 1),
        ]);
        const all = await store.listDocuments('t1');
        expect(all.map((d) => d.documentId)).toEqual(['aardvark', 'alpha', 'beta', 'gamma', 'Émile']);
        const pages: string[][] = [];
        let after: string | undefined;
        for (;;) {
          const page = await store.listDocuments('t1', {
            limit: 2,
            ...(after === undefined ? {} : { after }),
          });
          if (page.length === 0) break;
          pages.push(page.map((d) => d.documentId));
          after = page.at(-1)!.documentId;
        }
        expect(pages).toEqual([['aardvark', 'alpha'], ['beta', 'gamma'], ['Émile']]);
        expect(await store.listDocuments('t1', { after: 'alpha', limit: 1 })).toEqual([all[2]]);
        expect(await store.listDocuments('t1', { after: 'b' })).toEqual(all.slice(2));
        expect(await store.listDocuments('t1', { documentId: 'alpha', after: 'alpha' })).toEqual([]);
        // Code point order, not UTF-16 order: U+FF21 sorts before U+10330 (a surrogate pair in UTF-16).
        await store.upsert('t1', documentPoints('t1', '\uFF21', 'v1', 1));
        expect(await store.listDocuments('t1', { documentId: '\uFF21', after: '\u{10330}' })).toEqual([]);
        expect((await store.listDocuments('t1', { after: '\u{10330}' })).map((d) => d.documentId)).toEqual(
          [],
        );
        expect((await store.listDocuments('t1', { after: 'Émile' })).map((d) => d.documentId)).toEqual([
          '\uFF21',
        ]);
        await expectRejected(store.listDocuments('t1', { limit: 0 }));
        await expectRejected(store.listDocuments('t1', { limit: 1.5 }));
      });

      it('lists chunks by document id, chunk index and version', async () => {
        const order = (await store.listChunks('t1')).map(
          (c) => `${c.documentId}/${c.chunkIndex}/${c.version}`,
        );
        expect(order).toEqual([
          'alpha/0/v1',
          'alpha/0/v2',
          'alpha/1/v1',
          'alpha/1/v2',
          'alpha/2/v1',
          'beta/0/v1',
          'beta/1/v1',
          'beta/2/v1',
          'beta/3/v1',
        ]);
        const beta = await store.listChunks('t1', { documentId: 'beta' });
        expect(beta.map((c) => c.chunkIndex)).toEqual([0, 1, 2, 3]);
        expect(await store.listChunks('t1', { documentId: 'gamma' })).toEqual([]);
      });

      it('deleteDocument removes every version and leaves other documents alone', async () => {
        await store.deleteDocument('t1', 'alpha');
        expect(await store.countChunks('t1', 'alpha', 'v1')).toBe(0);
        expect(await store.countChunks('t1', 'alpha', 'v2')).toBe(0);
        expect(await store.countChunks('t1', 'beta', 'v1')).toBe(4);
        expect((await store.listDocuments('t1')).map((d) => d.documentId)).toEqual(['beta']);
        const dense = await store.searchDense('t1', angled(0), { limit: 20 });
        expect(new Set(docIds(dense))).toEqual(new Set(['beta']));
        const lexical = await store.searchLexical('t1', 'chunk alpha beta', { limit: 20 });
        expect(new Set(docIds(lexical))).toEqual(new Set(['beta']));
        await store.deleteDocument('t1', 'alpha');
        await store.deleteDocument('t1', 'never-existed');
        expect(await store.countChunks('t1', 'beta', 'v1')).toBe(4);
      });

      it('deleteOtherVersions keeps only the given version', async () => {
        await store.deleteOtherVersions('t1', 'alpha', 'v2');
        expect(await store.countChunks('t1', 'alpha', 'v1')).toBe(0);
        expect(await store.countChunks('t1', 'alpha', 'v2')).toBe(2);
        expect(await store.countChunks('t1', 'beta', 'v1')).toBe(4);
        const [alpha] = await store.listDocuments('t1');
        expect(alpha?.versions.map((v) => v.version)).toEqual(['v2']);
        const hits = await store.searchDense('t1', angled(0), {
          limit: 20,
          filter: { documentIds: ['alpha'] },
        });
        expect(hits.map((hit) => hit.record.version)).toEqual(['v2', 'v2']);
        await store.deleteOtherVersions('t1', 'alpha', 'v2');
        expect(await store.countChunks('t1', 'alpha', 'v2')).toBe(2);
      });

      it('deleteVersion removes one version only, inside the tenant', async () => {
        await store.deleteVersion('t1', 'alpha', 'v1');
        expect(await store.countChunks('t1', 'alpha', 'v1')).toBe(0);
        expect(await store.countChunks('t1', 'alpha', 'v2')).toBe(2);
        expect(await store.countChunks('t1', 'beta', 'v1')).toBe(4);
        await store.deleteVersion('t2', 'beta', 'v1');
        expect(await store.countChunks('t1', 'beta', 'v1')).toBe(4);
        await store.deleteVersion('t1', 'alpha', 'never-existed');
        expect(await store.countChunks('t1', 'alpha', 'v2')).toBe(2);
      });
    });

    describe('abort signals', () => {
      it('an aborted signal rejects reads and writes before any work', async () => {
        const controller = new AbortController();
        controller.abort(new Error('caller gave up'));
        const signal = controller.signal;
        const p = point('t1', 'doc', 'v1', 0);
        expect(await rejection(store.upsert('t1', [p], { signal }))).toBe(signal.reason);
        expect(await store.listChunks('t1')).toEqual([]);
        await store.upsert('t1', [p]);
        expect(await rejection(store.searchDense('t1', p.vector, { limit: 1, signal }))).toBe(signal.reason);
        expect(await rejection(store.searchLexical('t1', 'chunk', { limit: 1, signal }))).toBe(signal.reason);
        expect(await rejection(store.deleteDocument('t1', 'doc', { signal }))).toBe(signal.reason);
        expect(await rejection(store.listChunks('t1', { signal }))).toBe(signal.reason);
        expect(await store.countChunks('t1', 'doc', 'v1')).toBe(1);
      });
    });
  });
}
