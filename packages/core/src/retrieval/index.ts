export { type AnswerQuestionDeps, type AnswerQuestionRequest, answerQuestion } from './answer.js';
export {
  type CheckedCitations,
  checkCitations,
  type RenumberedCitations,
  renumberCitations,
} from './citations.js';
export {
  type AnswerContext,
  type BuildContextOptions,
  buildContext,
  type ContextPassage,
  DEFAULT_CONTEXT_TOKENS,
  passageSourceLabel,
} from './context.js';
export { type FuseOptions, fuseRankings, type RetrievalCandidate, RRF_K } from './fusion.js';
export { type GenerateAnswerOptions, type GenerateAnswerResult, generateAnswer } from './generate.js';
export { ANSWER_PROMPT_VERSION, ANSWER_SYSTEM_PROMPT, answerMessages, answerUserMessage } from './prompts.js';
export {
  DEFAULT_TOP_N,
  MAX_TOP_N,
  type RankedPassage,
  type RerankCandidatesOptions,
  type RerankCandidatesResult,
  RerankError,
  type RerankFallback,
  rerankCandidates,
} from './rerank.js';
export {
  DEFAULT_CANDIDATES,
  MAX_CANDIDATES,
  type RetrieveCandidatesOptions,
  type RetrieveCandidatesResult,
  retrieveCandidates,
} from './retrieve.js';
export {
  type AnswerPassage,
  AnswerPassageSchema,
  type AnswerResult,
  AnswerResultSchema,
  type AnswerTimings,
  AnswerTimingsSchema,
  type AnswerUsage,
  AnswerUsageSchema,
  type Citation,
  CitationSchema,
} from './schema.js';
