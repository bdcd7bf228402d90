/**
 * The built-in models with a few levers for end-to-end tests, served over HTTP by the testkit model
 * server (its `models` option): they record every chat request the server received, can refuse
 * embedding inputs that hold a marker word (as a provider's content filter answers 400), and can
 * fail every rerank call with a server error (the server then answers 500 on `/v1/rerank` only).
 */
import {
  BadRequestError,
  BuiltinModels,
  type ChatParams,
  type ChatResult,
  type ChatStreamChunk,
  type EmbeddingsParams,
  type EmbeddingsResult,
  extractQuestion,
  InternalServerError,
  type ModelApi,
  type NumberedPassage,
  parsePassages,
  type RequestOptions,
  type RerankParams,
  type RerankResult,
} from '@quire/api-client';

/** A chat request as the server received it, read back into its parts. */
export interface RecordedChat {
  question: string;
  passages: NumberedPassage[];
  params: ChatParams;
}

export class ScriptedModels implements ModelApi {
  readonly #inner: BuiltinModels;
  readonly chats: RecordedChat[] = [];
  /** Embedding inputs containing this word are refused with 400. */
  refuseWord: string | null = null;
  /** While true, every rerank call fails with 500. */
  failRerank = false;

  constructor(dimension: number) {
    this.#inner = new BuiltinModels({ dimension });
  }

  async embeddings(params: EmbeddingsParams, options?: RequestOptions): Promise<EmbeddingsResult> {
    const word = this.refuseWord;
    if (word !== null && params.input.some((text) => text.includes(word))) {
      throw new BadRequestError(`input refused by the content policy (it mentions "${word}")`, {
        status: 400,
        code: 'content_policy_violation',
      });
    }
    return this.#inner.embeddings(params, options);
  }

  async rerank(params: RerankParams, options?: RequestOptions): Promise<RerankResult> {
    if (this.failRerank) {
      throw new InternalServerError('the reranker is down', { status: 500, code: 'reranker_unavailable' });
    }
    return this.#inner.rerank(params, options);
  }

  async chat(params: ChatParams, options?: RequestOptions): Promise<ChatResult> {
    this.#record(params);
    return this.#inner.chat(params, options);
  }

  chatStream(params: ChatParams, options?: RequestOptions): AsyncIterable<ChatStreamChunk> {
    this.#record(params);
    return this.#inner.chatStream(params, options);
  }

  /** The chat requests made for `question`. */
  chatsFor(question: string): RecordedChat[] {
    const wanted = question.replace(/\s+/g, ' ').trim();
    return this.chats.filter((chat) => chat.question === wanted);
  }

  #record(params: ChatParams): void {
    const user = params.messages.filter((m) => m.role === 'user').at(-1);
    this.chats.push({
      question: user === undefined ? '' : extractQuestion(user.content),
      passages: params.messages.flatMap((m) => (m.role === 'user' ? parsePassages(m.content) : [])),
      params,
    });
  }
}
