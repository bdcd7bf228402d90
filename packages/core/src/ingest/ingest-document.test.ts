import { makePdf } from '@quire/testkit';
import { describe, expect, it } from 'vitest';
import { QuireError } from '../errors.js';
import { resolvePdfEngines } from '../loaders/pdf-engines.js';
import { CountingModels, MemoryVectorStore, TENANT } from '../retrieval/__tests__/fakes.js';
import {
  type IngestDocumentDeps,
  type IngestDocumentProgress,
  type IngestDocumentRequest,
  ingestDocument,
} from './ingest-document.js';

/** About 20 chunks of 32 tokens: several embedding batches of 4. */
const LONG_TEXT = Array.from(
  { length: 60 },
  (_, i) => `Paragraph ${i} says that the harbour ${i % 7} opens at ${i % 12} o'clock every day.`,
).join('\n\n');

function setup(overrides: Partial<IngestDocumentDeps> = {}) {
  const store = new MemoryVectorStore(64);
  const models = new CountingModels();
  const deps: IngestDocumentDeps = {
    store,
    models,
    embeddingModel: 'embed',
    dimension: 64,
    embedBatchSize: 4,
    embedConcurrency: 2,
    chunking: { chunkSize: 32, chunkOverlap: 0 },
    ...overrides,
  };
  return { store, models, deps };
}

function request(text: string, extra: Partial<IngestDocumentRequest> = {}): IngestDocumentRequest {
  return {
    tenant: TENANT,
    documentId: 'guide',
    source: { kind: 'text', text, name: 'guide.txt' },
    ...extra,
  };
}

describe('ingestDocument', () => {
  it('loads, chunks, embeds and stores a document, reporting each stage', async () => {
    const { store, models, deps } = setup();
    const progress: IngestDocumentProgress[] = [];
    const result = await ingestDocument(
      deps,
      request(LONG_TEXT, {
        sourceName: 'Harbour guide',
        metadata: { lang: 'en' },
        onProgress: (p) => {
          progress.push(p);
        },
      }),
    );

    expect(result).toMatchObject({
      tenant: TENANT,
      documentId: 'guide',
      outcome: 'ingested',
      sourceName: 'Harbour guide',
      kind: 'text',
    });
    expect(result.chunks).toBeGreaterThan(8);
    expect(result.chunksEmbedded).toBe(result.chunks);
    expect(result.tokens).toBeGreaterThan(0);
    expect(Object.keys(result.timingsMs)).toEqual(['load', 'chunk', 'embed_store', 'cleanup', 'total']);
    expect(models.calls.embeddings).toBe(Math.ceil(result.chunks / 4));

    const records = await store.listChunks(TENANT, { documentId: 'guide' });
    expect(records).toHaveLength(result.chunks);
    expect(new Set(records.map((r) => r.chunkIndex)).size).toBe(result.chunks);
    for (const record of records) {
      expect(record).toMatchObject({
        version: result.version,
        chunkCount: result.chunks,
        sourceName: 'Harbour guide',
        metadata: { lang: 'en' },
      });
    }

    const stages = progress.map((p) => p.stage);
    expect(stages[0]).toBe('loading');
    expect(stages[1]).toBe('chunking');
    expect(stages.slice(-2)).toEqual(['cleanup', 'done']);
    const embedding = progress.filter((p) => p.stage === 'embedding');
    expect(embedding).toHaveLength(Math.ceil(result.chunks / 4) + 1);
    expect(embedding.at(-1)).toMatchObject({
      chunksEmbedded: result.chunks,
      batchesDone: embedding.length - 1,
    });
  });

  it('skips a version that is already stored and replaces an older one', async () => {
    const { store, models, deps } = setup();
    const first = await ingestDocument(deps, request(LONG_TEXT));
    const calls = models.calls.embeddings;

    const again = await ingestDocument(deps, request(LONG_TEXT));
    expect(again).toMatchObject({ outcome: 'skipped', version: first.version, chunksEmbedded: 0 });
    expect(models.calls.embeddings).toBe(calls);

    const changed = await ingestDocument(deps, request(`${LONG_TEXT}\n\nOne more closing paragraph.`));
    expect(changed.outcome).toBe('ingested');
    expect(changed.version).not.toBe(first.version);
    const versions = new Set((await store.listChunks(TENANT)).map((r) => r.version));
    expect(versions).toEqual(new Set([changed.version]));
  });

  it('ingests an unchanged document again when forced, under the same version', async () => {
    const { store, models, deps } = setup();
    const first = await ingestDocument(deps, request(LONG_TEXT));
    const calls = models.calls.embeddings;
    const forced = await ingestDocument(deps, request(LONG_TEXT, { force: true }));
    expect(forced).toMatchObject({
      outcome: 'ingested',
      version: first.version,
      chunksEmbedded: first.chunks,
    });
    expect(models.calls.embeddings).toBeGreaterThan(calls);
    expect(await store.countChunks(TENANT, 'guide', first.version)).toBe(first.chunks);
  });

  it('puts the PDF engine and its version in the document version', async () => {
    const { deps } = setup();
    const pdf = await makePdf([LONG_TEXT.split('\n\n').slice(0, 20)]);
    const source = { kind: 'base64' as const, data: pdf.toString('base64'), name: 'guide.pdf' };
    const pdfjs = await resolvePdfEngines('pdfjs');
    const poppler = await resolvePdfEngines('poppler');
    const a = await ingestDocument({ ...deps, pdfEngines: pdfjs }, { ...request(''), source });
    const b = await ingestDocument({ ...deps, pdfEngines: poppler }, { ...request(''), source });
    const c = await ingestDocument(
      { ...deps, pdfEngines: { ...poppler, primary: { engine: 'poppler', version: 'poppler 99.0.0' } } },
      { ...request(''), source },
    );
    const again = await ingestDocument({ ...deps, pdfEngines: pdfjs }, { ...request(''), source });
    expect(new Set([a.version, b.version, c.version]).size).toBe(3);
    expect(again).toMatchObject({ version: a.version });
  });

  it('gives a new version when the chunking or the metadata changes', async () => {
    const { deps } = setup();
    const a = await ingestDocument(deps, request(LONG_TEXT));
    const b = await ingestDocument(deps, request(LONG_TEXT, { chunking: { chunkSize: 64 } }));
    const c = await ingestDocument(
      deps,
      request(LONG_TEXT, { chunking: { chunkSize: 64 }, metadata: { x: 1 } }),
    );
    expect(new Set([a.version, b.version, c.version]).size).toBe(3);
    expect(b.chunks).toBeLessThan(a.chunks);
  });

  it('resumes an interrupted run: embeds only the chunks that are missing', async () => {
    const { store, models, deps } = setup();
    const first = await ingestDocument(deps, request(LONG_TEXT));
    const removed = [...store.points.values()].filter((p) => p.chunkIndex % 3 === 0);
    for (const point of removed) store.points.delete(point.id);
    const calls = models.calls.embeddings;

    const resumed = await ingestDocument(deps, request(LONG_TEXT));
    expect(resumed).toMatchObject({ outcome: 'ingested', version: first.version });
    expect(resumed.chunksEmbedded).toBe(removed.length);
    expect(models.calls.embeddings - calls).toBe(Math.ceil(removed.length / 4));
    expect(await store.countChunks(TENANT, 'guide', first.version)).toBe(first.chunks);
  });

  it('fails with no_text when nothing is left to index', async () => {
    const { store, deps } = setup();
    const error = await ingestDocument(deps, request('   \n\n  ')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QuireError);
    expect(error).toMatchObject({ code: 'no_text', retryable: false });
    expect((error as Error).message).toContain('guide.txt');
    expect(store.points.size).toBe(0);
  });

  it('refuses a wrong-sized embeddings answer as retryable', async () => {
    const { store, deps } = setup({ dimension: 32, store: new MemoryVectorStore(32) });
    const error = await ingestDocument(deps, request(LONG_TEXT)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'invalid_input', retryable: true });
    expect((error as Error).message).toContain('expected dimension 32');
    expect(store.points.size).toBe(0);
  });

  it('refuses bad settings before reading the source', async () => {
    const { deps } = setup({ embedBatchSize: 0 });
    await expect(ingestDocument(deps, request(LONG_TEXT))).rejects.toThrow(
      /embedBatchSize must be a positive/,
    );
  });

  describe('when embedding fails part way', () => {
    const transient = Object.assign(new Error('upstream 503'), { retryable: true, status: 503 });

    function failOnThirdBatch(models: CountingModels) {
      let calls = 0;
      models.before.embeddings = () => {
        calls += 1;
        if (calls === 3) throw transient;
      };
    }

    it('keeps the stored chunks for the retry while more attempts follow', async () => {
      const { store, models, deps } = setup({ embedConcurrency: 1 });
      failOnThirdBatch(models);
      await expect(ingestDocument(deps, request(LONG_TEXT))).rejects.toBe(transient);
      expect(store.points.size).toBe(8);
    });

    it('removes the unfinished version when the failure is final', async () => {
      const { store, models, deps } = setup({ embedConcurrency: 1 });
      const previous = await ingestDocument(deps, request('An older text of the guide.'));
      failOnThirdBatch(models);
      const asked: unknown[] = [];
      await expect(
        ingestDocument(
          deps,
          request(LONG_TEXT, {
            isFinalFailure: (cause) => {
              asked.push(cause);
              return true;
            },
          }),
        ),
      ).rejects.toBe(transient);
      expect(asked).toEqual([transient]);
      // The older, complete version is untouched: the document is never missing.
      expect([...store.points.values()].map((p) => p.version)).toEqual([previous.version]);
    });

    it('removes nothing when the document is no longer the caller’s', async () => {
      const { store, models, deps } = setup({ embedConcurrency: 1 });
      failOnThirdBatch(models);
      let owner = true;
      const run = ingestDocument(
        deps,
        request(LONG_TEXT, {
          isFinalFailure: () => {
            owner = false;
            return true;
          },
          assertOwner: async () => {
            if (!owner) throw new QuireError('lease_lost', 'lost', { retryable: true });
          },
        }),
      );
      await expect(run).rejects.toBe(transient);
      expect(store.points.size).toBe(8);
    });

    it('stops the other batches at the first failure', async () => {
      const { store, models, deps } = setup({ embedConcurrency: 3 });
      models.fail.embeddings = transient;
      await expect(ingestDocument(deps, request(LONG_TEXT))).rejects.toBe(transient);
      expect(models.calls.embeddings).toBeLessThanOrEqual(3);
      expect(store.points.size).toBe(0);
    });
  });

  it('stops writing once the caller loses the document', async () => {
    const { store, deps } = setup({ embedConcurrency: 1 });
    let checks = 0;
    const lost = new QuireError('lease_lost', 'lost the lease on the document', { retryable: true });
    const error = await ingestDocument(
      deps,
      request(LONG_TEXT, {
        assertOwner: async () => {
          checks += 1;
          if (checks > 2) throw lost;
        },
      }),
    ).catch((e: unknown) => e);
    expect(error).toBe(lost);
    expect(store.points.size).toBe(8);
  });

  it('stops at an abort: before the first read, and between batches', async () => {
    const { store, models, deps } = setup({ embedConcurrency: 1 });
    const reason = new Error('shutting down');
    await expect(
      ingestDocument(deps, request(LONG_TEXT, { signal: AbortSignal.abort(reason) })),
    ).rejects.toBe(reason);

    const controller = new AbortController();
    models.before.embeddings = () => {
      if (models.calls.embeddings === 2) controller.abort(reason);
    };
    await expect(ingestDocument(deps, request(LONG_TEXT, { signal: controller.signal }))).rejects.toThrow();
    expect(models.calls.embeddings).toBe(2);
    expect(store.points.size).toBe(4);
  });
});
