/**
 * A second process for the SQLite store's multi-process test: writes documents into a shared file,
 * searching between writes, then prints `done <chunks>`.
 * Usage: tsx vector-store-sqlite-writer.ts <path> <tenant> <documentPrefix> <documents> <chunksPerDocument>
 */
import { pointId } from '../src/vector-store/ids.js';
import { SqliteVectorStore } from '../src/vector-store/sqlite.js';
import type { ChunkPoint } from '../src/vector-store/types.js';

const [path, tenant, prefix, documentsArg, chunksArg] = process.argv.slice(2);
if (path === undefined || tenant === undefined || prefix === undefined) {
  throw new Error('usage: <path> <tenant> <documentPrefix> <documents> <chunksPerDocument>');
}
const documents = Number(documentsArg);
const chunks = Number(chunksArg);

const store = new SqliteVectorStore({ path, dimension: 8, busyTimeoutMs: 20_000 });
await store.init();
let written = 0;
for (let d = 0; d < documents; d++) {
  const documentId = `${prefix}-${d}`;
  const points: ChunkPoint[] = Array.from({ length: chunks }, (_, i) => ({
    id: pointId(tenant, documentId, 'v1', i),
    tenant,
    documentId,
    version: 'v1',
    chunkIndex: i,
    chunkCount: chunks,
    text: `written by ${prefix} document ${d} chunk ${i}`,
    pageStart: null,
    pageEnd: null,
    headingPath: [],
    sourceName: `${documentId}.txt`,
    metadata: { writer: prefix },
    ingestedAt: new Date(0).toISOString(),
    vector: [1, d, i, 0, 0, 0, 0, 1],
  }));
  await store.upsert(tenant, points);
  written += points.length;
  await store.searchDense(tenant, [1, 0, 0, 0, 0, 0, 0, 1], { limit: 5 });
  await store.searchLexical(tenant, prefix, { limit: 5 });
}
await store.close();
console.log(`done ${written}`);
