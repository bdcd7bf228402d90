import { describe, expect, it } from 'vitest';
import { QuireError } from '../errors.js';
import { base64DecodedLength } from './inline-source.js';
import { resolveSource } from './resolve-source.js';
import type { IngestSource, ResolveSourceOptions } from './types.js';

async function rejection(promise: Promise<unknown>): Promise<QuireError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof QuireError) return error;
    throw error;
  }
  throw new Error('expected the promise to reject');
}

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const resolve = (source: IngestSource, options: ResolveSourceOptions = {}) => resolveSource(source, options);

describe('text sources', () => {
  it('encodes the text as UTF-8 with a default name', async () => {
    const source = await resolve({ kind: 'text', text: 'Grüße' });
    expect(decode(source.bytes)).toBe('Grüße');
    expect(source).toMatchObject({ name: 'inline.txt', origin: 'inline' });
    expect(source.claimedType).toBeUndefined();
  });

  it.each([
    ['text/markdown', 'inline.md'],
    ['text/x-markdown; charset=utf-8', 'inline.md'],
    ['TEXT/HTML', 'inline.html'],
    ['application/json', 'inline.json'],
    ['text/plain', 'inline.txt'],
  ])('names text of type %s %s and passes the type on', async (mediaType, name) => {
    const source = await resolve({ kind: 'text', text: '# Title', mediaType });
    expect(source).toMatchObject({ name, claimedType: mediaType });
  });

  it('keeps a given name, without directory parts', async () => {
    expect((await resolve({ kind: 'text', text: 'x', name: 'notes.md' })).name).toBe('notes.md');
    expect((await resolve({ kind: 'text', text: 'x', name: '../../notes.md' })).name).toBe('notes.md');
  });

  it('limits the size in UTF-8 bytes, not characters', async () => {
    expect((await resolve({ kind: 'text', text: 'abcde' }, { maxBytes: 5 })).bytes.byteLength).toBe(5);
    const error = await rejection(resolve({ kind: 'text', text: 'ééé' }, { maxBytes: 5 }));
    expect(error.code).toBe('too_large');
    expect(error.details).toEqual({ bytes: 6, maxBytes: 5 });
    const long = await rejection(resolve({ kind: 'text', text: 'a'.repeat(6) }, { maxBytes: 5 }));
    expect(long.code).toBe('too_large');
  });

  it('refuses a media type that is not one', async () => {
    const error = await rejection(resolve({ kind: 'text', text: 'x', mediaType: 'markdown' }));
    expect(error.code).toBe('invalid_input');
    expect(error.message).toContain('mediaType must look like "type/subtype"');
  });
});

describe('base64 sources', () => {
  const bytes = Uint8Array.from([0, 1, 2, 250, 251, 252, 253]);
  const encoded = Buffer.from(bytes).toString('base64');

  it('decodes padded and unpadded data into bytes of their own', async () => {
    for (const data of [encoded, encoded.replace(/=+$/, '')]) {
      const source = await resolve({ kind: 'base64', data, name: 'blob.bin' });
      expect(Array.from(source.bytes)).toEqual(Array.from(bytes));
      expect(source).toMatchObject({ name: 'blob.bin', origin: 'inline' });
      // Not a view into Node's shared buffer pool.
      expect(source.bytes.buffer.byteLength).toBe(bytes.byteLength);
    }
  });

  it.each([
    ['aGVs bG8=', 'U+0020 at offset 4', 'whitespace'],
    ['aGVsbG8=\n', 'U+000A at offset 8', 'line breaks'],
    ['aGV-bG8_', '"-" (U+002D) at offset 3', 'base64url'],
    ['aGVs*G8=', '"*" (U+002A) at offset 4', 'alphabet'],
    ['data:text/plain;base64,aGVsbG8=', 'offset 4', 'not a data: URL'],
    ['aG=sbG8=', '"=" padding at offset 2', 'not at the end'],
    ['aGVsbG8==', 'multiple of 4', 'padded'],
    ['aGVsb', 'truncated', 'length'],
  ])('refuses %j (%s)', async (data, where, hint) => {
    const error = await rejection(resolve({ kind: 'base64', data, name: 'x.bin' }));
    expect(error.code).toBe('invalid_input');
    expect(error.message).toContain('invalid base64 data');
    expect(error.message).toContain(where);
    expect(error.message).toContain(hint);
  });

  it('checks the decoded size from the length before decoding or validating', async () => {
    expect(base64DecodedLength('AAAA')).toBe(3);
    expect(base64DecodedLength('AAA=')).toBe(2);
    expect(base64DecodedLength('AA==')).toBe(1);
    expect(base64DecodedLength('AAAAAA')).toBe(4);
    const ok = await resolve({ kind: 'base64', data: 'A'.repeat(16), name: 'x.bin' }, { maxBytes: 12 });
    expect(ok.bytes.byteLength).toBe(12);
    // Invalid too: the size is refused first, without scanning or decoding the data.
    const error = await rejection(
      resolve({ kind: 'base64', data: `${'A'.repeat(20)} `, name: 'x.bin' }, { maxBytes: 12 }),
    );
    expect(error.code).toBe('too_large');
    expect(error.details).toEqual({ bytes: 15, maxBytes: 12 });
  });

  it('names errors after the document', async () => {
    const error = await rejection(resolve({ kind: 'base64', data: '!!!!', name: 'scan.pdf' }));
    expect(error.message.startsWith('"scan.pdf": ')).toBe(true);
  });
});
