export { CHUNKER_VERSION, chunkDocument } from './chunk-document.js';
export { DEFAULT_CHUNKER_OPTIONS, resolveChunkerOptions } from './options.js';
export { CHUNKER_ENCODING, countTokens, loadChunkerEncoding } from './tokens.js';
export type * from './types.js';
