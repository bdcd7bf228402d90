import { makeMarkdown } from '@quire/testkit';
import { describe, expect, it } from 'vitest';
import { extractMarkdown, headingText } from './markdown-loader.js';

const paths = (source: string) => extractMarkdown(source).sections.map((section) => section.headingPath);

describe('extractMarkdown', () => {
  it('makes one section per heading with its heading path, ATX and setext alike', () => {
    const doc = extractMarkdown(makeMarkdown());
    expect(doc.title).toBe('Field Guide to Quire');
    expect(doc.sections.map((section) => section.headingPath)).toEqual([
      ['Getting Started'],
      ['Getting Started', 'Install'],
      ['Getting Started', 'Configuration'],
      ['Getting Started', 'Configuration', 'Advanced options'],
      ['Reference'],
    ]);
    expect(doc.text).not.toContain('title: "Field Guide');
    for (const section of doc.sections) {
      expect(doc.text.slice(section.start, section.start + section.text.length)).toBe(section.text);
    }
  });

  it('never takes lines inside code fences for headings', () => {
    const source = [
      '# Top',
      'intro',
      '~~~~',
      '# not a heading',
      '~~~',
      'still code',
      '~~~~',
      '## Next',
      'body',
    ].join('\n');
    const doc = extractMarkdown(source);
    expect(doc.sections.map((section) => section.headingPath)).toEqual([['Top'], ['Top', 'Next']]);
    expect(doc.sections[0]?.text).toContain('# not a heading');
  });

  it('treats an unclosed fence as code to the end', () => {
    expect(paths('# A\ntext\n```\n# inside\n## also inside')).toEqual([['A']]);
  });

  it('does not read list items, quotes or table rows above a dash line as setext headings', () => {
    expect(paths('# A\n- item\n---\n> quote\n---\ntext')).toEqual([['A']]);
  });

  it('takes a multi-line paragraph above an underline as one setext heading', () => {
    const doc = extractMarkdown('intro\n\nTwo line\nheading\n=====\nbody');
    expect(doc.sections.map((section) => section.headingPath)).toEqual([[], ['Two line heading']]);
    expect(doc.title).toBe('Two line heading');
  });

  it('leaves out a heading directly followed by a deeper one, keeping it in the path', () => {
    const doc = extractMarkdown('# Book\n## Chapter\ntext');
    expect(doc.sections).toHaveLength(1);
    expect(doc.sections[0]).toMatchObject({ headingPath: ['Book', 'Chapter'], text: '## Chapter\ntext' });
  });

  it('uses the first level-1 heading as title without front matter, and TOML front matter titles', () => {
    expect(extractMarkdown('## Sub\ntext\n# Main\nmore').title).toBe('Main');
    expect(extractMarkdown('+++\ntitle = "From TOML"\n+++\n# H\ntext').title).toBe('From TOML');
    expect(extractMarkdown('no headings at all').title).toBeNull();
  });

  it('keeps a leading thematic break that is not front matter', () => {
    const doc = extractMarkdown('---\n\nText after a rule.');
    expect(doc.text).toContain('Text after a rule.');
  });
});

describe('headingText', () => {
  it('strips inline Markdown from headings', () => {
    expect(headingText('The [`loadDocument`](api.md#load) **function** _now_ \\#1')).toBe(
      'The loadDocument function now #1',
    );
    expect(headingText('![logo](x.png) Brand <a id="x"></a>')).toBe('logo Brand');
  });
});
