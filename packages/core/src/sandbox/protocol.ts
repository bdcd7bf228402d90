/**
 * Messages between the parse sandbox (`parse-sandbox.ts`) and its child processes (`child.ts`),
 * over the IPC channel with Node's `advanced` serialization (structured clone: byte arrays travel
 * as they are). The parent sends one `SandboxRequest` at a time; the child answers it with exactly
 * one `SandboxResponse` and then waits for the next.
 *
 * Task modules import this file in the child: it imports nothing, so that a child's first task does
 * not load a validation library (the parent checks what a child sends, in `parse-sandbox.ts`).
 */
export interface SandboxRequest {
  type: 'run';
  /** Sequence number of the task in this child, echoed in the response. */
  id: number;
  kind: string;
  /** URL of the module that implements the kind (`export async function run(input)`). */
  module: string;
  input: unknown;
}

/** Sent once by a child when it is ready to take tasks. */
export interface SandboxReady {
  type: 'ready';
}

/**
 * A task's outcome. `failed` is a problem of the document that the task recognised itself (a
 * `QuireErrorCode` such as `corrupt` or `too_large`, with a reason that does not repeat the name);
 * `error` is anything else the task threw.
 */
export type SandboxResponse =
  | { type: 'done'; id: number; value: unknown }
  | { type: 'failed'; id: number; code: string; reason: string; details?: Record<string, unknown> }
  | { type: 'error'; id: number; message: string };

export type SandboxMessage = SandboxReady | SandboxResponse;

/**
 * What a task module exports. It runs in the child and may throw `TaskFailure` for a problem of
 * the document (its code and reason reach the caller as a `DocumentError`).
 */
export interface SandboxTaskModule<I = unknown, O = unknown> {
  run(input: I): Promise<O>;
}

/** A problem of the document found inside a task; becomes a `DocumentError` in the parent. */
export class TaskFailure extends Error {
  constructor(
    readonly code: string,
    readonly reason: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(reason);
    this.name = 'TaskFailure';
  }
}
