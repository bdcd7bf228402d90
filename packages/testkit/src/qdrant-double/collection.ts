/**
 * One in-memory collection with Qdrant's observable semantics for the operations the double
 * serves: named dense and sparse vectors, Cosine vectors normalised at insert, upsert replacing a
 * point by id, exact (brute-force) scoring, IDF-modified sparse queries, and id-ordered scroll.
 */
import { QdrantDoubleError } from './errors.js';
import { collectKeyPaths, matchesFilter, parseKeyPath, valuesAt } from './filter.js';
import { comparePointIds, normalisePointId, type PointId } from './point-id.js';
import type { Distance, Filter, RawPointId, SparseVectorInput, WithPayload } from './schemas.js';

export interface DenseVectorConfig {
  size: number;
  distance: Distance;
}

export interface SparseVectorConfig {
  modifier: 'none' | 'idf';
}

export interface PayloadIndex {
  dataType: string;
  params: Record<string, unknown> | undefined;
}

type StoredVector = number[] | SparseVectorInput;

interface StoredPoint {
  id: PointId;
  version: number;
  vectors: Map<string, StoredVector>;
  payload: Record<string, unknown>;
}

export interface ScoredPointOut {
  id: PointId;
  version: number;
  score: number;
  payload?: Record<string, unknown>;
  vector?: Record<string, unknown> | number[];
}

export interface RecordOut {
  id: PointId;
  payload?: Record<string, unknown>;
  vector?: Record<string, unknown> | number[];
}

function isSparse(vector: StoredVector): vector is SparseVectorInput {
  return !Array.isArray(vector);
}

function normalise(vector: number[]): number[] {
  let sum = 0;
  for (const value of vector) sum += value * value;
  const norm = Math.sqrt(sum);
  // A zero vector cannot be normalised: it is kept as it is, so its cosine with anything is 0.
  return norm === 0 ? [...vector] : vector.map((value) => value / norm);
}

function dot(a: readonly number[], b: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

/** Qdrant's IDF: ln(1 + (N − n + 0.5) / (n + 0.5)), N points with the vector, n of them using the index. */
export function qdrantIdf(pointCount: number, documentFrequency: number): number {
  return Math.log((pointCount - documentFrequency + 0.5) / (documentFrequency + 0.5) + 1);
}

function validateSparse(name: string, vector: SparseVectorInput): void {
  if (vector.indices.length !== vector.values.length) {
    throw new QdrantDoubleError(
      400,
      `Validation error in JSON body: [${name}: indices and values must have the same length (${vector.indices.length} != ${vector.values.length})]`,
    );
  }
  if (new Set(vector.indices).size !== vector.indices.length) {
    throw new QdrantDoubleError(400, `Validation error in JSON body: [${name}.indices: must be unique]`);
  }
}

function selectPayload(
  payload: Record<string, unknown>,
  selector: WithPayload | null | undefined,
  defaultOn: boolean,
): Record<string, unknown> | undefined {
  const selection = selector ?? defaultOn;
  if (selection === false) return undefined;
  if (selection === true) return structuredClone(payload);
  const include = Array.isArray(selection)
    ? selection
    : 'include' in selection
      ? selection.include
      : undefined;
  if (include) {
    const out: Record<string, unknown> = {};
    for (const key of include) {
      if (key in payload) out[key] = structuredClone(payload[key]);
    }
    return out;
  }
  const out = structuredClone(payload);
  if ('exclude' in selection) {
    for (const key of selection.exclude) delete out[key];
  }
  return out;
}

export class DoubleCollection {
  readonly name: string;
  /** Dense vectors by name; the empty name is Qdrant's single unnamed vector. */
  readonly dense: ReadonlyMap<string, DenseVectorConfig>;
  readonly sparse: ReadonlyMap<string, SparseVectorConfig>;
  /** Whether the collection was created with the unnamed-vector form (`vectors: {size, distance}`). */
  readonly unnamed: boolean;
  readonly payloadIndexes = new Map<string, PayloadIndex>();
  private readonly points = new Map<PointId, StoredPoint>();
  private operationId = 0;

  constructor(
    name: string,
    dense: Map<string, DenseVectorConfig>,
    sparse: Map<string, SparseVectorConfig>,
    unnamed: boolean,
  ) {
    this.name = name;
    this.dense = dense;
    this.sparse = sparse;
    this.unnamed = unnamed;
  }

  get pointCount(): number {
    return this.points.size;
  }

  nextOperation(): number {
    this.operationId += 1;
    return this.operationId;
  }

  /** Number of points whose payload has a value at the index's key (what Qdrant reports as `points`). */
  indexedPoints(field: string): number {
    const path = parseKeyPath(field);
    if (!path) return 0;
    let count = 0;
    for (const point of this.points.values()) {
      if (valuesAt(point.payload, path).length > 0) count += 1;
    }
    return count;
  }

  upsert(
    operation: number,
    points: {
      id: RawPointId;
      vector: number[] | Record<string, number[] | SparseVectorInput>;
      payload?: Record<string, unknown> | null | undefined;
    }[],
  ): void {
    // Validate the whole batch first: Qdrant rejects a batch with one bad point without applying any.
    const prepared: StoredPoint[] = points.map((point) => {
      const id = normalisePointId(point.id);
      const vectors = new Map<string, StoredVector>();
      const entries: [string, number[] | SparseVectorInput][] = Array.isArray(point.vector)
        ? [['', point.vector]]
        : Object.entries(point.vector);
      for (const [name, vector] of entries) {
        vectors.set(name, this.prepareVector(name, vector));
      }
      return { id, version: operation, vectors, payload: structuredClone(point.payload ?? {}) };
    });
    for (const point of prepared) this.points.set(point.id, point);
  }

  private prepareVector(name: string, vector: number[] | SparseVectorInput): StoredVector {
    const dense = this.dense.get(name);
    if (dense) {
      if (!Array.isArray(vector)) {
        throw new QdrantDoubleError(400, `Wrong input: Conversion between sparse and regular vectors failed`);
      }
      if (vector.length !== dense.size) {
        throw new QdrantDoubleError(
          400,
          `Wrong input: Vector dimension error: expected dim: ${dense.size}, got ${vector.length}`,
        );
      }
      return dense.distance === 'Cosine' ? normalise(vector) : [...vector];
    }
    if (this.sparse.has(name)) {
      if (Array.isArray(vector)) {
        throw new QdrantDoubleError(400, `Wrong input: Conversion between sparse and regular vectors failed`);
      }
      validateSparse(name, vector);
      return { indices: [...vector.indices], values: [...vector.values] };
    }
    throw new QdrantDoubleError(400, `Wrong input: Not existing vector name error: ${name}`);
  }

  private filtered(filter: Filter | null | undefined): StoredPoint[] {
    const keyPaths = new Map<string, string[]>();
    const badKey = collectKeyPaths(filter, keyPaths);
    if (badKey !== undefined) {
      throw new QdrantDoubleError(
        400,
        `Format error in JSON body: Invalid payload key: ${JSON.stringify(badKey)}`,
      );
    }
    const out: StoredPoint[] = [];
    for (const point of this.points.values()) {
      if (matchesFilter(filter, point.payload, point.id, keyPaths)) out.push(point);
    }
    return out;
  }

  private vectorsOut(point: StoredPoint): Record<string, unknown> | number[] {
    if (this.unnamed && point.vectors.size === 1 && point.vectors.has('')) {
      return structuredClone(point.vectors.get('') as number[]);
    }
    return Object.fromEntries([...point.vectors].map(([name, vector]) => [name, structuredClone(vector)]));
  }

  query(request: {
    query: number[] | SparseVectorInput;
    using: string;
    filter: Filter | null | undefined;
    limit: number;
    offset: number;
    scoreThreshold: number | null | undefined;
    withPayload: WithPayload | null | undefined;
    withVector: boolean;
  }): ScoredPointOut[] {
    const candidates = this.filtered(request.filter);
    const scored: { point: StoredPoint; score: number }[] = [];
    const dense = this.dense.get(request.using);
    const sparse = this.sparse.get(request.using);
    if (dense) {
      if (!Array.isArray(request.query)) {
        throw new QdrantDoubleError(400, `Wrong input: Conversion between sparse and regular vectors failed`);
      }
      if (request.query.length !== dense.size) {
        throw new QdrantDoubleError(
          400,
          `Wrong input: Vector dimension error: expected dim: ${dense.size}, got ${request.query.length}`,
        );
      }
      if (dense.distance !== 'Cosine' && dense.distance !== 'Dot') {
        throw new QdrantDoubleError(400, `Wrong input: the double scores only Cosine and Dot distances`);
      }
      const query = dense.distance === 'Cosine' ? normalise(request.query) : request.query;
      for (const point of candidates) {
        const stored = point.vectors.get(request.using);
        if (stored && !isSparse(stored)) scored.push({ point, score: dot(stored, query) });
      }
    } else if (sparse) {
      if (Array.isArray(request.query)) {
        throw new QdrantDoubleError(400, `Wrong input: Conversion between sparse and regular vectors failed`);
      }
      validateSparse('query', request.query);
      const weights = this.sparseQueryWeights(request.using, sparse, request.query);
      for (const point of candidates) {
        const stored = point.vectors.get(request.using);
        if (!stored || !isSparse(stored)) continue;
        let score = 0;
        let overlap = false;
        for (let i = 0; i < stored.indices.length; i++) {
          const weight = weights.get(stored.indices[i]!);
          if (weight !== undefined) {
            overlap = true;
            score += weight * stored.values[i]!;
          }
        }
        // The sparse index only reaches points sharing at least one dimension with the query.
        if (overlap) scored.push({ point, score });
      }
    } else {
      throw new QdrantDoubleError(400, `Wrong input: Not existing vector name error: ${request.using}`);
    }
    const threshold = request.scoreThreshold;
    // Both supported distances are similarities, so the threshold is a minimum.
    const kept =
      threshold === undefined || threshold === null
        ? scored
        : scored.filter((entry) => entry.score >= threshold);
    kept.sort((a, b) => b.score - a.score || comparePointIds(a.point.id, b.point.id));
    return kept.slice(request.offset, request.offset + request.limit).map(({ point, score }) => {
      const out: ScoredPointOut = { id: point.id, version: point.version, score };
      const payload = selectPayload(point.payload, request.withPayload, false);
      if (payload !== undefined) out.payload = payload;
      if (request.withVector) out.vector = this.vectorsOut(point);
      return out;
    });
  }

  private sparseQueryWeights(
    name: string,
    config: SparseVectorConfig,
    query: SparseVectorInput,
  ): Map<number, number> {
    const weights = new Map<number, number>();
    if (config.modifier !== 'idf') {
      query.indices.forEach((index, i) => {
        weights.set(index, query.values[i]!);
      });
      return weights;
    }
    // IDF statistics span the whole collection (every tenant), as in Qdrant: N counts the points
    // that have this sparse vector, n those with a non-zero value at the index.
    let pointCount = 0;
    const documentFrequency = new Map<number, number>(query.indices.map((index) => [index, 0]));
    for (const point of this.points.values()) {
      const stored = point.vectors.get(name);
      if (!stored || !isSparse(stored)) continue;
      pointCount += 1;
      stored.indices.forEach((index, i) => {
        const seen = documentFrequency.get(index);
        if (seen !== undefined && stored.values[i] !== 0) documentFrequency.set(index, seen + 1);
      });
    }
    query.indices.forEach((index, i) => {
      weights.set(index, query.values[i]! * qdrantIdf(pointCount, documentFrequency.get(index) ?? 0));
    });
    return weights;
  }

  count(filter: Filter | null | undefined): number {
    return this.filtered(filter).length;
  }

  scroll(request: {
    offset: RawPointId | null | undefined;
    limit: number;
    filter: Filter | null | undefined;
    withPayload: WithPayload | null | undefined;
    withVector: boolean;
  }): { points: RecordOut[]; next_page_offset: PointId | null } {
    if (request.limit === 0) throw new QdrantDoubleError(400, 'Bad request: Limit cannot be 0');
    const offset =
      request.offset === undefined || request.offset === null ? undefined : normalisePointId(request.offset);
    const page = this.filtered(request.filter)
      .filter((point) => offset === undefined || comparePointIds(point.id, offset) >= 0)
      .sort((a, b) => comparePointIds(a.id, b.id))
      .slice(0, request.limit + 1);
    // One extra point is read: when present it is the first of the next page, and its id the offset.
    const next = page.length > request.limit ? page.pop()!.id : null;
    return {
      points: page.map((point) => {
        const out: RecordOut = { id: point.id };
        const payload = selectPayload(point.payload, request.withPayload, true);
        if (payload !== undefined) out.payload = payload;
        if (request.withVector) out.vector = this.vectorsOut(point);
        return out;
      }),
      next_page_offset: next,
    };
  }

  deleteByIds(ids: RawPointId[]): void {
    const normalised = ids.map(normalisePointId);
    for (const id of normalised) this.points.delete(id);
  }

  deleteByFilter(filter: Filter): void {
    for (const point of this.filtered(filter)) this.points.delete(point.id);
  }
}
