import { HTML_BOILERPLATE_MARKERS, makeHtmlWithBoilerplate } from '@quire/testkit';
import { describe, expect, it } from 'vitest';
import { extractHtml, extractHtmlFragment } from './html-loader.js';

const page = (body: string, title = 'Page') =>
  `<!doctype html><html><head><title>${title}</title></head><body>${body}</body></html>`;

describe('extractHtml', () => {
  it('keeps the article and drops navigation, headers, footers, asides, forms, scripts and styles', () => {
    const doc = extractHtml(makeHtmlWithBoilerplate());
    expect(doc.title).toBe('Harbour Almanac');
    for (const marker of HTML_BOILERPLATE_MARKERS) expect(doc.text).not.toContain(marker);
    expect(doc.text).toContain('The spring tide reaches the old stone pier at noon.');
    expect(doc.sections.map((section) => section.headingPath)).toEqual([
      [],
      ['Tides'],
      ['Tides', 'Tide tables'],
      ['Boats'],
    ]);
  });

  it('turns tables with a header row into "header: value" lines and lists into items', () => {
    const doc = extractHtml(makeHtmlWithBoilerplate());
    expect(doc.text).toContain('Day: Monday; High water: 06:10; Low water: 12:25');
    expect(doc.text).toContain('- Sailing yachts\n  - Sloops\n  - Ketches\n- Ferries');
  });

  it('walks the whole page without boilerplate when there is no article to find', () => {
    const doc = extractHtml(
      page('<nav>Menu</nav><h2>Short</h2><p>One line.</p><footer>Foot</footer>', 'Tiny'),
    );
    expect(doc.text).toBe('Short\n\nOne line.');
    expect(doc.sections[0]?.headingPath).toEqual(['Short']);
  });

  it('reads pages whose HTML leaves out the body tag, as browsers do', () => {
    const doc = extractHtml(
      '<html><head><title>T</title></head><h2>Loose</h2><p>Paragraph outside any body.</p></html>',
    );
    expect(doc).toMatchObject({ title: 'T', text: 'Loose\n\nParagraph outside any body.' });
  });

  it('falls back to the first heading for a title', () => {
    expect(extractHtml('<h1>Only heading</h1><p>text</p>').title).toBe('Only heading');
  });
});

describe('extractHtmlFragment', () => {
  it('renders ordered lists, label/value tables, cell tables, preformatted text and line breaks', () => {
    const doc = extractHtmlFragment(
      [
        '<h1>Doc</h1>',
        '<ol start="3"><li>three</li><li>four</li></ol>',
        '<table><tr><th>Founder</th><td>Ada</td></tr><tr><th>Year</th><td>1998</td></tr></table>',
        '<table><tr><td>a</td><td></td><td>c</td></tr></table>',
        '<pre>  indented\n    code</pre>',
        '<p>line one<br>line   two</p>',
      ].join(''),
    );
    expect(doc.text).toBe(
      'Doc\n\n3. three\n4. four\n\nFounder: Ada\nYear: 1998\n\na | c\n\n  indented\n    code\n\nline one\nline two',
    );
  });

  it('skips hidden elements but reads formulas from MathML and formula images', () => {
    const doc = extractHtmlFragment(
      [
        '<p>Visible<span hidden>HIDDEN</span><span style="display: none">NONE</span><span aria-hidden="true">ARIA</span></p>',
        '<p>Formula <math alttext="x^2"><mi>x</mi></math> and',
        ' <img aria-hidden="true" alt="{\\displaystyle a_{ij}}" src="x.svg"> here.</p>',
        '<p><img alt="a photo of a cat" src="cat.jpg">Caption</p>',
      ].join(''),
    );
    expect(doc.text).toBe('Visible\n\nFormula x^2 and a_{ij} here.\n\nCaption');
  });

  it('drops permalink anchors and edit links from headings', () => {
    const doc = extractHtmlFragment(
      '<h2>Usage <a href="#usage">#</a></h2><p>a</p><h2>History<span class="mw-editsection">[<a>edit</a>]</span></h2><p>b</p>',
    );
    expect(doc.sections.map((section) => section.headingPath)).toEqual([['Usage'], ['History']]);
  });
});
