/** A failure the CLI reports as one clear line (no stack trace), with its exit code. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    /** Process exit code. Default 1; 2 for a usage error. */
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** The message of anything thrown, for one line of output. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
