import { defaultParseSandbox, type ParseSandbox } from '../sandbox/parse-sandbox.js';
import type { LoadLimits } from './types.js';

export interface SandboxedLoadOptions {
  /** `parseTimeoutMs` and `parseMaxMemoryMb` bound the task; the task applies the others it knows. */
  limits: LoadLimits;
  signal?: AbortSignal;
  /** Child processes that parse. Default: the process-wide `defaultParseSandbox()`. */
  sandbox?: ParseSandbox;
}

/** Runs one parse task of a loader in the sandbox, under the load's time and memory limits. */
export function runInSandbox<T>(
  kind: string,
  name: string,
  input: unknown,
  options: SandboxedLoadOptions,
): Promise<T> {
  const { limits, signal } = options;
  signal?.throwIfAborted();
  return (options.sandbox ?? defaultParseSandbox()).run<T>({
    kind,
    name,
    input,
    timeoutMs: limits.parseTimeoutMs,
    maxMemoryMb: limits.parseMaxMemoryMb,
    ...(signal === undefined ? {} : { signal }),
  });
}
