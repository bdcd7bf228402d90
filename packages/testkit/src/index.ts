export * from './fixtures/index.js';
export * from './helpers/index.js';
export * from './model-server/index.js';
export * from './qdrant-double/index.js';
