import { describe, expect, it } from 'vitest';
import { extractQuestion, formatAnswerPrompt, formatPassages, parsePassages } from './passages.js';

describe('formatPassages', () => {
  it('numbers passages from 1, one line each, with an optional source', () => {
    const text = formatPassages([
      { text: 'First passage\nspanning lines.', source: 'guide (v2).pdf p. 3' },
      { text: '  Second passage.  ' },
    ]);
    expect(text).toBe('[1] (source: guide [v2].pdf p. 3) First passage spanning lines.\n[2] Second passage.');
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
