import { makeBinaryNamedTxt, makeUtf16Text } from '@quire/testkit';
import { describe, expect, it } from 'vitest';
import { checkText, decodeText } from './decode-text.js';

describe('checkText', () => {
  it('decodes UTF-8, drops the byte-order mark and turns CRLF and CR into LF', () => {
    const check = checkText(Buffer.from('\ufeffone\r\ntwo\rthree\n', 'utf8'));
    expect(check).toEqual({ ok: true, decoded: { text: 'one\ntwo\nthree\n', encoding: 'utf-8' } });
  });

  it('decodes UTF-16 LE and BE with a byte-order mark', () => {
    expect(checkText(makeUtf16Text('Ílhavo\r\n'))).toEqual({
      ok: true,
      decoded: { text: 'Ílhavo\n', encoding: 'utf-16le' },
    });
    const be = Buffer.from(makeUtf16Text('ab').subarray(2).swap16());
    expect(checkText(Buffer.concat([Buffer.from([0xfe, 0xff]), be]))).toEqual({
      ok: true,
      decoded: { text: 'ab', encoding: 'utf-16be' },
    });
  });

  it('calls bytes with NULs binary', () => {
    const check = checkText(makeBinaryNamedTxt());
    expect(check.ok).toBe(false);
    if (!check.ok) {
      expect(check.binary).toBe(true);
      expect(check.reason).toMatch(/^looks binary/);
    }
  });

  it('hints at a missing byte-order mark for UTF-16 text', () => {
    const check = checkText(Buffer.from('plain words in utf-16 without a mark', 'utf16le'));
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.reason).toContain('save it with a byte-order mark');
  });

  it('calls text full of control characters binary even without NULs', () => {
    const bytes = Buffer.from(Array.from({ length: 400 }, (_, index) => (index % 4 === 0 ? 0x01 : 0x41)));
    const check = checkText(bytes);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.reason).toContain('control characters');
  });

  it('refuses Latin-1 text and says to save it as UTF-8', () => {
    const check = checkText(Buffer.from('Café crème brûlée. '.repeat(10), 'latin1'));
    expect(check.ok).toBe(false);
    if (!check.ok) {
      expect(check.binary).toBe(false);
      expect(check.reason).toContain('save it as UTF-8');
    }
  });

  it('tolerates a stray invalid byte in a large file', () => {
    const bytes = Buffer.concat([
      Buffer.from('word '.repeat(1_000)),
      Buffer.from([0xff]),
      Buffer.from(' end'),
    ]);
    const check = checkText(bytes);
    expect(check.ok).toBe(true);
    if (check.ok) expect(check.decoded.text.endsWith('\ufffd end')).toBe(true);
  });

  it('does not count a genuine U+FFFD as invalid', () => {
    expect(checkText(Buffer.from('a \ufffd b'.repeat(5), 'utf8')).ok).toBe(true);
  });
});

describe('decodeText', () => {
  it('throws unsupported_type naming the document', () => {
    expect(() => decodeText(makeBinaryNamedTxt(), 'data.txt')).toThrow(
      expect.objectContaining({
        code: 'unsupported_type',
        message: expect.stringMatching(/^"data\.txt": looks binary/),
      }),
    );
  });
});
