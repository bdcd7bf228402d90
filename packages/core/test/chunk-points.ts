import { pointId } from '../src/vector-store/ids.js';
import type { ChunkPoint, Metadata } from '../src/vector-store/types.js';

/**
 * `count` chunks of one document (version v1) for the stores' tests: chunk `i` has the text
 * `text of <documentId> number <i>`, the vector `vector(i)` and the metadata `metadata(i)`.
 */
export function chunkPoints(
  tenant: string,
  documentId: string,
  count: number,
  vector: (i: number) => number[],
  metadata: (i: number) => Metadata = () => ({}),
): ChunkPoint[] {
  return Array.from({ length: count }, (_, i) => ({
    id: pointId(tenant, documentId, 'v1', i),
    tenant,
    documentId,
    version: 'v1',
    chunkIndex: i,
    chunkCount: count,
    text: `text of ${documentId} number ${i}`,
    pageStart: null,
    pageEnd: null,
    headingPath: [],
    sourceName: `${documentId}.txt`,
    metadata: metadata(i),
    ingestedAt: '2024-01-01T00:00:00.000Z',
    vector: vector(i),
  }));
}
