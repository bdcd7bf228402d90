/** Where the CLI writes, and how: live redraws and colours only on a terminal. */
import picocolors from 'picocolors';

/** The part of a writable stream the CLI uses; tests pass a string sink. */
export interface OutputStream {
  write(chunk: string): boolean;
  isTTY?: boolean;
  columns?: number;
  rows?: number;
}

export interface Terminal {
  stdout: OutputStream;
  stderr: OutputStream;
  colors: Colors;
  /** stdout is a terminal: progress redraws in place; otherwise it prints plain lines. */
  live: boolean;
  /** Columns of stdout (80 when unknown). */
  width: number;
  /** Rows of stdout (24 when unknown). */
  height: number;
}

export interface TerminalOptions {
  stdout: OutputStream;
  stderr: OutputStream;
  /** `true`/`false` to force colours; `undefined` = on when stdout is a terminal. */
  color?: boolean | undefined;
}

export function createTerminal(options: TerminalOptions): Terminal {
  const live = options.stdout.isTTY === true;
  return {
    stdout: options.stdout,
    stderr: options.stderr,
    colors: picocolors.createColors(options.color ?? live),
    live,
    width: options.stdout.columns && options.stdout.columns > 0 ? options.stdout.columns : 80,
    height: options.stdout.rows && options.stdout.rows > 0 ? options.stdout.rows : 24,
  };
}

/** Colour functions; identity functions when colours are off. */
export type Colors = ReturnType<typeof picocolors.createColors>;
