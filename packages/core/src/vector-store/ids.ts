import { v5 as uuidv5 } from 'uuid';
import { QuireError } from '../errors.js';

/**
 * Namespace of every Quire point id. Fixed for ever: changing it would give every stored chunk a
 * new id, so a re-ingest would write duplicates instead of replacing points.
 */
export const QUIRE_POINT_NAMESPACE = 'f7f8db17-f729-49ca-a208-4f7d0e01bca9';

/**
 * The id of one chunk: a UUIDv5 in {@link QUIRE_POINT_NAMESPACE} over the JSON array
 * `[tenant, documentId, version, chunkIndex]`.
 *
 * JSON quotes and escapes each string, so no two different tuples share an encoding (a plain
 * separator would let `("a:b", "c")` and `("a", "b:c")` collide). A retried job therefore writes the
 * same ids again, and every store replaces instead of duplicating.
 */
export function pointId(tenant: string, documentId: string, version: string, chunkIndex: number): string {
  if (!Number.isSafeInteger(chunkIndex) || chunkIndex < 0) {
    throw new QuireError('invalid_input', `chunkIndex must be a non-negative integer, got ${chunkIndex}`);
  }
  return uuidv5(JSON.stringify([tenant, documentId, version, chunkIndex]), QUIRE_POINT_NAMESPACE);
}

/** Orders strings by Unicode code point, the order every store uses (not UTF-16 units, not locale). */
export function compareCodePoints(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.codePointAt(i)!;
    const cb = b.codePointAt(j)!;
    if (ca !== cb) return ca - cb;
    i += ca > 0xffff ? 2 : 1;
    j += cb > 0xffff ? 2 : 1;
  }
  return a.length - i - (b.length - j);
}
