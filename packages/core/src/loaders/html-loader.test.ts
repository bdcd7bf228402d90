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

  it('keeps the line breaks of highlighted code that marks its lines with <br> (through Readability)', () => {
    // Token spans and a <br> per line, a blank line as <br><br>: the shape that lost its lines.
    const code =
      '<pre class="language-c"><code class="language-c"><span class="token comment">// add.c</span><br />' +
      '<span class="token macro">#include &lt;stdio.h&gt;</span><br /><br />' +
      '<span class="token keyword">int</span> <span class="token function">add</span>(int x, int y) {<br />' +
      '  <span class="token keyword">return</span> x + y;<br />}</code></pre>';
    const prose = (n: number) =>
      `<p>Paragraph ${n} explains the example at some length, so that the article is long enough for a reader view to pick it, with commas, and more words.</p>`;
    const doc = extractHtml(
      page(
        `<nav>Home | Blog</nav><article><h1>Adding numbers</h1>${prose(1)}${prose(2)}${code}${prose(3)}</article>`,
      ),
    );
    expect(doc.text).toContain('// add.c\n#include <stdio.h>\n\nint add(int x, int y) {\n  return x + y;\n}');
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

  it('keeps the lines of code blocks marked up per line, and drops their line numbers', () => {
    const doc = extractHtmlFragment(
      [
        // One <div> per line (highlighters with line plugins).
        '<pre><code><div class="line">def f(x):</div><div class="line">    return x</div></code></pre>',
        // A Prism gutter of line numbers.
        '<pre class="line-numbers"><code>a = 1\nb = 2<span class="line-numbers-rows"><span></span><span></span></span></code></pre>',
        // Pygments: a table of a line-number column and a code column.
        '<table class="highlighttable"><tr><td class="linenos"><div class="linenodiv"><pre>1\n2</pre></div></td>',
        '<td class="code"><div class="highlight"><pre><span class="k">if</span> x:\n    <span class="k">pass</span></pre></div></td></tr></table>',
        // A data table is still read as one.
        '<table><tr><td>1</td><td>one</td></tr></table>',
      ].join(''),
    );
    expect(doc.text).toBe('def f(x):\n    return x\n\na = 1\nb = 2\n\nif x:\n    pass\n\n1 | one');
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
