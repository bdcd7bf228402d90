import type { ChatResult, EmbeddingsResult, RerankResult } from '@quire/api-client';

/** OpenAI's error body, which Jina and Cohere clients also understand well enough. */
export interface WireError {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export function errorBody(
  message: string,
  type: string,
  code: string | null,
  param: string | null = null,
): WireError {
  return { error: { message, type, param, code } };
}

/** A plausible body for a status when a scripted response gives none. */
export function defaultErrorBody(status: number): WireError {
  if (status === 429)
    return errorBody('Rate limit reached. Please try again later.', 'requests', 'rate_limit_exceeded');
  if (status === 401)
    return errorBody('Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key');
  if (status >= 500)
    return errorBody('The server had an error while processing your request.', 'server_error', null);
  return errorBody(`Request failed with status ${status}.`, 'invalid_request_error', null);
}

/** Float32 little-endian bytes in base64, as OpenAI sends for `encoding_format: 'base64'`. */
export function encodeFloat32Base64(vector: readonly number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  for (let i = 0; i < vector.length; i += 1) bytes.writeFloatLE(vector[i]!, i * 4);
  return bytes.toString('base64');
}

/** Inverse of {@link encodeFloat32Base64}; exported for tests and clients of this server. */
export function decodeFloat32Base64(text: string): number[] {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length % 4 !== 0)
    throw new Error(`base64 embedding has ${bytes.length} bytes, not a multiple of 4`);
  const vector: number[] = new Array(bytes.length / 4);
  for (let i = 0; i < vector.length; i += 1) vector[i] = bytes.readFloatLE(i * 4);
  return vector;
}

export function embeddingsBody(
  result: EmbeddingsResult,
  model: string,
  vectors: readonly (readonly number[])[],
  encoding: 'float' | 'base64',
) {
  return {
    object: 'list' as const,
    data: vectors.map((vector, index) => ({
      object: 'embedding' as const,
      index,
      embedding: encoding === 'base64' ? encodeFloat32Base64(vector) : [...vector],
    })),
    model,
    usage: { prompt_tokens: result.usage.promptTokens, total_tokens: result.usage.totalTokens },
  };
}

export function rerankBody(
  id: string,
  result: RerankResult,
  model: string,
  documents: readonly string[],
  returnDocuments: boolean,
) {
  return {
    id,
    model,
    results: result.results.map((item) => ({
      index: item.index,
      relevance_score: item.relevanceScore,
      ...(returnDocuments ? { document: { text: documents[item.index] ?? '' } } : {}),
    })),
    usage: { total_tokens: result.usage.totalTokens },
  };
}

export function usageBody(usage: ChatResult['usage']) {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.totalTokens,
  };
}

export function chatCompletionBody(id: string, created: number, model: string, result: ChatResult) {
  return {
    id,
    object: 'chat.completion' as const,
    created,
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant' as const, content: result.content },
        logprobs: null,
        finish_reason: result.finishReason ?? 'stop',
      },
    ],
    usage: usageBody(result.usage),
  };
}

/**
 * The `chat.completion.chunk` events of a streamed answer, OpenAI's way: a first chunk with the role,
 * one per word, one with `finish_reason`, then (with `include_usage`) one with empty `choices` and the
 * usage. The caller writes each as `data: <json>` and ends with `data: [DONE]`.
 */
export function chatCompletionChunks(
  id: string,
  created: number,
  model: string,
  result: ChatResult,
  includeUsage: boolean,
): object[] {
  const head = { id, object: 'chat.completion.chunk' as const, created, model };
  const usageNull = includeUsage ? { usage: null } : {};
  const choice = (delta: object, finishReason: string | null) => ({
    ...head,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    ...usageNull,
  });
  const chunks: object[] = [choice({ role: 'assistant', content: '' }, null)];
  for (const piece of splitWords(result.content)) chunks.push(choice({ content: piece }, null));
  chunks.push(choice({}, result.finishReason ?? 'stop'));
  if (includeUsage) chunks.push({ ...head, choices: [], usage: usageBody(result.usage) });
  return chunks;
}

/** Splits before each word, keeping whitespace with the word before, so the pieces join back exactly. */
export function splitWords(text: string): string[] {
  if (text === '') return [];
  return text.split(/(?<=\s)(?=\S)/);
}
