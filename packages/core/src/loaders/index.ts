export type { DetectedType, DetectTypeInput } from './detect-type.js';
export { detectDocumentType } from './detect-type.js';
export { DEFAULT_LOAD_LIMITS } from './limits.js';
export type { LoadDocumentOptions } from './load-document.js';
export { loadDocument } from './load-document.js';
export type { ParsedPdf, ParsePdfOptions } from './pdf-loader.js';
export { extractPdf, parsePdfInWorker } from './pdf-loader.js';
export type * from './types.js';
