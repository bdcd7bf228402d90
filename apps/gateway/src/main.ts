#!/usr/bin/env node
/** The gateway process: env → logger → connections → services → server → listen → shutdown. */
import { readFileSync } from 'node:fs';
import { announceReady, createLogger, runMain, ShutdownManager } from '@quire/runtime';
import { loadEnv } from './env.js';
import { createOpsServer, createServer } from './server.js';
import { openServices } from './services.js';

const SERVICE = 'gateway';
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

runMain(SERVICE, async () => {
  const env = loadEnv();
  const logger = createLogger({
    service: SERVICE,
    version,
    level: env.config.log.level,
    format: env.config.log.format,
  });
  const shutdown = new ShutdownManager({ logger, graceMs: env.shutdownGraceMs });
  shutdown.listen();

  const services = await openServices({ env, logger });
  // Connections close after the server: in-flight requests still use them.
  shutdown.register('services', () => services.close(), 1);
  const server = await createServer({ env, logger, services, version });
  shutdown.register('http', () => server.close());

  let opsAddress: string | null = null;
  if (env.metricsPort > 0) {
    const ops = await createOpsServer({ env, logger, services, version });
    shutdown.register('ops-http', () => ops.close());
    opsAddress = await ops.listen({ port: env.metricsPort, host: env.host });
  }
  const address = await server.listen({ port: env.port, host: env.host });
  logger.info(
    {
      address,
      opsAddress,
      prefix: env.config.queuePrefix,
      store: env.config.store.kind,
      tenants: new Set(env.apiKeys.map((k) => k.tenant)).size,
      webhooks: services.webhooks.enabled,
      uploadDir: env.uploads.dir,
    },
    // The address in the message too, so that a pretty (one line per field) log still names it
    // on the line `quire dev` waits for.
    `${SERVICE} ready at ${address}`,
  );
  announceReady(address);
});
