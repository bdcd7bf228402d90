export * from './connection.js';
export * from './document-order.js';
export * from './job-options.js';
export * from './names.js';
export * from './producer.js';
export * from './schemas.js';
export * from './worker-errors.js';
