/**
 * The point-by-point check: the store after a scenario against the store of a clean run of the same
 * final documents. Point ids derive from tenant, document, version and chunk index, so a clean run
 * is the exact list of points the chaotic run must hold — no more, no fewer, the same payloads.
 */
import { BuiltinModels } from '@quire/api-client';
import { type ChunkRecord, SqliteVectorStore, sqliteCollectionName } from '@quire/core';

export interface StoreLocation {
  /** SQLite file the workers wrote. */
  path: string;
  embeddingModel: string;
  dimension: number;
}

/** Opens the workers' store (SQLite in WAL mode is shared by processes) for reading. */
export async function openStore(location: StoreLocation): Promise<SqliteVectorStore> {
  const store = new SqliteVectorStore({
    path: location.path,
    dimension: location.dimension,
    collection: sqliteCollectionName(location.embeddingModel, location.dimension),
  });
  await store.init();
  return store;
}

/** Every chunk of `tenant` in the store. */
export async function readChunks(location: StoreLocation, tenant: string): Promise<ChunkRecord[]> {
  const store = await openStore(location);
  try {
    return await store.listChunks(tenant);
  } finally {
    await store.close();
  }
}

/** Payload fields that must be equal point by point (`ingestedAt` differs between runs by design). */
const COMPARED_FIELDS = [
  'tenant',
  'documentId',
  'version',
  'chunkIndex',
  'chunkCount',
  'text',
  'pageStart',
  'pageEnd',
  'headingPath',
  'sourceName',
  'metadata',
] as const satisfies readonly (keyof ChunkRecord)[];

export interface StoreDiff {
  expectedChunks: number;
  actualChunks: number;
  /** Points present in both with equal payloads. */
  matched: number;
  /** Points of the clean run absent here. */
  missing: ChunkRecord[];
  /** Points here that the clean run does not have. */
  extra: ChunkRecord[];
  /** Of `extra`: points of a version other than the one the clean run stored for the document. */
  stale: ChunkRecord[];
  /** Points with the same id but some other payload field. */
  different: { id: string; fields: string[] }[];
  /** Chunk positions (document, chunk index) held more than once. */
  duplicates: number;
  /** Documents of the clean run with no chunk at all here. */
  lostDocuments: string[];
  /** Documents of the clean run with some but not all of their chunks here. */
  incompleteDocuments: string[];
  /** Nothing missing, extra, different or duplicated. */
  exact: boolean;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function compareChunks(expected: readonly ChunkRecord[], actual: readonly ChunkRecord[]): StoreDiff {
  const byId = new Map(actual.map((c) => [c.id, c]));
  const expectedIds = new Set(expected.map((c) => c.id));
  const expectedVersion = new Map(expected.map((c) => [c.documentId, c.version]));
  const missing: ChunkRecord[] = [];
  const different: { id: string; fields: string[] }[] = [];
  let matched = 0;
  for (const want of expected) {
    const got = byId.get(want.id);
    if (!got) {
      missing.push(want);
      continue;
    }
    const fields = COMPARED_FIELDS.filter((field) => !sameValue(want[field], got[field]));
    if (fields.length > 0) different.push({ id: want.id, fields });
    else matched += 1;
  }
  const extra = actual.filter((c) => !expectedIds.has(c.id));
  const stale = extra.filter(
    (c) => expectedVersion.has(c.documentId) && expectedVersion.get(c.documentId) !== c.version,
  );

  const positions = new Map<string, number>();
  for (const c of actual) {
    const key = JSON.stringify([c.documentId, c.chunkIndex]);
    positions.set(key, (positions.get(key) ?? 0) + 1);
  }
  let duplicates = 0;
  for (const n of positions.values()) if (n > 1) duplicates += n - 1;

  const presentDocs = new Map<string, number>();
  for (const c of actual) {
    if (expectedVersion.get(c.documentId) === c.version)
      presentDocs.set(c.documentId, (presentDocs.get(c.documentId) ?? 0) + 1);
  }
  const expectedCounts = new Map<string, number>();
  for (const c of expected) expectedCounts.set(c.documentId, (expectedCounts.get(c.documentId) ?? 0) + 1);
  const lostDocuments: string[] = [];
  const incompleteDocuments: string[] = [];
  for (const [doc, count] of expectedCounts) {
    const present = presentDocs.get(doc) ?? 0;
    if (present === 0) lostDocuments.push(doc);
    else if (present < count) incompleteDocuments.push(doc);
  }

  return {
    expectedChunks: expected.length,
    actualChunks: actual.length,
    matched,
    missing,
    extra,
    stale,
    different,
    duplicates,
    lostDocuments,
    incompleteDocuments,
    exact: missing.length === 0 && extra.length === 0 && different.length === 0 && duplicates === 0,
  };
}

/** A one-line account of a diff, for assertion messages and logs. */
export function describeDiff(diff: StoreDiff): string {
  if (diff.exact) return `exact: ${diff.matched} points`;
  const sample = (list: readonly { id: string }[]) =>
    list
      .slice(0, 3)
      .map((c) => c.id)
      .join(', ');
  return [
    `${diff.matched}/${diff.expectedChunks} points match (${diff.actualChunks} stored)`,
    `missing ${diff.missing.length} [${sample(diff.missing)}]`,
    `extra ${diff.extra.length} (stale ${diff.stale.length}) [${sample(diff.extra)}]`,
    `different ${diff.different.length} [${diff.different
      .slice(0, 3)
      .map((d) => `${d.id}: ${d.fields.join('/')}`)
      .join(', ')}]`,
    `duplicates ${diff.duplicates}`,
    `lost documents ${diff.lostDocuments.length} [${diff.lostDocuments.slice(0, 5).join(', ')}]`,
    `incomplete documents ${diff.incompleteDocuments.length} [${diff.incompleteDocuments.slice(0, 5).join(', ')}]`,
  ].join('; ');
}

export interface VectorCheck {
  checked: number;
  /** Chunks whose own embedding did not find them first in their document (a vector stored under the wrong id). */
  mismatched: string[];
}

/**
 * Spot-checks that each sampled point carries its own vector: the chunk's text embedded again (the
 * testkit server answers with the built-in hashed model, deterministic) must find that very point
 * first within its document.
 */
export async function checkVectors(
  location: StoreLocation,
  tenant: string,
  sample: readonly ChunkRecord[],
): Promise<VectorCheck> {
  const models = new BuiltinModels({ dimension: location.dimension });
  const store = await openStore(location);
  const mismatched: string[] = [];
  try {
    for (const chunk of sample) {
      const { vectors } = await models.embeddings({ model: location.embeddingModel, input: [chunk.text] });
      const hits = await store.searchDense(tenant, vectors[0]!, {
        limit: 1,
        filter: { documentIds: [chunk.documentId] },
      });
      const top = hits[0];
      if (top?.record.id !== chunk.id || top.score < 0.999) mismatched.push(chunk.id);
    }
  } finally {
    await store.close();
  }
  return { checked: sample.length, mismatched };
}
