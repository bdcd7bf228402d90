/** The result of answering one question: a job result, so its schema lives in `@quire/contracts`. */
export {
  type AnswerCandidate,
  AnswerCandidateSchema,
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
  type ContextTruncation,
  ContextTruncationSchema,
} from '@quire/contracts';
