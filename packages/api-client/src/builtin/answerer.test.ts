import { describe, expect, it } from 'vitest';
import { answerFromMessages, extractiveAnswer } from './answerer.js';
import { formatAnswerPrompt, NOT_FOUND_ANSWER } from './passages.js';

const PASSAGES = [
  {
    number: 1,
    text: 'Organic skincare for sensitive skin with aloe vera and chamomile. Clinically tested and hypoallergenic.',
  },
  { number: 2, text: 'New makeup trends focus on bold colors. The lamp warranty lasts two years.' },
  { number: 3, text: '東京は日本の首都です。大阪は大きな都市です。' },
];

describe('extractiveAnswer', () => {
  it('quotes the best sentence and cites its passage', () => {
    expect(extractiveAnswer('How long does the lamp warranty last?', PASSAGES)).toEqual({
      content: 'The lamp warranty lasts two years. [2]',
      citations: [2],
      found: true,
    });
  });

  it('quotes several sentences of one passage under one citation', () => {
    const answer = extractiveAnswer('Is the organic skincare clinically tested?', PASSAGES);
    expect(answer.content).toBe(
      'Organic skincare for sensitive skin with aloe vera and chamomile. Clinically tested and hypoallergenic. [1]',
    );
  });

  it('cites each passage it quotes from', () => {
    const answer = extractiveAnswer('Which colors and warranty?', [
      { number: 1, text: 'The lamp comes in three colors.' },
      { number: 2, text: 'Its warranty covers two years.' },
    ]);
    expect(answer.citations).toEqual([1, 2]);
    expect(answer.content).toBe('The lamp comes in three colors. [1] Its warranty covers two years. [2]');
  });

  it('answers from text without spaces', () => {
    // The best sentence and the one after it (which often holds what the question asks for).
    expect(extractiveAnswer('日本の首都はどこですか', PASSAGES).content).toBe(
      '東京は日本の首都です。 大阪は大きな都市です。 [3]',
    );
    expect(extractiveAnswer('日本の首都はどこですか', PASSAGES, { followingSentence: false }).content).toBe(
      '東京は日本の首都です。 [3]',
    );
  });

  it('says it found nothing when no sentence is relevant enough, or there are no passages', () => {
    expect(extractiveAnswer('What is the boiling point of mercury?', PASSAGES)).toEqual({
      content: NOT_FOUND_ANSWER,
      citations: [],
      found: false,
    });
    expect(extractiveAnswer('How long is the warranty?', []).content).toBe(NOT_FOUND_ANSWER);
  });

  it('drops the question words of other languages, so that they do not sink the answer', () => {
    const german = [{ number: 1, text: 'Der erste Zeuge war der Hutmacher. Er kam mit einer Tasse herein.' }];
    expect(extractiveAnswer('Wer war der erste Zeuge?', german, { followingSentence: false }).content).toBe(
      'Der erste Zeuge war der Hutmacher. [1]',
    );
    const chinese = [{ number: 1, text: '贾芸道：“十八岁。”宝玉笑道：“是了。”' }];
    expect(extractiveAnswer('贾芸今年多大？', chinese).found).toBe(true);
    const japanese = [
      {
        number: 1,
        text: '校長は薄髯のある、色の黒い、目の大きな狸のような男である。やにもったいぶっていた。',
      },
    ];
    expect(
      extractiveAnswer('校長はどんな動物のような男だったか？', japanese, { followingSentence: false })
        .content,
    ).toBe('校長は薄髯のある、色の黒い、目の大きな狸のような男である。 [1]');
  });

  it('does not take a one-character word inside another word for it', () => {
    // 年 and 日 of the question are in 年来 ("for years") and 今日 ("today") only.
    const passages = [{ number: 1, text: '今日は年来の友と会った。' }];
    expect(extractiveAnswer('社員の有給休暇は年に何日ありますか？', passages).found).toBe(false);
    const answered = [{ number: 1, text: '休暇は年に十日ある。' }];
    expect(extractiveAnswer('社員の有給休暇は年に何日ありますか？', answered).found).toBe(true);
  });

  it('quotes prose, not markup', () => {
    const answer = extractiveAnswer('How many jobs does a worker run at once?', [
      {
        number: 1,
        text: '## Concurrency\n\nA **worker** runs `concurrency` jobs at once (see [the guide](https://x.io)).',
      },
    ]);
    expect(answer.content).toBe('A worker runs concurrency jobs at once (see the guide). [1]');
  });

  it('is deterministic', () => {
    const question = 'What does the skincare contain?';
    expect(extractiveAnswer(question, PASSAGES)).toEqual(extractiveAnswer(question, PASSAGES));
  });
});

describe('answerFromMessages', () => {
  it('reads passages and question from the conversation', () => {
    const answer = answerFromMessages([
      { role: 'system', content: 'Answer only from the passages and cite them.' },
      {
        role: 'user',
        content: formatAnswerPrompt('How long does the warranty last?', [
          { text: 'The store opens at nine.' },
          { text: 'The warranty lasts two years.', source: 'terms.pdf' },
        ]),
      },
    ]);
    expect(answer.content).toBe('The warranty lasts two years. [2]');
  });

  it('finds nothing without a user message', () => {
    expect(answerFromMessages([{ role: 'system', content: '[1] The warranty lasts two years.' }]).found).toBe(
      false,
    );
  });
});
