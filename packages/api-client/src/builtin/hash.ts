const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * 32-bit FNV-1a over the UTF-16 code units of `text`, started from `seed` so that several
 * independent hash families can share one function. Unsigned result.
 */
export function fnv1a32(text: string, seed: number = FNV_OFFSET): number {
  let hash = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, FNV_PRIME);
  }
  return hash >>> 0;
}

/**
 * murmur3's 32-bit finaliser: FNV-1a alone mixes its last characters poorly into the low bits,
 * which are exactly the ones a modulo keeps.
 */
export function fmix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Bucket in `[0, dimension)` and sign (+1/-1) of a feature, from two independent mixes of one hash. */
export function hashFeature(
  feature: string,
  seed: number,
  dimension: number,
): { bucket: number; sign: 1 | -1 } {
  const base = fnv1a32(feature, seed);
  const bucket = fmix32(base) % dimension;
  const sign = (fmix32(base ^ 0x9e3779b9) & 1) === 0 ? 1 : -1;
  return { bucket, sign };
}
