export type { DetectedType, DetectTypeInput } from './detect-type.js';
export { detectDocumentType } from './detect-type.js';
export { DEFAULT_LOAD_LIMITS } from './limits.js';
export type { LoadDocumentOptions } from './load-document.js';
export { loadDocument } from './load-document.js';
export type {
  ParsedPdf,
  PdfParseRequest,
  PdfParserPoolOptions,
  PdfParserPoolStats,
} from './pdf-parser-pool.js';
export { defaultPdfParserPool, PdfParserPool } from './pdf-parser-pool.js';
export type * from './types.js';
