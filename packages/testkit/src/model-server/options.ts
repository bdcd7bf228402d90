import type { Logger, ModelApi } from '@quire/api-client';
import { z } from 'zod';
import type { RateLimitOptions } from './rate-limiter.js';

/**
 * Injected faults. Each rate is the share of model requests (POST endpoints that passed validation,
 * auth and rate limits) that get that fault; one seeded draw per request picks at most one fault,
 * so the rates must add up to at most 1.
 */
export interface FaultOptions {
  /** Share answered `500` with an error body. Default `0`. */
  errorRate?: number;
  /** Share never answered: the request hangs until the client gives up or the server closes. Default `0`. */
  hangRate?: number;
  /** Share answered `200` with a body that is not valid JSON (a broken event for streams). Default `0`. */
  malformedRate?: number;
  /** Share of embeddings requests whose vectors have the wrong length (one element short). Default `0`. */
  wrongDimensionRate?: number;
}

/** One exact answer for the next model request, before anything else is checked. */
export interface ScriptedResponse {
  /** HTTP status, e.g. `429` or `503`. */
  status: number;
  /** Extra response headers, e.g. `{ 'retry-after': '1' }`. */
  headers?: Record<string, string>;
  /** Body: a string is sent as is, anything else as JSON. Default: an OpenAI-style error body for the status. */
  body?: unknown;
}

/** What can be changed while the server runs, with `setOptions`. */
export interface ModelServerKnobs {
  /** Required bearer token; a missing or wrong `Authorization: Bearer …` gets `401`. Default: no check. */
  apiKey?: string;
  /** Fixed delay before each model answer, in milliseconds. Default `0`. */
  latencyMs?: number;
  /** Extra delay per embeddings input or rerank document (chat counts one), in milliseconds. Default `0`. */
  latencyPerInputMs?: number;
  /** More embeddings inputs or rerank documents than this in one request get `413`. Default: unlimited. */
  maxInputsPerRequest?: number;
  /** Requests/tokens per rolling minute; over them `429` with `Retry-After` and `retry-after-ms`. Default: none. */
  rateLimit?: RateLimitOptions;
  /** Injected faults. Default: none. */
  faults?: FaultOptions;
  /** Seed of the fault PRNG; setting it restarts the sequence. Default `1`. */
  seed?: number;
  /** Answers for the next model requests, in order, consumed one per request. Default: empty. */
  failNext?: ScriptedResponse[];
  /** Embedding dimension of the built-in models (ignored when `models` is given). Default: theirs. */
  dimension?: number;
}

export interface ModelServerOptions extends ModelServerKnobs {
  /**
   * The models answering requests. Default: the built-in offline models of `@quire/api-client`.
   * Any `ModelApi` works, e.g. a `ModelClient` for a real provider, to add faults in front of it.
   */
  models?: ModelApi;
  /** Model ids listed by `GET /v1/models`. Default: the built-in models' names. */
  modelIds?: string[];
  /** Receives one debug line per request (never the key). Default: silent. */
  logger?: Logger;
  /** Clock for rate-limit windows and `created` timestamps, in epoch milliseconds. Default `Date.now`. */
  now?: () => number;
}

const rate = z.number().min(0).max(1);
const nonNegative = z.number().finite().min(0);
const positiveInt = z.number().int().positive();

export const faultsSchema = z
  .object({
    errorRate: rate.optional(),
    hangRate: rate.optional(),
    malformedRate: rate.optional(),
    wrongDimensionRate: rate.optional(),
  })
  .strict()
  .refine(
    (f) => (f.errorRate ?? 0) + (f.hangRate ?? 0) + (f.malformedRate ?? 0) + (f.wrongDimensionRate ?? 0) <= 1,
    { message: 'fault rates must add up to at most 1' },
  );

export const scriptedResponseSchema = z
  .object({
    status: z.number().int().min(100).max(599),
    headers: z.record(z.string(), z.string()).optional(),
    body: z.unknown().optional(),
  })
  .strict();

/** Validates knobs given in code or on the command line; unknown keys are refused so typos show. */
export const knobsSchema = z
  .object({
    apiKey: z.string().min(1).optional(),
    latencyMs: nonNegative.optional(),
    latencyPerInputMs: nonNegative.optional(),
    maxInputsPerRequest: positiveInt.optional(),
    rateLimit: z
      .object({ requestsPerMinute: positiveInt.optional(), tokensPerMinute: positiveInt.optional() })
      .strict()
      .optional(),
    faults: faultsSchema.optional(),
    seed: z.number().int().optional(),
    failNext: z.array(scriptedResponseSchema).optional(),
    dimension: positiveInt.optional(),
  })
  .strict();

/** Thrown for an invalid option; the message names the option. */
export class ModelServerOptionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelServerOptionsError';
  }
}

export function validateKnobs(knobs: ModelServerKnobs): ModelServerKnobs {
  const result = knobsSchema.safeParse(knobs);
  if (result.success) return knobs;
  const issue = result.error.issues[0]!;
  const where = issue.path.length > 0 ? issue.path.join('.') : 'options';
  throw new ModelServerOptionsError(`invalid model server option ${where}: ${issue.message}`);
}
