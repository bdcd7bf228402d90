import { NOT_FOUND_ANSWER } from '@quire/api-client';
import { beforeEach, describe, expect, it } from 'vitest';
import { QuireError } from '../errors.js';
import { CountingModels, rankedPassage } from './__tests__/fakes.js';
import { buildContext } from './context.js';
import { generateAnswer } from './generate.js';
import { ANSWER_SYSTEM_PROMPT } from './prompts.js';

const LONG = `${'The lighthouse at Cape Wrath was built in 1828 by Robert Stevenson. '.repeat(5)}`.trim();

const context = buildContext([
  rankedPassage(
    { documentId: 'lighthouse', text: LONG, sourceName: 'cape.pdf', pageStart: 4, pageEnd: 5, chunkIndex: 7 },
    1,
  ),
  rankedPassage(
    {
      documentId: 'ferry',
      text: 'The ferry to Orkney leaves Scrabster twice a day.',
      sourceName: 'ferry.md',
    },
    2,
  ),
]);

describe('generateAnswer', () => {
  let models: CountingModels;
  beforeEach(() => {
    models = new CountingModels();
  });
  const base = () => ({
    models,
    chatModel: 'chat',
    question: 'When was the lighthouse at Cape Wrath built?',
    context,
  });

  it('sends the system prompt and the passages, and returns citations with their sources', async () => {
    const signal = new AbortController().signal;
    const result = await generateAnswer({ ...base(), maxTokens: 200, temperature: 0, signal });
    expect(models.calls.chat).toBe(1);
    expect(models.signals).toEqual([signal]);
    const request = models.chatRequests[0]!;
    expect(request).toMatchObject({ model: 'chat', maxTokens: 200, temperature: 0 });
    expect(request.messages[0]).toEqual({ role: 'system', content: ANSWER_SYSTEM_PROMPT });
    expect(request.messages[1]!.content).toContain(context.text);
    expect(result.generated).toBe(true);
    expect(result.notFound).toBe(false);
    expect(result.answer).toContain('1828');
    expect(result.answer).toMatch(/\[1\]$/);
    expect(result.citations).toHaveLength(1);
    const citation = result.citations[0]!;
    expect(citation).toMatchObject({
      number: 1,
      documentId: 'lighthouse',
      sourceName: 'cape.pdf',
      pageStart: 4,
      pageEnd: 5,
      chunkIndex: 7,
    });
    expect(citation.excerpt.endsWith('…')).toBe(true);
    expect(citation.excerpt.length).toBeLessThanOrEqual(201);
    expect(LONG.startsWith(citation.excerpt.slice(0, -1))).toBe(true);
    expect(result.usage.promptTokens).toBeGreaterThan(0);
    expect(result.usage.completionTokens).toBeGreaterThan(0);
    expect(result.removedCitations).toEqual([]);
  });

  it('removes citations to passages that do not exist and reports them', async () => {
    models.chatContent = 'It was built in 1828 [1][3]. The ferry leaves twice a day [2, 5]. Also [9].';
    const result = await generateAnswer(base());
    expect(result.answer).toBe('It was built in 1828 [1]. The ferry leaves twice a day [2]. Also.');
    expect(result.removedCitations).toEqual([3, 5, 9]);
    expect(result.citations.map((c) => [c.number, c.documentId, c.excerpt])).toEqual([
      [1, 'lighthouse', expect.any(String)],
      [2, 'ferry', 'The ferry to Orkney leaves Scrabster twice a day.'],
    ]);
  });

  it("renumbers a model's citations in order of first use and says which passage each number is", async () => {
    models.chatContent = 'The ferry leaves twice a day [2]. The lighthouse dates from 1828 [1][2].';
    const result = await generateAnswer(base());
    expect(result.answer).toBe('The ferry leaves twice a day [1]. The lighthouse dates from 1828 [2][1].');
    expect(result.citations.map((c) => [c.number, c.documentId])).toEqual([
      [1, 'ferry'],
      [2, 'lighthouse'],
    ]);
    expect(result.passageOrder).toEqual([2, 1]);
  });

  it('puts uncited passages after the cited ones, and numbers the rest without a gap', async () => {
    models.chatContent = 'Only the ferry [2].';
    const result = await generateAnswer(base());
    expect(result.answer).toBe('Only the ferry [1].');
    expect(result.citations.map((c) => [c.number, c.documentId])).toEqual([[1, 'ferry']]);
    expect(result.passageOrder).toEqual([2, 1]);
  });

  it('recognises the not-found sentence, give or take case and quotes', async () => {
    models.chatContent = `"${NOT_FOUND_ANSWER.toUpperCase()}"`;
    const result = await generateAnswer(base());
    expect(result).toMatchObject({
      answer: NOT_FOUND_ANSWER,
      notFound: true,
      generated: true,
      citations: [],
    });
  });

  it('makes no call without passages', async () => {
    const result = await generateAnswer({ ...base(), context: buildContext([]) });
    expect(result).toMatchObject({ answer: NOT_FOUND_ANSWER, notFound: true, generated: false });
    expect(models.calls.chat).toBe(0);
  });

  it('rejects an empty answer and a bad maxTokens', async () => {
    models.chatContent = '  ';
    const error = await generateAnswer(base()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QuireError);
    expect((error as QuireError).code).toBe('answer_failed');
    expect((error as QuireError).message).toMatch(/returned an empty answer \(finish reason: stop\)/);
    await expect(generateAnswer({ ...base(), maxTokens: 0 })).rejects.toThrow(/maxTokens must be an integer/);
  });

  it('rejects with the abort reason when aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('no longer needed'));
    await expect(generateAnswer({ ...base(), signal: controller.signal })).rejects.toThrow(
      'no longer needed',
    );
    expect(models.calls.chat).toBe(0);
  });
});
