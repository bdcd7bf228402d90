import { describe, expect, it } from 'vitest';
import { lineTemplate, type PageText, removeFurniture } from './furniture.js';

const WORDS = 'river stone market lantern orbit violet harbor cedar pencil thunder glacier meadow'.split(' ');

/** A page's body: three lines of prose that differ from page to page. */
function body(page: number): string {
  const word = (offset: number) => WORDS[(page * 5 + offset) % WORDS.length]!;
  return [
    `The ${word(0)} and the ${word(1)} were mentioned in passing.`,
    `Nobody expected ${word(2)} to matter, least of all the ${word(3)}.`,
    `So the ${word(4)} story ends, ${page * 7} lines later.`,
  ].join('\n');
}

function pagesOf(count: number, make: (page: number) => string): PageText[] {
  return Array.from({ length: count }, (_, index) => ({ page: index + 1, text: make(index + 1) }));
}

describe('lineTemplate', () => {
  it('folds case and spaces and stands numbers and lone Roman numerals for "#"', () => {
    expect(lineTemplate('Page  3 of 20')).toBe('page # of #');
    expect(lineTemplate('- xiv -')).toBe('- # -');
    expect(lineTemplate('Journal of Things, Vol. 12')).toBe('journal of things, vol. #');
  });
});

describe('removeFurniture', () => {
  it('removes a running header and a page footer found on every page and returns them', () => {
    const pages = pagesOf(6, (page) =>
      ['Journal of Things, Vol. 12 (2024)', 'A. Author and B. Author', body(page), `Page ${page} of 6`].join(
        '\n',
      ),
    );
    const { pages: cleaned, furniture } = removeFurniture(pages);
    expect(cleaned.map((page) => page.text)).toEqual(pagesOf(6, body).map((page) => page.text));
    expect(furniture).toEqual([
      { text: 'Journal of Things, Vol. 12 (2024)', template: 'journal of things, vol. # (#)', pages: 6 },
      { text: 'A. Author and B. Author', template: 'a. author and b. author', pages: 6 },
      { text: 'Page 1 of 6', template: 'page # of #', pages: 6 },
    ]);
  });

  it('removes alternating book headers and page numbers whose offset shifts along the book', () => {
    // Even pages: "12 FREE CULTURE"; odd pages: the chapter name and the number. Two unnumbered
    // plates after page 6 shift the printed numbers.
    const printed = (page: number) => (page <= 6 ? page + 10 : page + 8);
    const chapter = (page: number) => (page <= 6 ? 'INTRODUCTION' : 'PIRACY');
    const pages = pagesOf(12, (page) =>
      page % 2 === 0
        ? `${body(page)}\n${printed(page)} FREE CULTURE`
        : `${body(page)}\n${chapter(page)} ${printed(page)}`,
    );
    const { pages: cleaned, furniture } = removeFurniture(pages);
    expect(cleaned.map((page) => page.text)).toEqual(pagesOf(12, body).map((page) => page.text));
    expect(furniture.map((entry) => [entry.text, entry.pages])).toEqual([
      ['12 FREE CULTURE', 6],
      ['INTRODUCTION 11', 3],
      ['PIRACY 15', 3],
    ]);
  });

  it('removes "- n -" page numbers but not a table total that ends a page', () => {
    const pages = pagesOf(8, (page) => `${body(page)}\nTotal\n${page * 1000 + 234}\n- ${page} -`);
    const { pages: cleaned } = removeFurniture(pages);
    expect(cleaned[2]!.text).toBe(`${body(3)}\nTotal\n3234`);
  });

  it('keeps lines found on only a few pages, and numbered headings that open pages', () => {
    const pages = pagesOf(10, (page) => {
      const heading = page === 3 || page === 8 ? 'Chapter Notes\n' : '';
      const article = page % 2 === 1 ? `Article ${page * 3 + 1}\n` : '';
      return `${heading}${article}${body(page)}`;
    });
    const { pages: cleaned, furniture } = removeFurniture(pages);
    expect(cleaned).toEqual(pages);
    expect(furniture).toEqual([]);
  });

  it('leaves short documents alone', () => {
    const pages = pagesOf(3, (page) => `Running header\n${body(page)}\nPage ${page}`);
    expect(removeFurniture(pages)).toEqual({ pages, furniture: [] });
  });

  it('only peels lines off the ends of a page, and keeps blank pages', () => {
    const pages = pagesOf(5, (page) =>
      page === 2 ? '' : `Running header\n${body(page)}\nRunning header\n${body(page)}`,
    );
    const { pages: cleaned } = removeFurniture(pages);
    expect(cleaned[0]!.text).toBe(`${body(1)}\nRunning header\n${body(1)}`);
    expect(cleaned[1]!.text).toBe('');
  });
});
