/** `quire ask "<question>"`: one question, answered with its numbered sources. */
import type { Metadata } from '@quire/core';
import {
  JobFailedError,
  JobTimeoutError,
  QUEUES,
  type QueryFilter,
  type QueryOptionsV2,
  QuestionSchema,
} from '@quire/jobs';
import { type CommandContext, withBackend } from '../context.js';
import { CliError } from '../errors.js';
import { formatAnswer, formatDuration } from '../format.js';
import { checkMetadata, warnWithoutWorkers } from './ingest.js';

export interface FilterOptions {
  /** Only these documents (`--doc`). */
  documentIds: string[];
  /** Only these source names (`--source`). */
  sourceNames: string[];
  /** Every key equal (`--where k=v`). */
  metadata: Metadata;
}

export interface AskCommandOptions extends FilterOptions {
  json: boolean;
  topN?: number;
  candidates?: number;
  /** Token budget of the passages (`--context-tokens`). */
  contextTokens?: number;
  /** Longest wait for the answer, in ms. */
  timeoutMs: number;
}

export async function runAsk(
  ctx: CommandContext,
  question: string,
  options: AskCommandOptions,
): Promise<number> {
  const text = QuestionSchema.safeParse(question);
  if (!text.success) throw new CliError(text.error.issues[0]?.message ?? 'invalid question', 2);
  const filter = toFilter(options);
  const queryOptions = toQueryOptions(options);
  return withBackend(ctx, async (backend) => {
    await warnWithoutWorkers(ctx, backend, QUEUES.query);
    let result: Awaited<ReturnType<typeof backend.ask>>;
    try {
      result = await backend.ask(
        {
          tenant: ctx.tenant,
          question: text.data,
          ...(filter ? { filter } : {}),
          ...(queryOptions ? { options: queryOptions } : {}),
        },
        { timeoutMs: options.timeoutMs, signal: ctx.signal },
      );
    } catch (error) {
      if (error instanceof JobTimeoutError) {
        throw new CliError(
          `no answer within ${formatDuration(options.timeoutMs)}: are the query workers running?`,
        );
      }
      if (error instanceof JobFailedError) throw new CliError(`the question failed: ${error.reason}`);
      throw error;
    }
    if (options.json) {
      ctx.term.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    } else {
      ctx.term.stdout.write(`${formatAnswer(result, ctx.term.colors)}\n`);
    }
    return 0;
  });
}

export function toFilter(options: FilterOptions): QueryFilter | undefined {
  checkMetadata('--where', options.metadata);
  const filter: QueryFilter = {
    ...(options.documentIds.length > 0 ? { documentIds: options.documentIds } : {}),
    ...(options.sourceNames.length > 0 ? { sourceNames: options.sourceNames } : {}),
    ...(Object.keys(options.metadata).length > 0 ? { metadata: options.metadata } : {}),
  };
  return Object.keys(filter).length > 0 ? filter : undefined;
}

export function toQueryOptions(options: {
  topN?: number;
  candidates?: number;
  contextTokens?: number;
  includePassages?: boolean;
  includeCandidates?: boolean;
}): QueryOptionsV2 | undefined {
  const include = {
    ...(options.includePassages === true ? { passages: true } : {}),
    ...(options.includeCandidates === true ? { candidates: true } : {}),
  };
  const result: QueryOptionsV2 = {
    ...(options.topN !== undefined ? { topN: options.topN } : {}),
    ...(options.candidates !== undefined ? { candidates: options.candidates } : {}),
    ...(options.contextTokens !== undefined ? { contextTokens: options.contextTokens } : {}),
    ...(Object.keys(include).length > 0 ? { include } : {}),
  };
  return Object.keys(result).length > 0 ? result : undefined;
}
