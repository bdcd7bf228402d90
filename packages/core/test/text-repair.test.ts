import { existsSync } from 'node:fs';
import { makeLaidOutPdf, makeVisualOrderPdf, type PdfPageLayout } from '@quire/testkit';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LOAD_LIMITS, extractPdf, loadDocument } from '../src/loaders/index.js';

const HEADER = 'Journal of Reproducible Results, Vol. 7 (2024)';

/** Four two-column pages of a paper with line-end hyphenation, a running header and page numbers. */
function paper(): PdfPageLayout[] {
  const columns: string[][][] = [
    [
      ['Models with many param-', 'eters need careful tuning.', 'Each experi-'],
      ['ment ran three times on', 'a state-of-the-art cluster.', 'The evalu-'],
    ],
    [
      ['ation used held-out data,', 'never seen during train-'],
      ['ing. The data-driven re-', 'sults agree: the results'],
    ],
    [
      ['hold across every con-', 'figuration we tried,'],
      ['from small to large, and', 'the data-driven method'],
    ],
    [
      ['wins in the end. The', 'experiment is reproducible'],
      ['with the scripts attached;', 'all parameters are listed.'],
    ],
  ];
  return columns.map((pageColumns, index) => ({
    header: HEADER,
    footer: `Page ${index + 1} of ${columns.length}`,
    columns: pageColumns,
  }));
}

describe('extractPdf text repair', () => {
  it('rejoins hyphenated words of a two-column paper and moves its running header out of the text', async () => {
    const bytes = await makeLaidOutPdf(paper());
    const doc = await extractPdf(bytes, 'paper.pdf', { limits: DEFAULT_LOAD_LIMITS });
    expect(doc.sections.map((section) => section.page)).toEqual([1, 2, 3, 4]);
    expect(doc.sections.map((section) => section.text)).toEqual([
      'Models with many parameters\nneed careful tuning.\nEach experiment\nran three times on\na state-of-the-art cluster.\nThe evaluation',
      'used held-out data,\nnever seen during training.\nThe data-driven results\nagree: the results',
      'hold across every configuration\nwe tried,\nfrom small to large, and\nthe data-driven method',
      'wins in the end. The\nexperiment is reproducible\nwith the scripts attached;\nall parameters are listed.',
    ]);
    expect(doc.furniture).toEqual([
      { text: HEADER, template: 'journal of reproducible results, vol. # (#)', pages: 4 },
      { text: 'Page 1 of 4', template: 'page # of #', pages: 4 },
    ]);
  });
});

/** Hebrew and Arabic glyphs; Debian's fonts-dejavu-core (`.ci/run` installs it). */
const RTL_FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';

describe('extractPdf on right-to-left text', () => {
  it('puts Hebrew and Arabic lines drawn in visual order in logical order', async () => {
    if (!existsSync(RTL_FONT)) {
      throw new Error(`${RTL_FONT} is missing: install Debian's fonts-dejavu-core (.ci/run does)`);
    }
    const lines = [
      'שלום עולם גדול מאוד.',
      'אנחנו כותבים מימין לשמאל.',
      'السلام عليكم يا أصدقاء.',
      'هذا كتاب جديد.',
    ];
    const bytes = await makeVisualOrderPdf(lines, RTL_FONT);
    const doc = await extractPdf(bytes, 'rtl.pdf', { limits: DEFAULT_LOAD_LIMITS });
    expect(doc.text).toBe(lines.join('\n'));
  });
});

describe('loadDocument on HTML code blocks', () => {
  it('keeps the lines of a <pre> block highlighted with a <br> per line', async () => {
    const prose = (n: number) =>
      `<p>Paragraph ${n} walks through the listing below in enough words, with commas, for a reader view to keep the article.</p>`;
    const html =
      `<!doctype html><html><head><title>Listing</title></head><body><nav>Home</nav><article><h1>Listing</h1>` +
      `${prose(1)}${prose(2)}<pre><code><span class="kw">for</span> item <span class="kw">in</span> items:<br>` +
      `    print(item)<br><br><span class="kw">return</span> None</code></pre>${prose(3)}</article></body></html>`;
    const doc = await loadDocument({ bytes: new TextEncoder().encode(html), name: 'listing.html' });
    expect(doc.text).toContain('for item in items:\n    print(item)\n\nreturn None');
  });
});
