/**
 * End-to-end helpers: the workers run as real processes (their built `dist/main.js`), the gateway
 * in this process on a real port (server-sent events need a real connection).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createLogger } from '@quire/runtime';
import { type SpawnedProcess, spawnProcess } from '@quire/testkit';
import { loadEnv } from '../src/env.js';
import { createServer, type GatewayServer } from '../src/server.js';
import { type GatewayServices, openServices } from '../src/services.js';

const WORKERS = {
  ingest: fileURLToPath(new URL('../../ingest-worker/dist/main.js', import.meta.url)),
  query: fileURLToPath(new URL('../../query-worker/dist/main.js', import.meta.url)),
} as const;

export async function startWorker(
  kind: keyof typeof WORKERS,
  env: Record<string, string>,
): Promise<SpawnedProcess> {
  const main = WORKERS[kind];
  if (!existsSync(main))
    throw new Error(`${main} is missing: run \`pnpm build\` first (turbo does it before tests)`);
  return spawnProcess(process.execPath, [main], {
    env: { LOG_FORMAT: 'json', LOG_LEVEL: 'info', ...env },
    readyLine: new RegExp(`${kind}-worker ready`),
    readyTimeoutMs: 30_000,
  });
}

export interface RunningGateway {
  /** `http://127.0.0.1:<port>` */
  url: string;
  server: GatewayServer;
  services: GatewayServices;
  close(): Promise<void>;
}

export async function startGateway(
  vars: Record<string, string>,
  options: { logs?: NodeJS.WritableStream } = {},
): Promise<RunningGateway> {
  const env = loadEnv({ LOG_LEVEL: 'warn', ...vars });
  const logger = createLogger({
    service: 'gateway',
    level: env.config.log.level,
    format: 'json',
    ...(options.logs ? { destination: options.logs } : {}),
  });
  const services = await openServices({ env, logger, defaultMetrics: false, webhookSweepMs: 1_000 });
  const server = await createServer({ env, logger, services, version: '0.0.0-test' });
  const address = await server.listen({ port: 0, host: '127.0.0.1' });
  return {
    url: address,
    server,
    services,
    async close() {
      await server.close();
      await services.close();
    },
  };
}

export interface Sse {
  id: string;
  event: string;
  data: unknown;
}

/** Reads a server-sent event stream to its end. */
export async function readEvents(response: Response, onEvent?: (event: Sse) => void): Promise<Sse[]> {
  if (!response.body) throw new Error('no body');
  const events: Sse[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of response.body) {
    buffer += decoder.decode(chunk, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf('\n\n');
      const fields = new Map<string, string>();
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        fields.set(line.slice(0, colon), line.slice(colon + 1).trimStart());
      }
      if (!fields.has('event')) continue;
      const event = {
        id: fields.get('id') ?? '',
        event: fields.get('event') ?? '',
        data: JSON.parse(fields.get('data') ?? 'null'),
      };
      events.push(event);
      onEvent?.(event);
    }
  }
  return events;
}
