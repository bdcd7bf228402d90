import { describe, expect, it } from 'vitest';
import {
  extractQuestion,
  formatAnswerPrompt,
  formatPassage,
  formatPassages,
  parsePassages,
} from './passages.js';

describe('formatPassages', () => {
  it('numbers passages from 1, one line each, with an optional source', () => {
    const text = formatPassages([
      { text: 'First passage\nspanning lines.', source: 'guide (v2).pdf p. 3' },
      { text: '  Second passage.  ' },
    ]);
    expect(text).toBe('[1] (source: guide [v2].pdf p. 3) First passage spanning lines.\n[2] Second passage.');
  });

  it('collapses every kind of white-space run to one space, as /\\s+/ does', () => {
    // Single spaces, runs, lone non-space white space (tab, no-break space, line separator, BOM).
    const texts = [
      'a b',
      'a  b',
      'a\tb',
      ' a\u00a0b ',
      'a \n\r b',
      'a\u2028b\ufeffc',
      '\t',
      'a\u3000 \u3000b',
    ];
    for (const text of texts) {
      expect(formatPassages([{ text, source: text }])).toBe(
        `[1] ${text.trim() === '' ? '' : `(source: ${text.replace(/\s+/g, ' ').trim()}) `}${text.replace(/\s+/g, ' ').trim()}`,
      );
    }
  });

  it('is its lines, each formatted alone with its number, joined by newlines', () => {
    const passages = [
      { text: 'One\n passage.', source: 'a (1).md' },
      { text: 'Two.' },
      { text: ' Three ', source: '  ' },
    ];
    expect(passages.map((passage, i) => formatPassage(passage, i + 1)).join('\n')).toBe(
      formatPassages(passages),
    );
    expect(formatPassage(passages[1]!, 7)).toBe('[7] Two.');
  });

  it('reads back what it wrote, even passage text that looks like a marker', () => {
    const passages = [
      { text: 'Text that mentions [3] and (source: x) inside.', source: 'a.md' },
      { text: '[2] starts like a marker' },
    ];
    expect(parsePassages(formatAnswerPrompt('Why?', passages))).toEqual([
      { number: 1, text: 'Text that mentions [3] and (source: x) inside.', source: 'a.md' },
      { number: 2, text: '[2] starts like a marker' },
    ]);
  });
});

describe('extractQuestion', () => {
  it('reads the question after the label, else the non-passage lines', () => {
    expect(extractQuestion(formatAnswerPrompt('How long is the warranty?', [{ text: 'x' }]))).toBe(
      'How long is the warranty?',
    );
    expect(extractQuestion('[1] passage\nHow long is the warranty?')).toBe('How long is the warranty?');
  });
});
