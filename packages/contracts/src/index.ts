export * from './answer.js';
export * from './common.js';
export * from './http.js';
export * from './ingest.js';
export * from './query.js';
export * from './queues.js';
export * from './sources.js';
export { payloadVersion } from './version.js';
