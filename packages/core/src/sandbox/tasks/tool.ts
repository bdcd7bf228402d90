/**
 * Runs a command-line tool (Poppler's, Tesseract's) from a sandbox task: its input on standard
 * input, under an address-space limit (`ulimit -v`, enforced by the kernel: the sandbox's RSS
 * watchdog sees only its own child), its output read under a byte cap. The tool is a child of the
 * sandbox child, in its process group, so the sandbox's kill on a time limit, memory cap or abort
 * takes the tool with it.
 */
import { spawn } from 'node:child_process';
import { TaskFailure } from '../protocol.js';

/** Standard error kept for the raw message, in bytes. */
const STDERR_BYTES = 4096;

export interface ToolResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
  /** The output passed `maxOutputBytes` and the tool was stopped. */
  overflow: boolean;
}

export interface ToolOptions {
  /** Address-space limit of the tool, in MiB. */
  maxMemoryMb: number;
  /** Output read at most, in bytes; past it the tool is killed and `overflow` set. */
  maxOutputBytes: number;
  /** Environment beside `PATH` and `LC_ALL=C.UTF-8` (nothing else of the worker's is passed on). */
  env?: Record<string, string>;
}

/** Runs `tool` with `data` on standard input (see the module's comment). */
export function runTool(
  tool: string,
  args: string[],
  data: Uint8Array,
  options: ToolOptions,
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    // The limit is set by the shell that then becomes the tool (`exec`); arguments travel as
    // arguments, never through the shell's parser.
    const child = spawn(
      '/bin/sh',
      [
        '-c',
        'ulimit -v "$1" || exit 126; shift; exec "$@"',
        'sh',
        String(options.maxMemoryMb * 1024),
        tool,
        ...args,
      ],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...options.env, PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C.UTF-8' },
      },
    );
    const out: Buffer[] = [];
    let outBytes = 0;
    let overflow = false;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      if (overflow) return;
      outBytes += chunk.length;
      if (outBytes > options.maxOutputBytes) {
        overflow = true;
        child.kill('SIGKILL');
        return;
      }
      out.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < STDERR_BYTES)
        stderr += chunk.toString('utf8').slice(0, STDERR_BYTES - stderr.length);
    });
    // A tool that stops reading early (a damaged file) closes its input: not an error of ours.
    child.stdin.on('error', () => undefined);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr, overflow }));
    child.stdin.end(data);
  });
}

/** What a tool (or the C and C++ libraries under it) prints when an allocation fails. */
const OUT_OF_MEMORY = /bad_alloc|malloc fail|failed to map segment|cannot allocate memory|out of memory/i;

/**
 * The failure of a tool that ran out of its address-space limit: killed by a signal (an abort)
 * without having passed its output cap, or saying an allocation failed (some go on and exit 0
 * without what they could not allocate). Undefined otherwise.
 */
export function outOfMemory(result: ToolResult, maxMemoryMb: number): TaskFailure | undefined {
  if (result.overflow) return undefined;
  if (result.code !== null && !OUT_OF_MEMORY.test(result.stderr)) return undefined;
  return new TaskFailure(
    'parse_out_of_memory',
    `parsing needed more than ${maxMemoryMb} MiB of memory (limit parseMaxMemoryMb, QUIRE_PARSE_MAX_MEMORY_MB)`,
    { limitMb: maxMemoryMb },
  );
}
