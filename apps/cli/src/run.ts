/** The `quire` process: environment → command line → exit code. Ctrl-C asks the command to stop. */
import { runCli } from './cli.js';
import { errorMessage } from './errors.js';

// A reader that went away (`quire status | head -3`) is not an error: stop quietly.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}

const controller = new AbortController();
// SIGHUP: the terminal went away; clean up as for Ctrl-C rather than leave services running.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    // A second Ctrl-C means now: the first one is still cleaning up.
    if (controller.signal.aborted) process.exit(130);
    controller.abort(new Error(`received ${signal}`));
  });
}

let code: number;
try {
  code = await runCli(process.argv.slice(2), {
    // Parsed only when a command runs: the schema loads zod and core's config, which help does not need.
    loadEnv: async () => (await import('./env.js')).loadEnv(),
    stdout: process.stdout,
    stderr: process.stderr,
    cwd: process.cwd(),
    signal: controller.signal,
  });
} catch (error) {
  process.stderr.write(`quire: ${errorMessage(error)}\n`);
  code = 2;
}
// The command is over: exit even if a library left a connection open, once stdout has been flushed
// (a write's callback runs after every earlier write, so nothing printed is lost on a pipe).
process.stderr.write('', () => process.stdout.write('', () => process.exit(code)));
