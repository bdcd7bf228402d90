import { describe, expect, it } from 'vitest';
import { assessPageText, assessPdfPages } from './pdf-text-quality.js';

const prose = 'Keepers logged every storm of the season along the northern coast.';
const pua = (length: number) =>
  String.fromCodePoint(...Array.from({ length }, (_, index) => 0xe000 + (index % 90)));

describe('assessPageText', () => {
  it('calls ordinary prose, CJK text and tables text', () => {
    expect(assessPageText(prose).verdict).toBe('text');
    expect(
      assessPageText('すべての人間は、生まれながらにして自由であり、かつ、尊厳と権利とについて平等である。')
        .verdict,
    ).toBe('text');
    expect(assessPageText('1.1 \t2.1 \t3.1\n1.2 \t2.2 \t3.2').verdict).toBe('text');
  });

  it('does not count dot leaders and rules against a page', () => {
    expect(
      assessPageText(`Contents ${'.'.repeat(60)} 3\nIndex ${'. '.repeat(40)} 9\n${'_'.repeat(80)}`).verdict,
    ).toBe('text');
  });

  it('calls unmapped glyphs, control characters and symbol soup garbled', () => {
    expect(assessPageText(pua(200)).verdict).toBe('garbled');
    expect(assessPageText('\u0003\u0004\u0005\u0006'.repeat(20)).verdict).toBe('garbled');
    expect(assessPageText('!"#$%&\'()*+,-./:;<=>?@[]^'.repeat(4)).verdict).toBe('garbled');
    expect(assessPageText('\ufffd\ufffd').verdict).toBe('garbled');
  });

  it('tells empty pages from short ones', () => {
    expect(assessPageText('  \n\t ').verdict).toBe('no_text');
    expect(assessPageText('— ·').verdict).toBe('no_text');
    expect(assessPageText('12').verdict).toBe('sparse');
    expect(assessPageText('Chapter One').verdict).toBe('text');
  });
});

describe('assessPdfPages', () => {
  it('keeps text pages and lists empty and garbled ones as skipped', () => {
    const verdict = assessPdfPages([
      { page: 1, text: prose },
      { page: 2, text: '' },
      { page: 3, text: prose },
      { page: 4, text: pua(100) },
      { page: 5, text: prose },
    ]);
    expect(verdict).toEqual({
      ok: true,
      keep: [
        { page: 1, text: prose },
        { page: 3, text: prose },
        { page: 5, text: prose },
      ],
      skipped: [
        { page: 2, reason: 'no_text' },
        { page: 4, reason: 'garbled' },
      ],
    });
  });

  it('fails a document with no text as scanned', () => {
    const verdict = assessPdfPages([1, 2, 3].map((page) => ({ page, text: '' })));
    expect(verdict).toMatchObject({ ok: false, problem: 'scanned' });
    if (!verdict.ok) expect(verdict.reason).toContain('it looks scanned (image-only); run OCR first');
  });

  it('fails a mostly image-only document with a little text as scanned', () => {
    const pages = [
      { page: 1, text: 'Axis labels 100 200 300 percentage oppose' },
      ...[2, 3, 4, 5, 6].map((page) => ({ page, text: '' })),
    ];
    expect(assessPdfPages(pages)).toMatchObject({ ok: false, problem: 'scanned' });
  });

  it('accepts a short document whose few pages with text carry plenty of it', () => {
    const pages = [
      { page: 1, text: '' },
      { page: 2, text: prose.repeat(20) },
      { page: 3, text: '' },
    ];
    expect(assessPdfPages(pages)).toMatchObject({ ok: true });
  });

  it('fails when most pages with text are garbled', () => {
    const verdict = assessPdfPages([
      { page: 1, text: prose },
      { page: 2, text: pua(100) },
      { page: 3, text: pua(100) },
    ]);
    expect(verdict).toMatchObject({ ok: false, problem: 'garbled' });
  });

  it('fails when no page could be read and skips single unreadable pages', () => {
    expect(assessPdfPages([{ page: 1, text: null }])).toMatchObject({ ok: false, problem: 'unreadable' });
    expect(
      assessPdfPages([
        { page: 1, text: prose },
        { page: 2, text: null },
      ]),
    ).toMatchObject({
      ok: true,
      skipped: [{ page: 2, reason: 'unreadable' }],
    });
  });
});
