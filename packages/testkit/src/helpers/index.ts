export { freePort } from './free-port.js';
export { cleanupPrefix, uniquePrefix } from './prefix.js';
export {
  type OutputLine,
  type ProcessExit,
  type SpawnedProcess,
  type SpawnProcessOptions,
  spawnProcess,
  type WaitForLineOptions,
} from './process.js';
export { readTreeRss, TreeRssWatcher } from './process-memory.js';
export {
  type GetTestRedisOptions,
  getTestRedis,
  type PrivateRedis,
  type PrivateRedisOptions,
  redactUrl,
  startPrivateRedis,
  type TestRedis,
} from './redis.js';
export { makeTempDir, type TempDir } from './temp-dir.js';
export { type WaitForOptions, waitFor } from './wait-for.js';
