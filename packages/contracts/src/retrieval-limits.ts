/**
 * Retrieval defaults and limits: the one place they are written. Job payloads, HTTP bodies, the
 * workers' settings, the CLI's help and the console read them from here. Plain numbers, no schema
 * library, so a browser bundle can take them alone.
 */

/** Candidates retrieved when a caller names no count; inside the 20–50 a reranker works best with. */
export const DEFAULT_CANDIDATES = 30;
/** Most candidates one question may retrieve. */
export const MAX_CANDIDATES = 100;

/** Passages kept after reranking when a caller names no count (the 3–5 a chat model reads well). */
export const DEFAULT_TOP_N = 4;
/** Most passages version 1 query options may ask for (version 2 and evals: {@link MAX_TOP_N}). */
export const MAX_TOP_N_V1 = 20;
/** Most passages one answer may be given (a context budget may still leave some out). */
export const MAX_TOP_N = 50;

/** Tokens of passages a question gets when neither the caller nor the worker's settings name a budget. */
export const DEFAULT_CONTEXT_TOKENS = 3000;
/** Most tokens of passages one answer may be given (`contextTokens`, and the workers' default). */
export const MAX_CONTEXT_TOKENS = 32_000;
