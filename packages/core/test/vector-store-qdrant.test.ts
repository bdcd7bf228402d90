/**
 * The shared VectorStore contract on QdrantVectorStore: always against the Qdrant test double, and
 * against a real Qdrant when QDRANT_URL is set (QDRANT_API_KEY optional). Each test gets its own
 * collection, dropped afterwards.
 */
import { randomUUID } from 'node:crypto';
import { type QdrantDouble, startQdrantDouble } from '@quire/testkit';
import { afterAll, beforeAll, describe } from 'vitest';
import { QdrantVectorStore } from '../src/vector-store/qdrant.js';
import { describeVectorStoreContract } from './vector-store-contract.js';

const DIMENSION = 8;

async function dropCollection(url: string, collection: string, apiKey: string | undefined): Promise<void> {
  const response = await fetch(`${url}/collections/${encodeURIComponent(collection)}`, {
    method: 'DELETE',
    headers: apiKey === undefined ? {} : { 'api-key': apiKey },
  });
  if (!response.ok) throw new Error(`dropping ${collection} failed with ${response.status}`);
}

function contractFactory(target: () => { url: string; apiKey?: string }) {
  return async () => {
    const { url, apiKey } = target();
    const collection = `quire_contract_${randomUUID().slice(0, 8)}`;
    const store = new QdrantVectorStore({
      url,
      ...(apiKey === undefined ? {} : { apiKey }),
      collection,
      dimension: DIMENSION,
      timeoutMs: 10_000,
      checkCompatibility: false,
      // Small batches and pages, so that the suite's larger cases run through batching and paging.
      upsertBatchSize: 64,
      scrollPageSize: 50,
    });
    return {
      store,
      cleanup: async () => {
        await store.close();
        await dropCollection(url, collection, apiKey);
      },
    };
  };
}

describe('QdrantVectorStore on the Qdrant test double', () => {
  let double: QdrantDouble;
  beforeAll(async () => {
    double = await startQdrantDouble();
  });
  afterAll(async () => {
    await double.close();
  });
  describeVectorStoreContract(
    'Qdrant (test double)',
    contractFactory(() => ({ url: double.url })),
    { dimension: DIMENSION },
  );
});

const realUrl = process.env.QDRANT_URL;
const realKey = process.env.QDRANT_API_KEY;

describe.skipIf(realUrl === undefined || realUrl === '')(
  'QdrantVectorStore on a real Qdrant (runs only when QDRANT_URL is set)',
  () => {
    describeVectorStoreContract(
      'Qdrant (real server at QDRANT_URL)',
      contractFactory(() => ({ url: realUrl!, ...(realKey ? { apiKey: realKey } : {}) })),
      { dimension: DIMENSION },
    );
  },
);
