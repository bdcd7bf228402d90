/**
 * Builds the services a configuration asks for: the model API (built-in or HTTP) and the vector
 * store (embedded SQLite or Qdrant). The only place where configuration picks implementations.
 */
import { BuiltinModels, type Logger, type ModelApi, ModelClient } from '@quire/api-client';
import type { QuireConfig } from './config.js';
import { QdrantVectorStore, qdrantCollectionName } from './vector-store/qdrant.js';
import { SqliteVectorStore, sqliteCollectionName } from './vector-store/sqlite.js';
import { guardStore } from './vector-store/tenant-guard.js';
import type { VectorStore, VectorStoreAdapter, VectorStoreReader } from './vector-store/types.js';

export function createModels(
  config: QuireConfig,
  options: { logger?: Logger; maxRetries?: number } = {},
): ModelApi {
  const m = config.models;
  if (m.kind === 'builtin') return new BuiltinModels({ dimension: m.dimension });
  return new ModelClient({
    baseURL: m.baseURL!,
    ...(m.apiKey ? { apiKey: m.apiKey } : {}),
    timeout: m.timeoutMs,
    maxRetries: options.maxRetries ?? m.maxRetries,
    maxRerankDocuments: m.rerankMaxDocuments,
    maxEmbeddingInputs: m.embedBatchSize,
    expectedDimension: m.dimension,
    embeddingEncoding: m.embeddingEncoding,
    ...(options.logger ? { logger: options.logger } : {}),
  });
}

export interface CreateStoreOptions {
  /**
   * For processes that only read (the gateway, the CLI): nothing is created, a store not created yet
   * reads as empty, writes are refused. The workers open it writable and create it.
   */
  readOnly?: boolean;
}

export function createStore(
  config: QuireConfig,
  options: CreateStoreOptions & { readOnly: true },
): VectorStoreReader;
export function createStore(config: QuireConfig, options?: CreateStoreOptions): VectorStore;
export function createStore(config: QuireConfig, options: CreateStoreOptions = {}): VectorStore {
  return guardStore(createAdapter(config, options.readOnly === true));
}

/** The backend adapter the configuration names, unguarded: `createStore` wraps it. */
function createAdapter(config: QuireConfig, readOnlyStore: boolean): VectorStoreAdapter {
  const { embeddingModel: model, dimension } = config.models;
  const readOnly = readOnlyStore ? { readOnly: true } : {};
  if (config.store.kind === 'qdrant') {
    return new QdrantVectorStore({
      ...readOnly,
      url: config.store.url,
      ...(config.store.apiKey ? { apiKey: config.store.apiKey } : {}),
      collection: qdrantCollectionName(model, dimension),
      dimension: config.models.dimension,
      timeoutMs: config.store.timeoutMs,
    });
  }
  return new SqliteVectorStore({
    ...readOnly,
    path: config.store.path,
    dimension,
    collection: sqliteCollectionName(model, dimension),
    denseCacheBytes: config.store.denseCacheBytes,
  });
}
