import { type ModelApi, NOT_FOUND_ANSWER } from '@quire/api-client';
import { QuireError } from '../errors.js';
import { renumberCitations, withoutCitations } from './citations.js';
import type { AnswerContext } from './context.js';
import { boundedInteger, throwIfAborted } from './internal.js';
import { answerMessages } from './prompts.js';
import type { Citation } from './schema.js';

/** Characters of passage text quoted in a citation, about. */
const EXCERPT_CHARS = 200;

export interface GenerateAnswerOptions {
  models: ModelApi;
  chatModel: string;
  question: string;
  context: AnswerContext;
  /** Most tokens of the answer. Default: the model's own limit. */
  maxTokens?: number;
  /** Sampling temperature. Default: the model's own (some models accept no other). */
  temperature?: number;
  signal?: AbortSignal;
}

export interface GenerateAnswerResult {
  /** The answer with its valid `[n]` citations, or exactly `NOT_FOUND_ANSWER`. */
  answer: string;
  /** The model said the passages hold no answer (or there were no passages). */
  notFound: boolean;
  /** Whether the chat model was called: not when the context has no passage. */
  generated: boolean;
  /** Passages cited, by ascending number: 1..n in the order the answer first cites them. */
  citations: Citation[];
  /**
   * The context's passage numbers in the order the answer numbers them: `passageOrder[i]` is cited
   * as `[i + 1]`. The cited passages come first, in order of first citation, then the others in
   * context order; the identity when nothing is cited.
   */
  passageOrder: number[];
  /** Numbers the model cited that name no passage; taken out of `answer`. */
  removedCitations: number[];
  /** Why the model stopped (`stop`, `length`, …), null when not called or not said. */
  finishReason: string | null;
  usage: { promptTokens: number; completionTokens: number };
}

/**
 * Asks the chat model to answer from the numbered passages only, then checks its citations: those
 * naming no passage are removed and reported, the others renumbered 1..n in order of first use
 * (see {@link renumberCitations}; `passageOrder` maps the new numbers back to the context's). An answer that is the not-found sentence (give or take
 * case, quotes and a final period) becomes exactly `NOT_FOUND_ANSWER`.
 */
export async function generateAnswer(options: GenerateAnswerOptions): Promise<GenerateAnswerResult> {
  const { context, signal } = options;
  const maxTokens =
    options.maxTokens === undefined
      ? undefined
      : boundedInteger('maxTokens', options.maxTokens, options.maxTokens, 1, Number.MAX_SAFE_INTEGER);
  throwIfAborted(signal);
  if (context.passages.length === 0) {
    return {
      answer: NOT_FOUND_ANSWER,
      notFound: true,
      generated: false,
      citations: [],
      passageOrder: [],
      removedCitations: [],
      finishReason: null,
      usage: { promptTokens: 0, completionTokens: 0 },
    };
  }

  const result = await options.models.chat(
    {
      model: options.chatModel,
      messages: answerMessages(options.question, context.text),
      ...(maxTokens === undefined ? {} : { maxTokens }),
      ...(options.temperature === undefined ? {} : { temperature: options.temperature }),
    },
    { signal },
  );
  const usage = { promptTokens: result.usage.promptTokens, completionTokens: result.usage.completionTokens };
  if (result.content.trim() === '') {
    throw new QuireError(
      'answer_failed',
      `chat model ${JSON.stringify(options.chatModel)} returned an empty answer (finish reason: ${result.finishReason ?? 'none'})`,
    );
  }

  const checked = renumberCitations(result.content, context.passages.length);
  if (isNotFound(checked.text)) {
    return {
      answer: NOT_FOUND_ANSWER,
      notFound: true,
      generated: true,
      citations: [],
      passageOrder: context.passages.map((shown) => shown.number),
      removedCitations: checked.removed,
      finishReason: result.finishReason,
      usage,
    };
  }
  const citations = checked.order.map((contextNumber, i): Citation => {
    const shown = context.passages[contextNumber - 1]!;
    const record = shown.passage.record;
    return {
      number: i + 1,
      documentId: record.documentId,
      sourceName: record.sourceName,
      pageStart: record.pageStart,
      pageEnd: record.pageEnd,
      chunkIndex: record.chunkIndex,
      excerpt: excerpt(shown.text),
    };
  });
  return {
    answer: checked.text,
    notFound: false,
    generated: true,
    citations,
    passageOrder: [
      ...checked.order,
      ...context.passages.map((shown) => shown.number).filter((n) => !checked.order.includes(n)),
    ],
    removedCitations: checked.removed,
    finishReason: result.finishReason,
    usage,
  };
}

function canonical(text: string): string {
  return withoutCitations(text)
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .replace(/^[\s"'“”‘’]+|[\s"'“”‘’.]+$/g, '');
}

const NOT_FOUND_CANONICAL = canonical(NOT_FOUND_ANSWER);

function isNotFound(answer: string): boolean {
  return canonical(answer) === NOT_FOUND_CANONICAL;
}

function excerpt(text: string): string {
  if (text.length <= EXCERPT_CHARS) return text;
  const cut = text.slice(0, EXCERPT_CHARS);
  const space = cut.lastIndexOf(' ');
  // A word longer than half the excerpt is cut through rather than dropped.
  return `${(space > EXCERPT_CHARS / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}
