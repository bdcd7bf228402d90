import { describe, expect, it } from 'vitest';
import { detectLanguage, stopwordsOf } from './language.js';

describe('detectLanguage', () => {
  it('tells languages apart by script, then by function words', () => {
    expect(detectLanguage('What fuel does the lamp burn?')).toBe('en');
    expect(detectLanguage('Wer war der erste Zeuge bei der Verhandlung?')).toBe('de');
    expect(detectLanguage('贾芸今年多大？')).toBe('zh');
    expect(detectLanguage('校長はどんな動物のような男だったか？')).toBe('ja');
    expect(detectLanguage('ماذا يأكل القط؟')).toBe('ar');
    expect(detectLanguage('Lamp 42')).toBe('en');
  });
});

describe('stopwordsOf', () => {
  it('holds the question words of each language, from the packages', () => {
    expect(stopwordsOf('en').has('what')).toBe(true);
    expect(stopwordsOf('en').has('lamp')).toBe(false);
    expect(['wer', 'wann', 'was'].every((w) => stopwordsOf('de').has(w))).toBe(true);
    expect(['什么', '多少'].every((w) => stopwordsOf('zh').has(w))).toBe(true);
    expect(['何', 'の', 'です'].every((w) => stopwordsOf('ja').has(w))).toBe(true);
    expect(stopwordsOf('ar').has('ماذا')).toBe(true);
    expect(stopwordsOf('xx').size).toBe(0);
  });
});
