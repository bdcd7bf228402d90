export * from './batch-export.js';
export {
  BATCH_GATE_QUEUE,
  batchGateId,
  DEFAULT_BATCH_CHUNK_SIZE,
  type EnqueueBatchOptions,
} from './batch-flow.js';
export * from './connection.js';
export * from './document-order.js';
export * from './eval-estimate.js';
export * from './eval-export.js';
export * from './eval-schemas.js';
export * from './job-options.js';
export * from './names.js';
export * from './producer.js';
export * from './query-schemas.js';
export * from './schemas.js';
export * from './sealed-ingest.js';
export * from './secrets.js';
export * from './spool.js';
