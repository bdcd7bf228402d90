export * from './chunker/index.js';
export * from './config.js';
export * from './errors.js';
export * from './loaders/index.js';
export * from './retrieval/index.js';
export * from './services.js';
export * from './sources/index.js';
export * from './vector-store/index.js';
