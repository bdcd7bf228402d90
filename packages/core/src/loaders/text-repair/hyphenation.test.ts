import { describe, expect, it } from 'vitest';
import { rejoinHyphenation } from './hyphenation.js';

/** Rejoins one page and returns its text. */
function rejoin(text: string, ...otherPages: string[]): string {
  return rejoinHyphenation([text, ...otherPages]).pages[0]!;
}

describe('rejoinHyphenation', () => {
  it('rejoins a word broken at a line end and keeps the other line breaks', () => {
    expect(rejoin('the model has many param-\neters to tune\nand more')).toBe(
      'the model has many parameters\nto tune\nand more',
    );
  });

  it('keeps the hyphen of compounds: capitalised halves, compound parts, digits, single letters', () => {
    expect(rejoin('painted by Jean-\nPaul Laurens')).toBe('painted by Jean-Paul\nLaurens');
    expect(rejoin('a state-\nof-the-art system')).toBe('a state-of-the-art\nsystem');
    expect(rejoin('a state-of-\nthe-art system')).toBe('a state-of-the-art\nsystem');
    expect(rejoin('send an e-\nmail today')).toBe('send an e-mail\ntoday');
    expect(rejoin('see https://example.org/text-\nrepair for more')).toBe(
      'see https://example.org/text-repair\nfor more',
    );
    expect(rejoin('die Nord-\nSüd-Achse')).toBe('die Nord-Süd-Achse');
    expect(rejoin('der Nord-\nSüd Dialog')).toBe('der Nord-Süd\nDialog');
    // A digit after the hyphen: the line break is left as it is.
    expect(rejoin('prices in the pre-\n2020 market')).toBe('prices in the pre-\n2020 market');
  });

  it('joins a German noun split before a lower-case continuation', () => {
    expect(rejoin('mit der Straßen-\nbahn fahren')).toBe('mit der Straßenbahn\nfahren');
  });

  it('lets the document decide between the joined and the hyphenated form', () => {
    const hyphenatedElsewhere = 'a data-driven method\nand a data-driven team\nmore data-\ndriven work';
    expect(rejoin(hyphenatedElsewhere)).toBe(
      'a data-driven method\nand a data-driven team\nmore data-driven\nwork',
    );
    const joinedElsewhere = 'a data-driven method\nthe database and the database\nthe data-\nbase';
    expect(rejoin(joinedElsewhere)).toBe('a data-driven method\nthe database and the database\nthe database');
  });

  it('keeps the hyphen of two words the document uses on their own, and of prefixes such as self-', () => {
    const text =
      'free as in free\nsoftware is software\nthe free-\nsoftware movement\na self-\nevident truth';
    expect(rejoin(text)).toBe(
      'free as in free\nsoftware is software\nthe free-software\nmovement\na self-evident\ntruth',
    );
  });

  it('leaves suspended hyphens and dashes alone, and always joins at a soft hyphen', () => {
    expect(rejoin('pre-\nand post-processing')).toBe('pre-\nand post-processing');
    expect(rejoin('Haupt-\nund Nebensätze')).toBe('Haupt-\nund Nebensätze');
    expect(rejoin('wait --\nno more')).toBe('wait --\nno more');
    expect(rejoin('x = a -\nb')).toBe('x = a -\nb');
    expect(rejoin('Jean\u00AD\nPaul')).toBe('JeanPaul');
  });

  it('keeps code line breaks', () => {
    const code = 'function add(a, b) {\n  return a + b;\n}\nls -la\n  --color=auto';
    expect(rejoin(code)).toBe(code);
  });

  it('rejoins words split in both columns of two-column text and across a page break', () => {
    // A two-column page as extractors give it: the left column, then the right one.
    const page1 = [
      'The left-hand column splits',
      'words such as informa-',
      'tion across two lines.',
      'The right column has its',
      'own splits: the extrac-',
      'tor reads it after the left-',
      'hand column and then the com-',
    ].join('\n');
    const page2 = 'puter moves on.\nNothing else here.';
    const { pages, count } = rejoinHyphenation([page1, page2]);
    expect(pages[0]).toBe(
      [
        'The left-hand column splits',
        'words such as information',
        'across two lines.',
        'The right column has its',
        'own splits: the extractor',
        'reads it after the left-hand',
        'column and then the computer',
      ].join('\n'),
    );
    expect(pages[1]).toBe('moves on.\nNothing else here.');
    expect(count).toEqual({ joined: 3, kept: 1 });
  });

  it('drops a line left empty by moving its only word up', () => {
    expect(rejoinHyphenation(['an exam-\nple\nnext line']).pages).toEqual(['an example\nnext line']);
    expect(rejoinHyphenation(['the end of an exam-', 'ple', 'next page']).pages).toEqual([
      'the end of an example',
      '',
      'next page',
    ]);
  });
});
