export { qdrantIdf } from './collection.js';
export {
  type QdrantDouble,
  type QdrantDoubleFault,
  type QdrantDoubleFaultAction,
  type QdrantDoubleOptions,
  type QdrantDoubleRequest,
  type QdrantDoubleStats,
  startQdrantDouble,
} from './server.js';
