import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { decodeFloat32Base64, encodeFloat32Base64 } from './float32-base64.js';

describe('decodeFloat32Base64', () => {
  it('decodes little-endian float32 exactly', () => {
    const values = new Float32Array([
      0.1,
      -2.5,
      3.4028234663852886e38,
      1.401298464324817e-45,
      -0,
      Math.PI,
      1 / 3,
    ]);
    const bytes = Buffer.alloc(values.length * 4);
    values.forEach((value, i) => {
      bytes.writeFloatLE(value, i * 4);
    });
    const decoded = decodeFloat32Base64(bytes.toString('base64'));
    expect(decoded).toHaveLength(values.length);
    decoded!.forEach((value, i) => {
      expect(Object.is(value, values[i])).toBe(true);
    });
  });

  it('round-trips with encodeFloat32Base64', () => {
    const values = [1, -1, 0.25, Math.fround(0.3)];
    expect(decodeFloat32Base64(encodeFloat32Base64(values))).toEqual(values);
  });

  it('refuses text that is not a whole number of float32 values in base64', () => {
    expect(decodeFloat32Base64('AAAA')).toBeUndefined(); // 3 bytes
    expect(decodeFloat32Base64('not base64!')).toBeUndefined();
    expect(decodeFloat32Base64('')).toEqual([]);
  });
});
