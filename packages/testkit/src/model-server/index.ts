export {
  type FaultOptions,
  type ModelServerKnobs,
  type ModelServerOptions,
  ModelServerOptionsError,
  type ScriptedResponse,
} from './options.js';
export { seededRandom } from './prng.js';
export type { RateLimitOptions } from './rate-limiter.js';
export {
  type CloseOptions,
  createModelServer,
  type ListenOptions,
  type ModelServer,
  type ModelServerControls,
  type RunningModelServer,
  type StartModelServerOptions,
  startModelServer,
} from './server.js';
export type { ModelServerStats } from './stats.js';
export { decodeFloat32Base64, encodeFloat32Base64, type WireError } from './wire.js';
