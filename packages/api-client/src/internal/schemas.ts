import { z } from 'zod';
import { InvalidResponseError } from '../errors.js';
import type { TokenUsage } from '../types.js';

const count = z.number().int().nonnegative();

// ------------------------------------------------------------------ embeddings

export const embeddingsResponseSchema = z.object({
  data: z.array(
    z.object({
      index: count,
      /** Numbers for `encoding_format: float`, base64 of little-endian float32 for `base64`. */
      embedding: z.union([z.array(z.number()), z.string()]),
    }),
  ),
  model: z.string().optional(),
  usage: z.object({ prompt_tokens: count.optional(), total_tokens: count.optional() }).nullish(),
});

// ------------------------------------------------------------------ rerank

const rerankItemSchema = z
  .object({
    index: count,
    relevance_score: z.number().optional(),
    score: z.number().optional(),
    document: z.union([z.string(), z.object({ text: z.string() }), z.null()]).optional(),
  })
  .refine((item) => item.relevance_score !== undefined || item.score !== undefined, {
    message: 'needs `relevance_score` or `score`',
  });

const rerankTokensSchema = z.union([
  count,
  z.object({ input_tokens: count.optional(), output_tokens: count.optional() }),
]);

const rerankEnvelopeSchema = z
  .object({
    results: z.array(rerankItemSchema).optional(),
    data: z.array(rerankItemSchema).optional(),
    model: z.string().optional(),
    usage: z.object({ total_tokens: count.optional(), prompt_tokens: count.optional() }).nullish(),
    meta: z
      .object({
        billed_units: z.object({ search_units: z.number().nonnegative().optional() }).nullish(),
        tokens: rerankTokensSchema.nullish(),
      })
      .nullish(),
  })
  .refine((body) => body.results !== undefined || body.data !== undefined, {
    message: 'needs a `results` or `data` array',
  });

/**
 * Rerank responses in every dialect we accept, before normalisation. Chosen by the body's kind
 * rather than as a union, so that a broken body gets errors about the shape it actually has.
 */
export function rerankResponseSchema(body: unknown): z.ZodType<RerankBody> {
  return Array.isArray(body) ? z.array(rerankItemSchema) : rerankEnvelopeSchema;
}

type RerankBody = z.infer<typeof rerankItemSchema>[] | z.infer<typeof rerankEnvelopeSchema>;

/** One rerank answer in our own terms; indices are relative to the documents of that request. */
export interface NormalisedRerank {
  model: string | undefined;
  items: { index: number; score: number; document: string | undefined }[];
  totalTokens: number;
  searchUnits: number | undefined;
}

/**
 * Brings the rerank dialects to one shape: results under `results`, `data` or a bare array; score
 * as `relevance_score` or `score`; the document as a string or `{text}`; usage as
 * `usage.total_tokens` or Cohere-style `meta` (`billed_units.search_units`, `tokens`).
 */
export function normaliseRerank(body: RerankBody): NormalisedRerank {
  const envelope = Array.isArray(body) ? undefined : body;
  const rawItems = Array.isArray(body) ? body : (body.results ?? body.data ?? []);
  const items = rawItems.map((item) => ({
    index: item.index,
    score: (item.relevance_score ?? item.score)!,
    document: typeof item.document === 'string' ? item.document : (item.document?.text ?? undefined),
  }));
  let totalTokens = envelope?.usage?.total_tokens ?? envelope?.usage?.prompt_tokens;
  const tokens = envelope?.meta?.tokens;
  if (totalTokens === undefined && tokens !== undefined && tokens !== null) {
    totalTokens =
      typeof tokens === 'number' ? tokens : (tokens.input_tokens ?? 0) + (tokens.output_tokens ?? 0);
  }
  return {
    model: envelope?.model,
    items,
    totalTokens: totalTokens ?? 0,
    searchUnits: envelope?.meta?.billed_units?.search_units ?? undefined,
  };
}

// ------------------------------------------------------------------ chat

const usageSchema = z.object({
  prompt_tokens: count.optional(),
  completion_tokens: count.optional(),
  total_tokens: count.optional(),
});

export const chatResponseSchema = z.object({
  model: z.string().optional(),
  choices: z
    .array(
      z.object({
        message: z.object({ content: z.string().nullish() }),
        finish_reason: z.string().nullish(),
      }),
    )
    .min(1),
  usage: usageSchema.nullish(),
});

export const chatChunkSchema = z.object({
  model: z.string().optional(),
  choices: z
    .array(
      z.object({
        delta: z.object({ content: z.string().nullish() }).nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .nullish(),
  usage: usageSchema.nullish(),
});

/** Token usage in our terms; missing figures count as 0 and the total defaults to their sum. */
export function toTokenUsage(usage: z.infer<typeof usageSchema> | null | undefined): TokenUsage {
  const promptTokens = usage?.prompt_tokens ?? 0;
  const completionTokens = usage?.completion_tokens ?? 0;
  return {
    promptTokens,
    completionTokens,
    totalTokens: usage?.total_tokens ?? promptTokens + completionTokens,
  };
}

// ------------------------------------------------------------------ validation

/** Most schema issues named in one error message; the rest are only counted. */
const MAX_ISSUES = 3;

/**
 * Validates `data` against `schema`, or throws {@link InvalidResponseError} naming the first few
 * problems by their path in the body (e.g. `data.0.embedding: expected array`).
 */
export function parseResponse<T>(
  schema: z.ZodType<T>,
  data: unknown,
  context: { endpoint: string; status: number | undefined; requestId: string | undefined },
): T {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const issues = result.error.issues;
  const described = issues
    .slice(0, MAX_ISSUES)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(body)'}: ${issue.message}`)
    .join('; ');
  const more = issues.length > MAX_ISSUES ? ` (+${issues.length - MAX_ISSUES} more)` : '';
  throw new InvalidResponseError(`${context.endpoint}: unexpected response shape: ${described}${more}`, {
    status: context.status,
    requestId: context.requestId,
    endpoint: context.endpoint,
  });
}
