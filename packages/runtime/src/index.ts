export * from './logger.js';
export * from './metrics.js';
export * from './provider-limits.js';
export * from './shutdown.js';
