export { analyze, contentTerms, countTokens, normalizeText, type Term, termMatch } from './analyze.js';
export {
  answerFromMessages,
  type ExtractiveAnswer,
  type ExtractiveAnswerOptions,
  extractiveAnswer,
} from './answerer.js';
export { BuiltinModels, type BuiltinModelsOptions } from './builtin-models.js';
export { DEFAULT_BUILTIN_DIMENSION, featureCosine, hashedEmbedding, lexicalFeatures } from './embedder.js';
export {
  answerPromptFromBlock,
  extractQuestion,
  formatAnswerPrompt,
  formatPassage,
  formatPassages,
  NOT_FOUND_ANSWER,
  type NumberedPassage,
  PASSAGES_HEADING,
  type Passage,
  parsePassages,
  QUESTION_LABEL,
} from './passages.js';
export { type LexicalRerankItem, type LexicalRerankOptions, lexicalRerank } from './reranker.js';
