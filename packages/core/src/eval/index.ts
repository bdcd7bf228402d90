export {
  type EvaluateQuestionDeps,
  type EvaluateQuestionRequest,
  evaluateQuestion,
} from './evaluate-question.js';
export * from './metrics.js';
export * from './report.js';
export * from './schema.js';
