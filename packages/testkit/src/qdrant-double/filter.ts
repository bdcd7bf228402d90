import { normalisePointId, type PointId } from './point-id.js';
import type { Condition, Filter } from './schemas.js';

/**
 * Qdrant's payload key syntax: dot-separated keys, each either "raw" (Unicode letters, digits,
 * `_`, `-`) or double-quoted (no `"` or `\` inside, no escapes). `[]` and `[n]` array projections
 * are not supported by the double; a key using them is refused so that a caller relying on them
 * notices.
 */
export function parseKeyPath(key: string): string[] | undefined {
  const parts: string[] = [];
  let rest = key;
  let first = true;
  while (first || rest.length > 0) {
    if (!first) {
      if (!rest.startsWith('.')) return undefined;
      rest = rest.slice(1);
    }
    first = false;
    if (rest.startsWith('"')) {
      const end = rest.indexOf('"', 1);
      if (end < 0) return undefined;
      const quoted = rest.slice(1, end);
      if (quoted.includes('\\')) return undefined;
      parts.push(quoted);
      rest = rest.slice(end + 1);
    } else {
      const raw = /^[\p{L}\p{N}_-]+/u.exec(rest);
      if (!raw) return undefined;
      parts.push(raw[0]);
      rest = rest.slice(raw[0].length);
    }
  }
  return parts;
}

/**
 * The values found at a key path. An array at the end of the path contributes each of its
 * elements, so that a condition matches when any element matches (Qdrant's rule for arrays).
 */
export function valuesAt(payload: Record<string, unknown>, path: readonly string[]): unknown[] {
  let current: unknown = payload;
  for (const part of path) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return [];
    current = (current as Record<string, unknown>)[part];
    if (current === undefined) return [];
  }
  if (Array.isArray(current)) return current;
  return current === null ? [] : [current];
}

function sameScalar(stored: unknown, wanted: string | number | boolean): boolean {
  if (typeof wanted === 'number') {
    // Qdrant's integer match compares i64 values; a stored float never equals an integer condition.
    return typeof stored === 'number' && Number.isInteger(stored) && stored === wanted;
  }
  return stored === wanted;
}

function checkCondition(
  condition: Condition,
  payload: Record<string, unknown>,
  id: PointId,
  keyPaths: Map<string, string[]>,
): boolean {
  if ('has_id' in condition) {
    return condition.has_id.some((wanted) => normalisePointId(wanted) === id);
  }
  if ('key' in condition) {
    const path = keyPaths.get(condition.key);
    if (!path) return false;
    const values = valuesAt(payload, path);
    if (condition.match) {
      const match = condition.match;
      if ('value' in match) return values.some((value) => sameScalar(value, match.value));
      if ('any' in match) {
        const wanted: readonly (string | number)[] = match.any;
        return values.some((value) => wanted.some((w) => sameScalar(value, w)));
      }
      // `except`: at least one stored value outside the list (a missing key has no such value).
      const excluded: readonly (string | number)[] = match.except;
      return values.some(
        (value) =>
          (typeof value === 'string' || typeof value === 'number') &&
          !excluded.some((w) => sameScalar(value, w)),
      );
    }
    if (condition.range) {
      const range = condition.range;
      return values.some(
        (value) =>
          typeof value === 'number' &&
          (range.gt === undefined || range.gt === null || value > range.gt) &&
          (range.gte === undefined || range.gte === null || value >= range.gte) &&
          (range.lt === undefined || range.lt === null || value < range.lt) &&
          (range.lte === undefined || range.lte === null || value <= range.lte),
      );
    }
    return false;
  }
  return matchesFilter(condition, payload, id, keyPaths);
}

function asList(clause: Condition | Condition[] | null | undefined): Condition[] {
  if (clause === undefined || clause === null) return [];
  return Array.isArray(clause) ? clause : [clause];
}

/** Evaluates a filter: `must` all, `should` at least one (when given), `must_not` none. */
export function matchesFilter(
  filter: Filter | null | undefined,
  payload: Record<string, unknown>,
  id: PointId,
  keyPaths: Map<string, string[]>,
): boolean {
  if (!filter) return true;
  for (const condition of asList(filter.must)) {
    if (!checkCondition(condition, payload, id, keyPaths)) return false;
  }
  const should = asList(filter.should);
  if (should.length > 0 && !should.some((condition) => checkCondition(condition, payload, id, keyPaths))) {
    return false;
  }
  for (const condition of asList(filter.must_not)) {
    if (checkCondition(condition, payload, id, keyPaths)) return false;
  }
  return true;
}

/**
 * Parses every key of a filter once, up front, so that a malformed key is a 400 for the request
 * rather than a silent non-match. Returns the first bad key, if any.
 */
export function collectKeyPaths(
  filter: Filter | null | undefined,
  into: Map<string, string[]>,
): string | undefined {
  if (!filter) return undefined;
  for (const condition of [...asList(filter.must), ...asList(filter.should), ...asList(filter.must_not)]) {
    if ('has_id' in condition) continue;
    if ('key' in condition) {
      const path = parseKeyPath(condition.key);
      if (!path) return condition.key;
      into.set(condition.key, path);
      continue;
    }
    const bad = collectKeyPaths(condition, into);
    if (bad !== undefined) return bad;
  }
  return undefined;
}
