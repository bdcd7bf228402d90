import { describe, expect, it } from 'vitest';
import { chatCompletionChunks, decodeFloat32Base64, encodeFloat32Base64, splitWords } from './wire.js';

describe('float32 base64', () => {
  it('round-trips float32 values in little-endian order', () => {
    const vector = [0, 1, -1, 0.5, Math.fround(0.1), -3.25e-8];
    const encoded = encodeFloat32Base64(vector);
    expect(Buffer.from(encoded, 'base64')).toHaveLength(vector.length * 4);
    expect(Buffer.from(encoded, 'base64').readFloatLE(4)).toBe(1);
    expect(decodeFloat32Base64(encoded)).toEqual(vector.map(Math.fround));
  });

  it('refuses a payload that is not whole floats', () => {
    expect(() => decodeFloat32Base64(Buffer.from([1, 2, 3]).toString('base64'))).toThrow(/multiple of 4/);
  });
});

describe('splitWords', () => {
  it('cuts before each word and joins back to the original', () => {
    const text = '  Chamomile calms\nsensitive skin [1].  ';
    const pieces = splitWords(text);
    expect(pieces).toEqual(['  ', 'Chamomile ', 'calms\n', 'sensitive ', 'skin ', '[1].  ']);
    expect(pieces.join('')).toBe(text);
    expect(splitWords('')).toEqual([]);
  });
});

describe('chatCompletionChunks', () => {
  const result = {
    model: 'm',
    content: 'Yes [1].',
    finishReason: 'stop',
    usage: { promptTokens: 3, completionTokens: 2, totalTokens: 5 },
  };

  it('sends role, words, finish reason, then usage with empty choices', () => {
    const chunks = chatCompletionChunks('chatcmpl-1', 1700000000, 'm', result, true) as {
      choices: { delta: object; finish_reason: string | null }[];
      usage: object | null;
    }[];
    expect(chunks.map((c) => c.choices[0]?.delta ?? null)).toEqual([
      { role: 'assistant', content: '' },
      { content: 'Yes ' },
      { content: '[1].' },
      {},
      null,
    ]);
    expect(chunks[3]!.choices[0]!.finish_reason).toBe('stop');
    expect(chunks.slice(0, 4).every((c) => c.usage === null)).toBe(true);
    expect(chunks[4]).toMatchObject({
      object: 'chat.completion.chunk',
      choices: [],
      usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
    });
  });

  it('leaves usage out entirely unless asked', () => {
    const chunks = chatCompletionChunks('chatcmpl-1', 1700000000, 'm', result, false);
    expect(chunks).toHaveLength(4);
    expect(chunks.every((c) => !('usage' in c))).toBe(true);
  });
});
