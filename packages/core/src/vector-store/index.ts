export { pointId, QUIRE_POINT_NAMESPACE } from './ids.js';
export { lexicalTokenHash, lexicalTokens, type SparseVector, sparseVector } from './lexical.js';
export {
  QDRANT_CLIENT_VERSION,
  QdrantVectorStore,
  type QdrantVectorStoreOptions,
  qdrantCollectionName,
} from './qdrant.js';
export {
  type LexicalSearchMode,
  SqliteVectorStore,
  type SqliteVectorStoreOptions,
  sqliteCollectionName,
} from './sqlite.js';
export { guardStore, TenantGuard } from './tenant-guard.js';
export type * from './types.js';
