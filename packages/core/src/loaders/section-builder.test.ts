import { describe, expect, it } from 'vitest';
import { SectionBuilder, tidyText } from './section-builder.js';

describe('SectionBuilder', () => {
  it('joins sections with a blank line and records exact offsets', () => {
    const builder = new SectionBuilder();
    builder.add('  first  ', 1, []);
    builder.add('', 2, ['ignored']);
    builder.add('second\nline', 3, ['A', 'B']);
    const { text, sections } = builder.build();
    expect(text).toBe('first\n\nsecond\nline');
    expect(sections).toEqual([
      { text: 'first', page: 1, headingPath: [], start: 0 },
      { text: 'second\nline', page: 3, headingPath: ['A', 'B'], start: 7 },
    ]);
    for (const section of sections)
      expect(text.slice(section.start, section.start + section.text.length)).toBe(section.text);
  });

  it('copies the heading path so later changes to the caller array do not leak in', () => {
    const builder = new SectionBuilder();
    const path = ['A'];
    builder.add('text', null, path);
    path.push('B');
    expect(builder.build().sections[0]?.headingPath).toEqual(['A']);
  });
});

describe('tidyText', () => {
  it('normalises line ends, trailing spaces, blank-line runs and control characters', () => {
    expect(tidyText('\n\nline one  \r\nline\u0007 two\t\r\n\r\n\r\n\r\nlast\u0000\n\n')).toBe(
      'line one\nline two\n\nlast',
    );
  });

  it('keeps indentation and tabs inside lines', () => {
    expect(tidyText('    code\tcell\n')).toBe('    code\tcell');
  });
});
