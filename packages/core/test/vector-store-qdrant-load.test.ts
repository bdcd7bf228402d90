/**
 * The Qdrant client library is loaded when a Qdrant store is first made. An installation where it
 * cannot load fails each call with the store's own non-retryable error, not as an unreachable
 * Qdrant that workers would retry.
 */
import { expect, it, vi } from 'vitest';
import { StoreError } from '../src/errors.js';
import { QdrantVectorStore } from '../src/vector-store/qdrant.js';

vi.mock('@qdrant/js-client-rest', () => {
  throw new Error('Cannot find module @qdrant/js-client-rest');
});

it('fails each call with store_rejected when the client library cannot load', async () => {
  const store = new QdrantVectorStore({
    url: 'http://127.0.0.1:9',
    collection: 'quire_load',
    dimension: 4,
    checkCompatibility: false,
  });
  for (const call of [() => store.init(), () => store.countChunks('t', 'd', 'v1')]) {
    const error = await call().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ code: 'store_rejected', retryable: false });
    expect((error as Error).message).toContain('could not make the Qdrant client');
  }
  await store.close();
});
