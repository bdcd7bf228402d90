import { Buffer } from 'node:buffer';

/**
 * Decodes a base64 string of little-endian float32 values (the `encoding_format: "base64"` wire
 * form of embeddings) into numbers, exactly. `undefined` when the length is not a whole number of
 * floats or the text is not base64.
 */
export function decodeFloat32Base64(text: string): number[] | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(text, 'base64');
  if (bytes.byteLength % 4 !== 0) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Array<number>(bytes.byteLength / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** The inverse of {@link decodeFloat32Base64}; values are rounded to float32. */
export function encodeFloat32Base64(values: readonly number[]): string {
  const bytes = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) bytes.writeFloatLE(values[i]!, i * 4);
  return bytes.toString('base64');
}
