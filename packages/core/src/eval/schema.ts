/** The eval report's wire schemas live with the other contracts. */
export {
  EVAL_MODES,
  EVAL_STAGES,
  type EvalCandidate,
  EvalCandidateSchema,
  type EvalHit,
  EvalHitSchema,
  type EvalMode,
  EvalPassageSchema,
  type EvalQuestionResult,
  EvalQuestionResultSchema,
  type EvalReport,
  EvalReportSchema,
  type EvalRow,
  EvalRowSchema,
  RankingMetricsSchema,
} from '@quire/contracts';
