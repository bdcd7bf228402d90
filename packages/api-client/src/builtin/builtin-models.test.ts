import { describe, expect, it } from 'vitest';
import { ApiAbortError, BadRequestError } from '../errors.js';
import type { ChatStreamChunk } from '../types.js';
import { BuiltinModels } from './builtin-models.js';
import { formatAnswerPrompt, NOT_FOUND_ANSWER } from './passages.js';

const models = new BuiltinModels();
const prompt = formatAnswerPrompt('How long does the warranty last?', [
  { text: 'The store opens at nine.' },
  { text: 'The warranty for every lamp lasts two full years from the day of purchase.' },
]);

describe('BuiltinModels', () => {
  it('embeds with the default dimension, or the one asked, and counts tokens', async () => {
    const result = await models.embeddings({ model: 'any-name', input: ['red lamp', 'blue chair legs'] });
    expect(result).toMatchObject({ model: 'any-name', dimension: 384, requests: 0 });
    expect(result.vectors).toHaveLength(2);
    expect(result.usage).toEqual({ promptTokens: 5, totalTokens: 5 });
    const small = await models.embeddings({ model: '', input: ['red lamp'], dimensions: 16 });
    expect(small.vectors[0]).toHaveLength(16);
    expect(small.model).toBe('quire-builtin-embed');
    expect(new BuiltinModels({ dimension: 32 }).dimension).toBe(32);
  });

  it('reranks with topN and returned documents', async () => {
    const result = await models.rerank({
      model: 'reranker',
      query: 'lamp warranty',
      documents: ['chairs', 'lamp warranty terms', 'lamp colours'],
      topN: 2,
      returnDocuments: true,
    });
    expect(result.results.map((item) => item.index)).toEqual([1, 2]);
    expect(result.results[0]!.document).toBe('lamp warranty terms');
    expect(result.usage.totalTokens).toBe(2 + 1 + 3 + 2);
  });

  it('answers with citations and usage', async () => {
    const result = await models.chat({ model: 'chat', messages: [{ role: 'user', content: prompt }] });
    expect(result.content).toBe(
      'The warranty for every lamp lasts two full years from the day of purchase. [2]',
    );
    expect(result.finishReason).toBe('stop');
    expect(result.usage.completionTokens).toBe(15);
    expect(result.usage.totalTokens).toBe(result.usage.promptTokens + 15);
  });

  it('answers NOT_FOUND_ANSWER without passages', async () => {
    const result = await models.chat({
      model: 'chat',
      messages: [{ role: 'user', content: 'What is love?' }],
    });
    expect(result.content).toBe(NOT_FOUND_ANSWER);
  });

  it('honours maxTokens and stop sequences', async () => {
    const messages = [{ role: 'user' as const, content: prompt }];
    const short = await models.chat({ model: 'chat', messages, maxTokens: 4 });
    expect(short).toMatchObject({ content: 'The warranty for every', finishReason: 'length' });
    const stopped = await models.chat({ model: 'chat', messages, stop: [' two'] });
    expect(stopped.content).toBe('The warranty for every lamp lasts');
  });

  it('streams the same answer in several chunks, the last with usage', async () => {
    const params = { model: 'chat', messages: [{ role: 'user' as const, content: prompt }] };
    const chunks: ChatStreamChunk[] = [];
    for await (const chunk of models.chatStream(params)) chunks.push(chunk);
    const whole = await models.chat(params);
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks.map((chunk) => chunk.delta).join('')).toBe(whole.content);
    expect(chunks.at(-1)).toEqual({ delta: '', finishReason: 'stop', usage: whole.usage });
    expect(chunks.slice(0, -1).every((chunk) => chunk.usage === undefined)).toBe(true);
  });

  it('rejects invalid parameters as a 400', async () => {
    await expect(models.embeddings({ model: 'e', input: ['x'], dimensions: 0 })).rejects.toBeInstanceOf(
      BadRequestError,
    );
    await expect(models.rerank({ model: 'r', query: 'q', documents: ['d'], topN: 0 })).rejects.toMatchObject({
      status: 400,
      retryable: false,
      endpoint: '/rerank',
    });
    await expect(models.chat({ model: 'c', messages: [] })).rejects.toBeInstanceOf(BadRequestError);
    expect(() => new BuiltinModels({ dimension: 0 })).toThrow(RangeError);
  });

  it('honours an aborted signal', async () => {
    const controller = new AbortController();
    controller.abort();
    const options = { signal: controller.signal };
    await expect(models.embeddings({ model: 'e', input: ['x'] }, options)).rejects.toBeInstanceOf(
      ApiAbortError,
    );
    const stream = models.chatStream({ model: 'c', messages: [{ role: 'user', content: prompt }] }, options);
    await expect(stream[Symbol.asyncIterator]().next()).rejects.toBeInstanceOf(ApiAbortError);
  });
});
