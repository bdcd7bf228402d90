import { describe, expect, it } from 'vitest';
import { assessPageText, assessPdfPages, hasMeaningfulChars, hasNoText } from './pdf-text-quality.js';

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

  it('fails a document whose pages hold images and no text as scanned (or may: not known)', () => {
    for (const images of [true, null, undefined]) {
      const verdict = assessPdfPages([1, 2, 3].map((page) => ({ page, text: '', images })));
      expect(verdict).toMatchObject({ ok: false, problem: 'needs_ocr' });
      if (!verdict.ok)
        expect(verdict.reason).toContain('it is scanned: 3 of 3 pages hold images and no text');
    }
  });

  it('calls a document without text or images blank, and one with a few characters nearly empty', () => {
    const blank = assessPdfPages([1, 2].map((page) => ({ page, text: '', images: false })));
    expect(blank).toMatchObject({ ok: false, problem: 'blank', reason: expect.stringContaining('is blank') });
    const numbers = assessPdfPages([1, 2].map((page) => ({ page, text: String(page), images: false })));
    expect(numbers).toMatchObject({
      ok: false,
      problem: 'blank',
      reason: 'is nearly empty: 2 letters or digits on 2 pages and no images',
    });
    expect(assessPdfPages([])).toMatchObject({ ok: false, problem: 'blank', reason: 'has no pages' });
  });

  it('keeps a document with a few text pages among blank ones (no images)', () => {
    const pages = [
      { page: 1, text: 'Axis labels 100 200 300 percentage oppose' },
      ...[2, 3, 4, 5, 6].map((page) => ({ page, text: '', images: false })),
    ];
    expect(assessPdfPages(pages)).toMatchObject({ ok: true });
  });

  it('fails a mostly image-only document with a little text as scanned', () => {
    const pages = [
      { page: 1, text: 'Axis labels 100 200 300 percentage oppose' },
      ...[2, 3, 4, 5, 6].map((page) => ({ page, text: '', images: true })),
    ];
    expect(assessPdfPages(pages)).toMatchObject({ ok: false, problem: 'needs_ocr' });
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

describe('the early-exit checks', () => {
  // Letters and digits of several scripts (one outside the BMP), marks, leaders, white space,
  // control and private-use characters, a lone surrogate.
  const alphabet = [
    'a',
    'Z',
    '7',
    'é',
    '中',
    '٣',
    '\u0301',
    '𝐀',
    '.',
    '_',
    '-',
    '…',
    ' ',
    '\n',
    '\t',
    '\u0007',
    '\uE000',
    '\uFFFD',
    '\uD800',
    '!',
  ];

  it('agree with the full assessment on random text', () => {
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    for (let round = 0; round < 3000; round++) {
      const length = next() % 40;
      let text = '';
      for (let i = 0; i < length; i++) text += alphabet[next() % alphabet.length];
      const full = assessPageText(text);
      for (let wanted = 0; wanted <= 10; wanted++) {
        expect(hasMeaningfulChars(text, wanted), JSON.stringify([text, wanted])).toBe(
          full.meaningful >= wanted,
        );
      }
      expect(hasNoText(text), JSON.stringify(text)).toBe(full.verdict === 'no_text');
    }
  });
});
