import { QuireError } from '../errors.js';
import type { ChunkerOptions } from './types.js';

/**
 * 400 tokens with 50 of overlap (12.5 %).
 *
 * A passage is read by three models: the embedder, the reranker and the chat model. The reranker
 * is the tight one: cross-encoders such as bge-reranker-v2-m3 are commonly served with a 512-token
 * window holding query and passage together, and cut the rest off unseen. 400 tokens leave room
 * for a query and for tokenizers that count more than cl100k_base does. Five reranked passages
 * then cost about 2,000 tokens of chat context. Smaller chunks (Dify's default is 500/50) retrieve
 * sharper passages; larger ones (LlamaIndex's 1024/200) carry more context per hit but blur the
 * embedding and overflow a 512 reranker. The overlap is one or two sentences, enough for a fact
 * that straddles a boundary to appear whole in one of the two chunks.
 */
export const DEFAULT_CHUNKER_OPTIONS: Readonly<ChunkerOptions> = Object.freeze({
  chunkSize: 400,
  chunkOverlap: 50,
});

/** Smallest `chunkSize` accepted, in tokens. */
const MIN_CHUNK_SIZE = 32;

/**
 * The options with defaults filled in, checked.
 * @throws QuireError `invalid_input` naming the option and the value when one is out of range.
 */
export function resolveChunkerOptions(options: Partial<ChunkerOptions> = {}): ChunkerOptions {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNKER_OPTIONS.chunkSize;
  const chunkOverlap = options.chunkOverlap ?? DEFAULT_CHUNKER_OPTIONS.chunkOverlap;
  if (!Number.isSafeInteger(chunkSize) || chunkSize < MIN_CHUNK_SIZE) {
    throw new QuireError(
      'invalid_input',
      `chunkSize must be a whole number of tokens, at least ${MIN_CHUNK_SIZE}; got ${String(chunkSize)}`,
      { details: { option: 'chunkSize', value: chunkSize } },
    );
  }
  if (!Number.isSafeInteger(chunkOverlap) || chunkOverlap < 0 || chunkOverlap * 2 >= chunkSize) {
    throw new QuireError(
      'invalid_input',
      `chunkOverlap must be a whole number of tokens, at least 0 and below half of chunkSize ` +
        `(${chunkSize / 2}); got ${String(chunkOverlap)}`,
      { details: { option: 'chunkOverlap', value: chunkOverlap, chunkSize } },
    );
  }
  return { chunkSize, chunkOverlap };
}
