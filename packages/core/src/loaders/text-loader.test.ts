import { describe, expect, it } from 'vitest';
import { extractPlainText } from './text-loader.js';

describe('extractPlainText', () => {
  it('keeps plain text as one section of paragraphs', () => {
    const doc = extractPlainText('First paragraph\nstill first.\n\n\n\nSecond paragraph.   \n');
    expect(doc).toEqual({
      text: 'First paragraph\nstill first.\n\nSecond paragraph.',
      sections: [
        { text: 'First paragraph\nstill first.\n\nSecond paragraph.', page: null, headingPath: [], start: 0 },
      ],
      pageCount: null,
      title: null,
    });
  });

  it('splits pages at form feeds, skipping empty ones but counting them', () => {
    const doc = extractPlainText('one\f\ftwo words\f');
    expect(doc.pageCount).toBe(3);
    expect(doc.sections.map((section) => [section.page, section.text])).toEqual([
      [1, 'one'],
      [3, 'two words'],
    ]);
  });

  it('keeps only the book of a Project Gutenberg file and takes its title', () => {
    const source = [
      'The Project Gutenberg eBook of Tides',
      'This ebook is for the use of anyone anywhere.',
      'Title: Tides of the North',
      '*** START OF THE PROJECT GUTENBERG EBOOK TIDES OF THE NORTH ***',
      'Chapter I. The harbour.',
      '*** END OF THE PROJECT GUTENBERG EBOOK TIDES OF THE NORTH ***',
      'Section 1. General Terms of Use and Redistributing Project Gutenberg works',
    ].join('\n');
    expect(extractPlainText(source)).toMatchObject({
      text: 'Chapter I. The harbour.',
      title: 'Tides of the North',
    });
  });
});
