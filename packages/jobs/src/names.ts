/** Queue names, job names, job states and the key prefix: declared in `@quire/contracts`, re-exported for the SDK's users. */
export {
  ALL_QUEUES,
  COUNTED_JOB_STATES,
  type CountedJobState,
  DEFAULT_PREFIX,
  INTERNAL_QUEUES,
  type InternalQueueName,
  JOB_NAMES,
  JOB_STATES,
  type JobState,
  JobStateSchema,
  QUEUES,
  type QueueName,
  QueueNameSchema,
} from '@quire/contracts';
