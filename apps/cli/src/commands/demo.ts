/**
 * `quire demo`: the whole product in one command, on a machine with nothing but Node. It finds or
 * starts a Redis, starts both workers on the embedded defaults with a fresh data directory and a
 * queue prefix of its own (so it never touches other data), ingests the sample documents, asks a
 * few questions, prints the answers with their sources, and then stops and removes everything it
 * started or wrote.
 */
import { randomBytes } from 'node:crypto';
import { rm, rmdir } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { Redis } from 'ioredis';
import { type CommandContext, createContext } from '../context.js';
import { CliError, errorMessage } from '../errors.js';
import { formatDuration } from '../format.js';
import { type RunningService, serviceSpec, startServices } from '../processes.js';
import { redactUrl } from '../redact.js';
import { type FoundRedis, findRedis } from '../redis-launcher.js';
import { runAsk } from './ask.js';
import { runIngest } from './ingest.js';

export interface DemoCommandOptions {
  samplesDir: string;
  questions: readonly string[];
  /** Keep the data directory afterwards. */
  keep: boolean;
  /** Print the workers' log lines. */
  verbose: boolean;
  /** `redis-server` used when no Redis answers. */
  redisBinary?: string;
  /** Longest wait for the ingestion and for each answer, in ms. */
  timeoutMs: number;
}

/** Settings the demo never inherits: it always runs on the embedded defaults. */
const OWN_SETTINGS =
  /^(REDIS_URL|QUIRE_.*|QDRANT_.*|LOG_LEVEL|LOG_FORMAT|METRICS_PORT|SHUTDOWN_GRACE_MS|WORKER_.*|INGEST_CONCURRENCY|QUERY_CONCURRENCY|BATCH_CONCURRENCY)$/;

export async function runDemo(ctx: CommandContext, options: DemoCommandOptions): Promise<number> {
  const started = Date.now();
  let succeeded = false;
  const c = ctx.term.colors;
  const out = (text = '') => ctx.term.stdout.write(`${text}\n`);
  const step = (text: string) => out(`${c.cyan('›')} ${text}`);
  const runId = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const dataDir = join(ctx.cwd, '.quire', 'demo', runId);
  // Braces: a Redis Cluster hash tag, as in the default prefix; harmless on a single Redis.
  const prefix = `{quire-demo-${runId}}`;

  out(c.bold('Quire demo'));
  let redis: FoundRedis;
  try {
    redis = await findRedis({
      url: ctx.configVars().REDIS_URL,
      dir: join(dataDir, 'redis'),
      ...(options.redisBinary !== undefined ? { binary: options.redisBinary } : {}),
    });
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  const services: RunningService[] = [];
  try {
    const redisNote = {
      env: 'REDIS_URL',
      local: 'the local default',
      private: 'a private redis-server started for the demo',
    }[redis.origin];
    step(`Redis: ${redactUrl(redis.url)} (${redisNote}), queue prefix ${prefix}`);

    const inherited = Object.fromEntries(
      Object.entries(ctx.env.vars).filter(([key]) => !OWN_SETTINGS.test(key)),
    );
    const vars: Record<string, string | undefined> = {
      ...inherited,
      REDIS_URL: redis.url,
      QUIRE_QUEUE_PREFIX: prefix,
      QUIRE_DATA_DIR: dataDir,
      QUIRE_FILE_ROOTS: options.samplesDir,
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'info',
      SHUTDOWN_GRACE_MS: '10000',
    };
    step(
      `Starting the ingest and query workers (built-in models, SQLite store in ${relative(ctx.cwd, dataDir)})`,
    );
    const onLine = options.verbose
      ? (line: { service: string; text: string }) =>
          ctx.term.stderr.write(`${c.dim(`${line.service} │ ${line.text}`)}\n`)
      : undefined;
    await startServices(
      (['ingest', 'query'] as const).map(serviceSpec),
      { env: vars, cwd: ctx.cwd, ...(onLine ? { onLine } : {}) },
      services,
    );

    const demo = createContext({
      env: { ...ctx.env, vars, tenant: 'demo', fileRoots: [options.samplesDir], gatewayUrl: undefined },
      term: ctx.term,
      cwd: ctx.cwd,
      signal: ctx.signal,
      globals: {},
    });
    step(`Ingesting the sample documents in ${relative(ctx.cwd, options.samplesDir) || '.'}/`);
    const ingested = await runIngest(demo, [options.samplesDir], {
      wait: true,
      json: false,
      metadata: {},
      timeoutMs: options.timeoutMs,
    });
    if (ctx.signal.aborted) return 130;
    if (ingested !== 0) throw new CliError('the sample documents were not all ingested (see above)');

    for (const question of options.questions) {
      out();
      out(`${c.bold(c.cyan('?'))} ${c.bold(question)}`);
      await runAsk(demo, question, {
        json: false,
        documentIds: [],
        sourceNames: [],
        metadata: {},
        timeoutMs: options.timeoutMs,
      });
      if (ctx.signal.aborted) return 130;
    }
    out();
    succeeded = true;
    return 0;
  } catch (error) {
    for (const service of services) {
      if (options.verbose) continue;
      const tail = service.tail().slice(-10);
      if (tail.length > 0)
        ctx.term.stderr.write(
          `${c.dim(`last lines of the ${service.name} worker:`)}\n${tail.map((l) => `  ${l}`).join('\n')}\n`,
        );
    }
    throw error instanceof CliError ? error : new CliError(`the demo failed: ${errorMessage(error)}`);
  } finally {
    await Promise.all(services.map((s) => s.stop(15_000)));
    await removePrefix(redis.url, prefix).catch((error: unknown) =>
      ctx.term.stderr.write(
        `warning: could not remove the demo's keys (${prefix}:*): ${errorMessage(error)}\n`,
      ),
    );
    await redis.stop();
    if (!options.keep) {
      await rm(dataDir, { recursive: true, force: true });
      // `.quire/demo` and `.quire`, when the demo made them and nothing else is in them.
      for (const dir of [dirname(dataDir), dirname(dirname(dataDir))]) {
        await rmdir(dir).catch(() => undefined);
      }
    }
    const cleaned = [
      'stopped the workers',
      ...(redis.origin === 'private' ? ['stopped the private Redis'] : []),
      `removed the queue keys${options.keep ? '' : ' and the data directory'}`,
    ];
    const took = formatDuration(Date.now() - started);
    step(`${succeeded ? `Done in ${took}` : 'Cleaned up'}: ${cleaned.join(', ')}.`);
    if (options.keep) step(`Kept the data directory ${relative(ctx.cwd, dataDir)}`);
  }
}

/** Deletes the demo's keys (SCAN + UNLINK, never blocking a shared Redis). */
async function removePrefix(url: string, prefix: string): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  try {
    await client.connect();
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await client.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}
