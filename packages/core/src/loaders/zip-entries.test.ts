import { makeZip } from '@quire/testkit';
import { describe, expect, it } from 'vitest';
import { readZipEntries } from './zip-entries.js';

describe('readZipEntries', () => {
  it('lists names and declared sizes from the central directory', () => {
    const zip = makeZip({ 'a.txt': 'hello', 'dir/b.xml': '<x/>' });
    expect(readZipEntries(zip)).toEqual([
      { name: 'a.txt', compressedSize: 5, uncompressedSize: 5, method: 0, localHeaderOffset: 0 },
      { name: 'dir/b.xml', compressedSize: 4, uncompressedSize: 4, method: 0, localHeaderOffset: 40 },
    ]);
  });

  it('returns null for bytes without a readable directory', () => {
    expect(readZipEntries(Buffer.from('not a zip at all, just words'))).toBeNull();
    const zip = makeZip({ 'a.txt': 'hello' });
    expect(readZipEntries(zip.subarray(0, zip.length - 30))).toBeNull();
  });
});
