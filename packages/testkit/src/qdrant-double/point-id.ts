import { QdrantDoubleError } from './errors.js';
import type { RawPointId } from './schemas.js';

export type PointId = string | number;

const UUID_HYPHENATED = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const UUID_SIMPLE = /^[0-9a-f]{32}$/;

/**
 * Qdrant accepts an unsigned integer or a UUID in simple, hyphenated or URN form, and always
 * answers with the lower-case hyphenated form.
 */
export function normalisePointId(raw: RawPointId): PointId {
  if (typeof raw === 'number') return raw;
  let text = raw.toLowerCase();
  if (text.startsWith('urn:uuid:')) text = text.slice('urn:uuid:'.length);
  if (UUID_HYPHENATED.test(text)) return text;
  if (UUID_SIMPLE.test(text)) {
    return `${text.slice(0, 8)}-${text.slice(8, 12)}-${text.slice(12, 16)}-${text.slice(16, 20)}-${text.slice(20)}`;
  }
  throw new QdrantDoubleError(
    400,
    `Format error in JSON body: value ${raw} is not a valid point ID, valid values are either an unsigned integer or a UUID`,
  );
}

/** Qdrant orders integer ids before UUIDs; UUIDs by their bytes, i.e. by their hex text. */
export function comparePointIds(a: PointId, b: PointId): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
