import { stripVTControlCharacters } from 'node:util';
import picocolors from 'picocolors';
import { describe, expect, it } from 'vitest';
import { formatAnswer, formatDuration, formatPages, renderTable } from './format.js';

const plain = picocolors.createColors(false);
const colored = picocolors.createColors(true);

const citation = {
  number: 1,
  documentId: 'guide.pdf',
  sourceName: 'guide.pdf',
  pageStart: 3,
  pageEnd: 4,
  chunkIndex: 2,
  excerpt: 'The lamp   flashes\nevery ten seconds.',
};

describe('renderTable', () => {
  it('pads columns to the widest cell, numbers to the right, ignoring colour codes', () => {
    const table = renderTable(
      ['NAME', 'CHUNKS'],
      [
        [colored.green('a.md'), '3'],
        ['longer-name.pdf', '120'],
      ],
      { right: [1] },
    );
    const lines = table.split('\n').map((l) => stripVTControlCharacters(l));
    expect(lines).toEqual(['NAME             CHUNKS', 'a.md                  3', 'longer-name.pdf     120']);
  });

  it('cuts cells wider than the limit', () => {
    expect(renderTable(['A'], [['abcdefghij']], { maxCellWidth: 5 })).toBe('A\nabcd…');
  });
});

describe('formatAnswer', () => {
  it('prints the answer, then its numbered sources with their pages', () => {
    const text = formatAnswer(
      { answer: 'It flashes every ten seconds. [1]', notFound: false, citations: [citation] },
      plain,
    );
    expect(text).toBe(
      ['It flashes every ten seconds. [1]', '', 'Sources', '  [1] guide.pdf, pp. 3–4'].join('\n'),
    );
  });

  it('names the document id when it differs from the source name', () => {
    const text = formatAnswer(
      {
        answer: 'x [1]',
        notFound: false,
        citations: [{ ...citation, documentId: 'kb/guide', pageStart: null, pageEnd: null }],
      },
      plain,
    );
    expect(text).toMatch(/\[1\] guide\.pdf \(kb\/guide\)$/m);
  });

  it('says when the context budget left passages out', () => {
    const text = formatAnswer(
      {
        answer: 'It flashes every ten seconds. [1]',
        notFound: false,
        citations: [citation],
        contextTruncated: { budget: 500, kept: 2, dropped: 3, shortened: false },
      },
      plain,
    );
    expect(text.split('\n').at(-1)).toBe(
      'context budget 500 tokens: 2 passages given, 3 left out (raise it with --context-tokens)',
    );
  });

  it('says so when nothing answers the question', () => {
    expect(formatAnswer({ answer: 'No answer.', notFound: true, citations: [] }, plain)).toContain(
      'no passage of the documents answers this',
    );
  });
});

describe('formatPages and formatDuration', () => {
  it('formats page ranges', () => {
    expect(formatPages(null, null)).toBe('');
    expect(formatPages(2, 2)).toBe('p. 2');
    expect(formatPages(2, null)).toBe('p. 2');
    expect(formatPages(2, 5)).toBe('pp. 2–5');
  });

  it('formats durations', () => {
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(4_210)).toBe('4.2 s');
    expect(formatDuration(185_000)).toBe('3 min 5 s');
  });
});
