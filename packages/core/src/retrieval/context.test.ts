import { formatPassage, formatPassages, parsePassages } from '@quire/api-client';
import { describe, expect, it } from 'vitest';
import { countTokens } from '../chunker/index.js';
import { QuireError } from '../errors.js';
import { rankedPassage } from './__tests__/fakes.js';
import { buildContext, passageLineTokens, passageSourceLabel } from './context.js';
import { oneLine } from './internal.js';

const SENTENCES = [
  'The reactor was commissioned in 1978 after six years of construction.',
  'Its cooling towers are visible from the motorway.',
  'It was shut down in 2011 and is being dismantled.',
  'The site will become a solar park.',
];

describe('buildContext', () => {
  it('numbers passages in rank order with their document and pages, as formatPassages does', () => {
    const passages = [
      rankedPassage(
        { documentId: 'a', text: 'First\n  passage.', sourceName: 'handbook.pdf', pageStart: 3 },
        1,
      ),
      rankedPassage(
        {
          documentId: 'b',
          text: 'Second passage.',
          sourceName: 'report (final).pdf',
          pageStart: 3,
          pageEnd: 5,
        },
        2,
      ),
      rankedPassage({ documentId: 'c', text: 'Third passage.', sourceName: 'notes.md' }, 3),
    ];
    const context = buildContext(passages);
    expect(context.text).toBe(
      [
        '[1] (source: handbook.pdf p. 3) First passage.',
        '[2] (source: report [final].pdf pp. 3–5) Second passage.',
        '[3] (source: notes.md) Third passage.',
      ].join('\n'),
    );
    expect(context.passages.map((p) => [p.number, p.passage.record.documentId, p.text, p.truncated])).toEqual(
      [
        [1, 'a', 'First passage.', false],
        [2, 'b', 'Second passage.', false],
        [3, 'c', 'Third passage.', false],
      ],
    );
    expect(context.dropped).toBe(0);
    expect(context.tokens).toBe(countTokens(context.text));
    expect(parsePassages(context.text).map((p) => [p.number, p.source, p.text])).toEqual([
      [1, 'handbook.pdf p. 3', 'First passage.'],
      [2, 'report [final].pdf pp. 3–5', 'Second passage.'],
      [3, 'notes.md', 'Third passage.'],
    ]);
  });

  it('labels sources without a name by document id', () => {
    expect(passageSourceLabel({ sourceName: ' ', documentId: 'doc-9', pageStart: 2, pageEnd: 2 })).toBe(
      'doc-9 p. 2',
    );
  });

  it('drops trailing passages that do not fit the budget, and never cuts one that is not first', () => {
    const texts = SENTENCES.map((s, i) => `${s} Passage ${i} ends here.`);
    const passages = texts.map((text, i) => rankedPassage({ documentId: `d${i}`, text }, i + 1));
    const two = formatPassages(texts.slice(0, 2).map((text, i) => ({ text, source: `d${i}.txt` })));
    const exact = buildContext(passages, { tokenBudget: countTokens(two) });
    expect(exact.passages.map((p) => p.number)).toEqual([1, 2]);
    expect(exact.text).toBe(two);
    expect(exact.dropped).toBe(2);
    expect(exact.passages.every((p) => !p.truncated)).toBe(true);

    const less = buildContext(passages, { tokenBudget: countTokens(two) - 1 });
    expect(less.passages.map((p) => p.text)).toEqual([texts[0]]);
    expect(less.tokens).toBeLessThanOrEqual(countTokens(two) - 1);
  });

  it('stops at the first passage that does not fit, keeping the rank order', () => {
    const passages = [
      rankedPassage({ documentId: 'short-1', text: 'Short one.' }, 1),
      rankedPassage({ documentId: 'long', text: SENTENCES.join(' ').repeat(5) }, 2),
      rankedPassage({ documentId: 'short-2', text: 'Short two.' }, 3),
    ];
    const context = buildContext(passages, { tokenBudget: 40 });
    expect(context.passages.map((p) => p.passage.record.documentId)).toEqual(['short-1']);
    expect(context.dropped).toBe(2);
  });

  it('cuts a first passage that alone exceeds the budget at a sentence boundary', () => {
    const text = SENTENCES.join(' ');
    const source = 'plant.txt';
    const budget = countTokens(formatPassages([{ text: `${SENTENCES[0]} ${SENTENCES[1]}`, source }])) + 3;
    const context = buildContext(
      [
        rankedPassage({ documentId: 'plant', text, sourceName: source }, 1),
        rankedPassage({ documentId: 'x', text: 'More.' }, 2),
      ],
      { tokenBudget: budget },
    );
    expect(context.passages).toHaveLength(1);
    expect(context.passages[0]).toMatchObject({ text: `${SENTENCES[0]} ${SENTENCES[1]}`, truncated: true });
    expect(context.tokens).toBeLessThanOrEqual(budget);
    expect(context.dropped).toBe(1);
  });

  it('cuts at a word boundary when even the first sentence is too long, and refuses a hopeless budget', () => {
    const text = SENTENCES.join(' ');
    const context = buildContext([rankedPassage({ documentId: 'p', text, sourceName: 'p.txt' }, 1)], {
      tokenBudget: 16,
    });
    const shown = context.passages[0]!;
    expect(shown.truncated).toBe(true);
    expect(shown.text.endsWith('…')).toBe(true);
    expect(SENTENCES[0]!.startsWith(shown.text.slice(0, -1))).toBe(true);
    expect(shown.text.length).toBeGreaterThan(1);
    expect(context.tokens).toBeLessThanOrEqual(16);

    const error = (() => {
      try {
        buildContext(
          [rankedPassage({ documentId: 'p', text, sourceName: 'a-rather-long-source-name.pdf' }, 1)],
          {
            tokenBudget: 5,
          },
        );
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(QuireError);
    expect((error as QuireError).message).toMatch(/tokenBudget 5 cannot hold/);
  });

  it('uses a 3000-token budget by default', () => {
    const long = `${SENTENCES.join(' ')} `.repeat(40);
    expect(countTokens(long)).toBeGreaterThan(1000);
    const passages = [1, 2, 3, 4].map((i) => rankedPassage({ documentId: `d${i}`, text: long }, i));
    const context = buildContext(passages);
    expect(context.tokens).toBeLessThanOrEqual(3000);
    expect(context.passages.length).toBeLessThan(4);
    expect(buildContext(passages, { tokenBudget: 100_000 }).passages).toHaveLength(4);
    expect(() => buildContext(passages, { tokenBudget: 0 })).toThrow(/tokenBudget must be an integer/);
  });

  it('counts special-token strings in documents as plain text', () => {
    const context = buildContext([
      rankedPassage({ documentId: 'odd', text: 'Ends with <|endoftext|> here.' }, 1),
    ]);
    expect(context.passages[0]!.text).toBe('Ends with <|endoftext|> here.');
    expect(context.tokens).toBe(countTokens(context.text));
  });

  it('gives an empty block for no passages', () => {
    expect(buildContext([])).toEqual({ text: '', passages: [], tokens: 0, dropped: 0 });
  });
});

describe('passageLineTokens', () => {
  const sources = ['', 'a.pdf', 'report (final).pdf pp. 3–5', 'notes.', '日本語.txt', "it's (x)"];
  const expectExact = (text: string) => {
    for (const source of sources) {
      for (const number of [1, 9, 10, 123]) {
        const exact = countTokens(formatPassage({ text, source }, number));
        // Counted, then from the cache.
        expect(passageLineTokens(text, source, number), JSON.stringify([text, source, number])).toBe(exact);
        expect(passageLineTokens(text, source, number)).toBe(exact);
      }
    }
  };

  it('counts a line as its whole text would be counted, whatever the text starts with', () => {
    for (const text of [
      '',
      'Word first.',
      "'s and 're start with a contraction",
      "'S upper",
      '123456 digits first',
      '(parenthesis) first',
      ') closing first',
      '.leading dot',
      '— dash',
      '日本語の文です。',
      '🎉 emoji first',
      '\u00e9t\u00e9 accents',
      '[2] looks like a number',
      'x',
    ]) {
      expectExact(oneLine(text));
    }
  });

  it('agrees with the whole line’s count on random text', () => {
    const alphabet = [
      'a',
      'Z',
      'é',
      '1',
      '9',
      ' ',
      ' ',
      "'",
      's',
      't',
      '.',
      ',',
      '(',
      ')',
      '[',
      ']',
      '-',
      '日',
      '本',
      '😀',
      '\n',
      '\t',
      '\u00a0',
      '\u3000',
      "'s",
      "'re",
    ];
    let seed = 7;
    const next = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed;
    };
    for (let i = 0; i < 400; i++) {
      let text = '';
      const length = next() % 40;
      for (let j = 0; j < length; j++) text += alphabet[next() % alphabet.length];
      expectExact(oneLine(text));
    }
  });
});
