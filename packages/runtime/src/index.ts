export * from './document-lease.js';
export * from './logger.js';
export * from './metrics.js';
export * from './provider-limits.js';
export * from './shutdown.js';
export * from './worker-env.js';
export * from './worker-errors.js';
export * from './worker-process.js';
