import { describe, expect, it } from 'vitest';
import { repairPageTexts, TEXT_REPAIR_VERSION } from './index.js';

describe('repairPageTexts', () => {
  it('repairs a paper: ligatures, running header and footer, hyphenation across the footer', () => {
    const bodies = [
      'Large models need many param-\neters. We ﬁrst train the',
      'model on the data and then ﬁne-\ntune it; the parameters',
      'stay frozen while the eﬃcient adap-',
      'ter learns. To ﬁne-tune is cheap.',
      'In the end the whole sys-\ntem works.',
    ];
    const pages = bodies.map((text, index) => ({
      page: index + 1,
      text: `Proceedings of the Workshop on Things 2024\n${text}\n- ${index + 1} -`,
    }));
    const repaired = repairPageTexts(pages);
    expect(repaired.pages).toEqual([
      { page: 1, text: 'Large models need many parameters.\nWe first train the' },
      { page: 2, text: 'model on the data and then fine-tune\nit; the parameters' },
      { page: 3, text: 'stay frozen while the efficient adapter' },
      { page: 4, text: 'learns. To fine-tune is cheap.' },
      { page: 5, text: 'In the end the whole system\nworks.' },
    ]);
    expect(repaired.furniture.map((entry) => [entry.text, entry.pages])).toEqual([
      ['Proceedings of the Workshop on Things 2024', 5],
      ['- 1 -', 5],
    ]);
    expect(repaired.hyphenation).toEqual({ joined: 3, kept: 1 });
  });

  it('reorders an RTL document and leaves one or two pages without furniture removal', () => {
    const repaired = repairPageTexts([
      { page: 1, text: 'Header line\nعليكم. السلام\nFooter' },
      { page: 2, text: 'Header line\nالكتاب. هذا\nFooter' },
    ]);
    expect(repaired.pages.map((page) => page.text)).toEqual([
      'Header line\nالسلام عليكم.\nFooter',
      'Header line\nهذا الكتاب.\nFooter',
    ]);
    expect(repaired.furniture).toEqual([]);
  });

  it('has a version to put into the extraction recipe', () => {
    expect(Number.isInteger(TEXT_REPAIR_VERSION)).toBe(true);
  });
});
