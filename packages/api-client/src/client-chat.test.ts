import { describe, expect, it } from 'vitest';
import { fakeFetch, json, sse } from './__tests__/fake-fetch.js';
import { ModelClient } from './client.js';
import { ApiError, ApiTimeoutError, InvalidResponseError } from './errors.js';
import type { ChatStreamChunk } from './types.js';

const BASE_URL = 'https://models.test/v1';
const MESSAGES = [
  { role: 'system' as const, content: 'Answer from the passages.' },
  { role: 'user' as const, content: 'Question: why?' },
];

async function collect(stream: AsyncIterable<ChatStreamChunk>): Promise<ChatStreamChunk[]> {
  const chunks: ChatStreamChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

function event(data: unknown): string {
  return `data: ${JSON.stringify(data)}\n\n`;
}

describe('ModelClient.chat', () => {
  it('posts a completion request and reads the first choice and usage', async () => {
    const { fetch, calls } = fakeFetch(() =>
      json({
        id: 'c1',
        model: 'gpt-x-2025',
        choices: [
          { index: 0, message: { role: 'assistant', content: 'Because. [1]' }, finish_reason: 'stop' },
        ],
        usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 },
      }),
    );
    const client = new ModelClient({ baseURL: BASE_URL, fetch });
    const result = await client.chat({
      model: 'gpt-x',
      messages: MESSAGES,
      temperature: 0,
      maxTokens: 50,
      stop: ['\n\n'],
    });
    expect(calls[0]!.url).toBe(`${BASE_URL}/chat/completions`);
    expect(calls[0]!.body).toEqual({
      model: 'gpt-x',
      messages: MESSAGES,
      temperature: 0,
      max_tokens: 50,
      stop: ['\n\n'],
    });
    expect(result).toEqual({
      model: 'gpt-x-2025',
      content: 'Because. [1]',
      finishReason: 'stop',
      usage: { promptTokens: 12, completionTokens: 3, totalTokens: 15 },
    });
  });

  it('rejects a completion without choices', async () => {
    const { fetch } = fakeFetch(() => json({ choices: [] }));
    const client = new ModelClient({ baseURL: BASE_URL, fetch });
    await expect(client.chat({ model: 'm', messages: MESSAGES })).rejects.toBeInstanceOf(
      InvalidResponseError,
    );
  });
});

describe('ModelClient.chatStream', () => {
  const deltas = ['Hel', 'lo – ', '世界', '!'];
  const body =
    ': comment from a proxy\n\n' +
    event({ choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] }) +
    deltas
      .map((content) => event({ choices: [{ index: 0, delta: { content }, finish_reason: null }] }))
      .join('') +
    event({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }) +
    // A multi-line event: data lines are joined with a newline, which is JSON whitespace.
    'data: {"choices":[],\r\ndata: "usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13}}\r\n\r\n' +
    'data: [DONE]\n\n';
  const expected: ChatStreamChunk[] = [
    ...deltas.map((delta) => ({ delta, finishReason: null })),
    { delta: '', finishReason: 'stop' },
    { delta: '', finishReason: null, usage: { promptTokens: 9, completionTokens: 4, totalTokens: 13 } },
  ];

  it('asks for a stream with usage and parses its events', async () => {
    const { fetch, calls } = fakeFetch(() => sse([body]));
    const client = new ModelClient({ baseURL: BASE_URL, fetch });
    expect(await collect(client.chatStream({ model: 'm', messages: MESSAGES }))).toEqual(expected);
    expect(calls[0]!.body).toEqual({
      model: 'm',
      messages: MESSAGES,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(calls[0]!.headers.get('accept')).toBe('text/event-stream');
  });

  it('parses the same events whatever the chunk boundaries, even inside a character', async () => {
    const bytes = new TextEncoder().encode(body);
    for (const size of [1, 2, 3, 5, 7, 64]) {
      const pieces: Uint8Array[] = [];
      for (let i = 0; i < bytes.length; i += size) pieces.push(bytes.slice(i, i + size));
      const { fetch } = fakeFetch(() => sse(pieces));
      const client = new ModelClient({ baseURL: BASE_URL, fetch });
      expect(await collect(client.chatStream({ model: 'm', messages: MESSAGES }))).toEqual(expected);
    }
  });

  it('stops at [DONE] without reading further', async () => {
    const { fetch } = fakeFetch(() =>
      sse([event({ choices: [{ delta: { content: 'a' }, finish_reason: 'stop' }] }), 'data: [DONE]\n\n'], {
        hangAtEnd: true,
      }),
    );
    const client = new ModelClient({ baseURL: BASE_URL, fetch, timeout: 10_000 });
    expect(await collect(client.chatStream({ model: 'm', messages: MESSAGES }))).toEqual([
      { delta: 'a', finishReason: 'stop' },
    ]);
  });

  it('ends a silent stream with a timeout', async () => {
    const { fetch } = fakeFetch(() =>
      sse([event({ choices: [{ delta: { content: 'a' } }] })], { hangAtEnd: true }),
    );
    const client = new ModelClient({ baseURL: BASE_URL, fetch, timeout: 50 });
    const chunks: ChatStreamChunk[] = [];
    const error = await (async () => {
      for await (const chunk of client.chatStream({ model: 'm', messages: MESSAGES })) chunks.push(chunk);
    })().catch((e: unknown) => e);
    expect(chunks).toEqual([{ delta: 'a', finishReason: null }]);
    expect(error).toBeInstanceOf(ApiTimeoutError);
  });

  it('raises an error event sent inside the stream', async () => {
    const { fetch } = fakeFetch(() =>
      sse([
        event({ choices: [{ delta: { content: 'a' } }] }),
        event({ error: { message: 'model overloaded', type: 'server_error' } }),
      ]),
    );
    const client = new ModelClient({ baseURL: BASE_URL, fetch });
    await expect(collect(client.chatStream({ model: 'm', messages: MESSAGES }))).rejects.toMatchObject({
      constructor: ApiError,
      code: 'server_error',
      providerMessage: 'model overloaded',
      retryable: false,
    });
  });

  it('tells a stream cut short from a finished one', async () => {
    const { fetch } = fakeFetch(
      () => sse([event({ choices: [{ delta: { content: 'Half an' } }] })]),
      () => sse([event({ choices: [{ delta: { content: 'Whole.' }, finish_reason: 'stop' }] })]),
    );
    const client = new ModelClient({ baseURL: BASE_URL, fetch });
    await expect(collect(client.chatStream({ model: 'm', messages: MESSAGES }))).rejects.toThrow(
      'stream ended before the answer was complete',
    );
    expect(await collect(client.chatStream({ model: 'm', messages: MESSAGES }))).toEqual([
      { delta: 'Whole.', finishReason: 'stop' },
    ]);
  });

  it('rejects an event that is not JSON', async () => {
    const { fetch } = fakeFetch(() => sse(['data: {not json\n\n']));
    const client = new ModelClient({ baseURL: BASE_URL, fetch });
    await expect(collect(client.chatStream({ model: 'm', messages: MESSAGES }))).rejects.toBeInstanceOf(
      InvalidResponseError,
    );
  });

  it('retries before the stream starts', async () => {
    const { fetch, calls } = fakeFetch(
      () => json({ error: { message: 'busy' } }, 503, { 'retry-after-ms': '1' }),
      () => sse([event({ choices: [{ delta: { content: 'ok' }, finish_reason: 'stop' }] })]),
    );
    const client = new ModelClient({ baseURL: BASE_URL, fetch });
    expect(await collect(client.chatStream({ model: 'm', messages: MESSAGES }))).toEqual([
      { delta: 'ok', finishReason: 'stop' },
    ]);
    expect(calls).toHaveLength(2);
  });
});
