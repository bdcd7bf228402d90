/**
 * Checks shared by every store adapter, applied by the tenant guard (`tenant-guard.ts`) in front of
 * each, so that all reject the same requests with the same `StoreError` (code `store_rejected`, not
 * retryable) before the backend is touched.
 */
import { StoreError } from '../errors.js';
import { pointId } from './ids.js';
import type { ChunkPoint, ListDocumentsOptions, SearchFilter } from './types.js';

function rejected(message: string, details?: Record<string, unknown>): StoreError {
  return new StoreError('store_rejected', message, { retryable: false, details });
}

/** A tenant is a non-empty string: there is no search across tenants. */
export function assertTenant(tenant: string): void {
  if (typeof tenant !== 'string' || tenant.length === 0) {
    throw rejected('tenant must be a non-empty string');
  }
}

/** `what` names the vector in the message: "query vector", "vector of point <id>". */
export function assertVector(vector: readonly number[], dimension: number, what: string): void {
  if (!Array.isArray(vector) || vector.length !== dimension) {
    const length = Array.isArray(vector) ? vector.length : typeof vector;
    throw rejected(`${what} has dimension ${length}, the store expects ${dimension}`, {
      expected: dimension,
      actual: length,
    });
  }
  let norm = 0;
  for (const value of vector) {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw rejected(`${what} holds a value that is not a finite number`);
    }
    norm += value * value;
  }
  // Cosine similarity is undefined for a zero vector; stores would answer NaN or an arbitrary score.
  if (norm === 0) throw rejected(`${what} is all zeros: cosine similarity is undefined`);
}

/** A limit is a positive integer, at most `max` (a store's own cap). */
export function assertLimit(limit: number, max: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > max) {
    throw rejected(`limit must be an integer from 1 to ${max}, got ${limit}`);
  }
}

/** `limit`, when given, is a positive integer; `documentId` and `after` are strings. */
export function assertListDocuments(options: ListDocumentsOptions): void {
  const { limit, after, documentId } = options;
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1)) {
    throw rejected(`limit must be a positive integer, got ${limit}`);
  }
  if (after !== undefined && typeof after !== 'string') throw rejected('after must be a document id');
  if (documentId !== undefined && typeof documentId !== 'string')
    throw rejected('documentId must be a string');
}

/** Metadata keys and values of a filter are of the same kinds as stored metadata. */
export function assertFilter(filter: SearchFilter | undefined): void {
  if (filter === undefined) return;
  for (const [name, list] of [
    ['documentIds', filter.documentIds],
    ['sourceNames', filter.sourceNames],
  ] as const) {
    if (list !== undefined && (!Array.isArray(list) || list.some((item) => typeof item !== 'string'))) {
      throw rejected(`filter.${name} must be an array of strings`);
    }
  }
  if (filter.metadata !== undefined) assertMetadata(filter.metadata, 'filter.metadata');
}

function assertMetadata(metadata: unknown, where: string): void {
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw rejected(`${where} must be an object`);
  }
  for (const [key, value] of Object.entries(metadata)) {
    const ok =
      typeof value === 'string' ||
      typeof value === 'boolean' ||
      (typeof value === 'number' && Number.isFinite(value));
    if (!ok) {
      throw rejected(`${where}.${key} must be a string, a finite number or a boolean`);
    }
  }
}

function isPage(value: unknown): boolean {
  return value === null || (Number.isSafeInteger(value) && (value as number) >= 1);
}

/**
 * Validates a whole upsert batch before anything is written: every point belongs to `tenant`, carries
 * the id `pointId` derives from it (which also keeps one tenant from overwriting another's point),
 * a finite non-zero vector of the store's dimension, and a well-formed payload.
 */
export function assertPoints(tenant: string, points: readonly ChunkPoint[], dimension: number): void {
  assertTenant(tenant);
  if (!Array.isArray(points)) throw rejected('points must be an array');
  for (const point of points) {
    const label = `point ${JSON.stringify(point.id)}`;
    if (point.tenant !== tenant) {
      throw rejected(`${label} belongs to another tenant than the one written to`);
    }
    if (
      typeof point.documentId !== 'string' ||
      point.documentId.length === 0 ||
      typeof point.version !== 'string' ||
      point.version.length === 0
    ) {
      throw rejected(`${label} needs a non-empty documentId and version`);
    }
    if (!Number.isSafeInteger(point.chunkIndex) || point.chunkIndex < 0) {
      throw rejected(`${label} has chunkIndex ${point.chunkIndex}, expected a non-negative integer`);
    }
    if (point.id !== pointId(tenant, point.documentId, point.version, point.chunkIndex)) {
      throw rejected(`${label} is not pointId(tenant, documentId, version, chunkIndex)`);
    }
    if (!Number.isSafeInteger(point.chunkCount) || point.chunkCount <= point.chunkIndex) {
      throw rejected(`${label} has chunkCount ${point.chunkCount}, expected an integer above its chunkIndex`);
    }
    if (typeof point.text !== 'string' || typeof point.sourceName !== 'string') {
      throw rejected(`${label} needs a string text and sourceName`);
    }
    if (!isPage(point.pageStart) || !isPage(point.pageEnd)) {
      throw rejected(`${label} has pages that are neither null nor positive integers`);
    }
    if (!Array.isArray(point.headingPath) || point.headingPath.some((h: unknown) => typeof h !== 'string')) {
      throw rejected(`${label} has a headingPath that is not an array of strings`);
    }
    if (typeof point.ingestedAt !== 'string' || Number.isNaN(Date.parse(point.ingestedAt))) {
      throw rejected(`${label} has an ingestedAt that is not an ISO-8601 time`);
    }
    assertMetadata(point.metadata, `${label} metadata`);
    assertVector(point.vector, dimension, `vector of ${label}`);
  }
}
