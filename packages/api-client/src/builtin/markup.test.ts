import { describe, expect, it } from 'vitest';
import { stripMarkup } from './markup.js';

describe('stripMarkup', () => {
  it('takes Markdown and HTML marks out and keeps the words', () => {
    expect(
      stripMarkup(
        '## Workers\n\nUse **`concurrency`** to run _several_ jobs, see [the guide](https://x.io/a(b)).',
      ),
    ).toBe('Workers\n\nUse concurrency to run several jobs, see the guide.');
    expect(stripMarkup('```ts\nconst worker = new Worker(q);\n```')).toBe('const worker = new Worker(q);');
    expect(stripMarkup('| name | rate |\n| --- | --- |\n| redis | 10 |')).toBe('name rate redis 10');
    expect(stripMarkup('<p>The <b>lamp</b> burns oil.</p>')).toBe('The lamp burns oil.');
    expect(stripMarkup('- first item\n- second item')).toBe('first item\nsecond item');
  });

  it('leaves prose, snake_case names and arithmetic alone', () => {
    expect(stripMarkup('Set max_retries to 2 * 3 = 6.')).toBe('Set max_retries to 2 * 3 = 6.');
    expect(stripMarkup('東京は日本の首都です。')).toBe('東京は日本の首都です。');
  });
});
