#!/usr/bin/env node
import type { Logger } from '@quire/api-client';
import { startModelServer } from '../model-server/server.js';
import { CliUsageError, parseModelServerCli, USAGE } from './cli-options.js';

/** How long in-flight answers may take to finish after SIGINT/SIGTERM. */
const SHUTDOWN_GRACE_MS = 5000;

async function main(): Promise<void> {
  let command: ReturnType<typeof parseModelServerCli>;
  try {
    command = parseModelServerCli(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof CliUsageError)) throw error;
    process.stderr.write(`model-server: ${error.message}\n\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  if (command.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }

  const server = await startModelServer({
    ...command.options,
    ...(command.verbose ? { logger: stderrLogger() } : {}),
  });
  const { apiKey, port: _port, host: _host, ...shown } = command.options;
  process.stdout.write(`Quire model server listening on ${server.url}\n`);
  process.stdout.write(
    `settings: ${JSON.stringify({ ...shown, apiKey: apiKey === undefined ? 'none' : 'required' })}\n`,
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      // A second signal means "now".
      process.exit(1);
    }
    stopping = true;
    process.stdout.write(`${signal} received, closing\n`);
    server.close({ graceMs: SHUTDOWN_GRACE_MS }).then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`model-server: close failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/** One JSON line per entry on stderr; enough for watching requests without a logging dependency. */
function stderrLogger(): Logger {
  const write =
    (level: string) =>
    (obj: object, msg?: string): void => {
      process.stderr.write(`${JSON.stringify({ level, time: new Date().toISOString(), ...obj, msg })}\n`);
    };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

main().catch((error: unknown) => {
  process.stderr.write(`model-server: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
