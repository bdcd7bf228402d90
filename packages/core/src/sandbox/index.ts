export type {
  ParseFinishedEvent,
  ParseSandboxObserver,
  ParseSandboxOptions,
  ParseSandboxStats,
  SandboxExitReason,
  SandboxKillReason,
  SandboxTask,
} from './parse-sandbox.js';
export { configureDefaultParseSandbox, defaultParseSandbox, ParseSandbox } from './parse-sandbox.js';
export type { SandboxTaskModule } from './protocol.js';
export { TaskFailure } from './protocol.js';
export { readProcessMemory } from './rss.js';
export type { SandboxKindPolicy } from './task-kinds.js';
export { BUILTIN_TASK_KINDS, registerSandboxTask } from './task-kinds.js';
