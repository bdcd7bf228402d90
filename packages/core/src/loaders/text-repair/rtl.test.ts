import { describe, expect, it } from 'vitest';
import { detectRtlOrder, expandRtlPresentationForms, isRtlLine, repairRtl } from './rtl.js';

/** A line as an extractor that keeps each word's letters but emits words left to right gives it. */
function wordsVisual(logical: string): string {
  return logical.split(' ').reverse().join(' ');
}

/** A line in full visual order: every character, right to left. */
function fullyVisual(logical: string): string {
  return [...logical].reverse().join('');
}

describe('isRtlLine', () => {
  it('is true for lines of mostly Arabic or Hebrew letters only', () => {
    expect(isRtlLine('السلام عليكم يا أصدقاء.')).toBe(true);
    expect(isRtlLine('שלום עולם')).toBe(true);
    expect(isRtlLine('استخدم Node في المشروع')).toBe(true);
    expect(isRtlLine('The Arabic word سلام means peace.')).toBe(false);
    expect(isRtlLine('12 34')).toBe(false);
  });
});

describe('repairRtl', () => {
  it('puts Arabic lines with words in visual order back in logical order', () => {
    const lines = ['السلام عليكم يا أصدقاء.', 'هذا نص عربي قصير.', 'نكتب من اليمين إلى اليسار'];
    const [page] = repairRtl([lines.map(wordsVisual).join('\n')]);
    expect(page).toBe(lines.join('\n'));
  });

  it('keeps a run of left-to-right words (Latin, numbers) in its own order', () => {
    const visual = 'المشروع. في Node 20 استخدم\nالأول. السطر هذا';
    expect(repairRtl([visual])).toEqual(['استخدم Node 20 في المشروع.\nهذا السطر الأول.']);
  });

  it('reverses the letters too when whole lines are in visual order (Hebrew final letters tell)', () => {
    const lines = ['שלום עולם גדול.', 'אנחנו כותבים מימין לשמאל.'];
    const [page] = repairRtl([lines.map(fullyVisual).join('\n')]);
    expect(page).toBe(lines.join('\n'));
  });

  it('expands a lam-alef ligature in its logical place after reversing', () => {
    // "السلام عليكم." drawn with a lam-alef ligature (U+FEFC) and read in full visual order.
    const logicalShaped = 'السﻼم عليكم.';
    const [page] = repairRtl([`${fullyVisual(logicalShaped)}\n${fullyVisual('المدرسة الكبيرة.')}`]);
    expect(page).toBe('السلام عليكم.\nالمدرسة الكبيرة.');
  });

  it('leaves logical RTL lines and left-to-right lines alone', () => {
    const page =
      'السلام عليكم يا أصدقاء.\nهذا نص عربي قصير.\n1. البند الأول\n٢. البند الثاني\n3. البند الثالث\nThe Arabic word سلام means peace. Really.';
    expect(repairRtl([page])).toEqual([page]);
  });

  it('drops the directional formatting characters Poppler wraps RTL lines in', () => {
    const poppler = '\u202Bשלום עולם גדול מאוד\u202A.\u202C\u202C';
    expect(repairRtl([poppler])).toEqual(['שלום עולם גדול מאוד.']);
  });

  it('leaves lines alone when nothing shows their order', () => {
    expect(detectRtlOrder(['سلام عليكم'])).toEqual({ wordsReversed: false, lettersReversed: false });
    expect(repairRtl(['سلام عليكم'])).toEqual(['سلام عليكم']);
  });
});

describe('expandRtlPresentationForms', () => {
  it('maps Arabic presentation forms to base letters and lam-alef to lam then alef', () => {
    expect(expandRtlPresentationForms('ﻣﺮﺣﺒﺎ ﻻ')).toBe('مرحبا لا');
    expect(expandRtlPresentationForms('ﷲ')).toBe('الله');
  });

  it('leaves other text alone', () => {
    expect(expandRtlPresentationForms('ﬁ ½ مرحبا')).toBe('ﬁ ½ مرحبا');
  });
});
