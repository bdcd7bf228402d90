import { makeLargeXmlDocx, makeZip, makeZipBombDocx } from '@quire/testkit';
import { describe, expect, it } from 'vitest';
import { readZipEntries } from './zip-entries.js';
import { measureZipInflation } from './zip-inflation.js';

const MIB = 2 ** 20;

describe('measureZipInflation', () => {
  it('counts what deflated and stored entries really inflate to', async () => {
    const docx = makeLargeXmlDocx(4 * MIB);
    const entries = readZipEntries(docx)!;
    const declared = entries.reduce((sum, e) => sum + e.uncompressedSize, 0);
    expect(await measureZipInflation(docx, entries, 64 * MIB)).toEqual({ ok: true, inflatedBytes: declared });
    const stored = makeZip({ 'a.txt': 'hello', 'b.txt': 'world!' });
    expect(await measureZipInflation(stored, readZipEntries(stored)!, 100)).toEqual({
      ok: true,
      inflatedBytes: 11,
    });
  });

  it('stops past the limit whatever the archive declares', async () => {
    const bomb = makeZipBombDocx({ inflateToBytes: 1024 * MIB, declaredBytes: 1000 });
    const entries = readZipEntries(bomb)!;
    expect(entries.find((e) => e.name === 'word/document.xml')?.uncompressedSize).toBe(1000);
    const result = await measureZipInflation(bomb, entries, 8 * MIB);
    expect(result).toMatchObject({ ok: false, entry: 'word/document.xml' });
    // Stopped within one output chunk of the limit, not after a gigabyte.
    expect(result.inflatedBytes).toBeGreaterThan(8 * MIB);
    expect(result.inflatedBytes).toBeLessThan(8 * MIB + 128 * 1024);
  });
});
