/**
 * Limits of a question's options as plain numbers, free of zod, for callers that only show or
 * check them (a command line's help). The schemas in `query.ts` are built from them.
 */

/** Most passages one answer may be given (`topN`). */
export const MAX_TOP_N = 50;
/** Most tokens of passages one answer may be given (`contextTokens`). */
export const MAX_CONTEXT_TOKENS = 32_000;
