import { validate, version } from 'uuid';
import { describe, expect, it } from 'vitest';
import { QuireError } from '../errors.js';
import { pointId } from './ids.js';

describe('pointId', () => {
  it('is a UUIDv5, the same for the same parts', () => {
    const id = pointId('tenant-a', 'doc-1', 'v1', 0);
    expect(validate(id)).toBe(true);
    expect(version(id)).toBe(5);
    expect(pointId('tenant-a', 'doc-1', 'v1', 0)).toBe(id);
  });

  it('never changes: stored points keep their ids across releases', () => {
    // Pinned: a change of namespace or encoding would make every re-ingest write duplicates.
    expect(pointId('t', 'd', 'v', 0)).toBe('f31125ff-c8d1-5669-b5f5-60b6e2ced29d');
  });

  it('differs when any part differs', () => {
    const ids = new Set([
      pointId('t', 'd', 'v', 0),
      pointId('T', 'd', 'v', 0),
      pointId('t', 'D', 'v', 0),
      pointId('t', 'd', 'V', 0),
      pointId('t', 'd', 'v', 1),
    ]);
    expect(ids.size).toBe(5);
  });

  it('encodes the parts unambiguously', () => {
    expect(pointId('a:b', 'c', 'v', 0)).not.toBe(pointId('a', 'b:c', 'v', 0));
    expect(pointId('a","b', 'c', 'v', 0)).not.toBe(pointId('a', 'b","c', 'v', 0));
    expect(pointId('a', 'b', 'v1', 0)).not.toBe(pointId('a', 'b', 'v', 10));
  });

  it.each([-1, 1.5, Number.NaN, 2 ** 53])('rejects chunk index %s', (index) => {
    expect(() => pointId('t', 'd', 'v', index)).toThrow(QuireError);
  });
});
