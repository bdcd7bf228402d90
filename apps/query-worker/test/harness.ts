/**
 * Starts real worker processes (the built `dist/main.js` of the query worker and of the ingest
 * worker) around a testkit model server, for end-to-end tests: one Redis prefix, one SQLite store
 * shared by the processes, the producer SDK as another service would use it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type IngestJobInput, type IngestResult, Producer, QUEUES } from '@quire/jobs';
import {
  cleanupPrefix,
  getTestRedis,
  makeTempDir,
  type RunningModelServer,
  type SpawnedProcess,
  spawnProcess,
  startModelServer,
  type TempDir,
  type TestRedis,
  uniquePrefix,
} from '@quire/testkit';
import { ScriptedModels } from './scripted-models.js';

const QUERY_MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
// A devDependency of this package, so turbo builds it before these tests run.
const INGEST_MAIN = fileURLToPath(new URL('../../ingest-worker/dist/main.js', import.meta.url));

const API_KEY = 'sk-query-e2e-secret';
export const DIMENSION = 256;

function start(main: string, service: string, env: Record<string, string>): Promise<SpawnedProcess> {
  if (!existsSync(main)) {
    throw new Error(`${main} is missing: run \`pnpm build\` first (turbo does it before tests)`);
  }
  return spawnProcess(process.execPath, [main], {
    env: { LOG_FORMAT: 'json', LOG_LEVEL: 'info', ...env },
    readyLine: new RegExp(`${service} ready`),
    readyTimeoutMs: 30_000,
  });
}

export function startQueryWorker(env: Record<string, string>): Promise<SpawnedProcess> {
  return start(QUERY_MAIN, 'query-worker', env);
}

export function startIngestWorker(env: Record<string, string>): Promise<SpawnedProcess> {
  return start(INGEST_MAIN, 'ingest-worker', env);
}

export interface Stack {
  redis: TestRedis;
  tmp: TempDir;
  prefix: string;
  /** The model API every worker talks to. */
  server: RunningModelServer;
  /** What answers behind the server, with its levers. */
  models: ScriptedModels;
  producer: Producer;
  /** Settings shared by every worker process of the stack. */
  env: Record<string, string>;
  /** Starts one more query worker process, stopped by `stop()`. */
  addQueryWorker(extra?: Record<string, string>): Promise<SpawnedProcess>;
  /** Ingests documents through the ingest worker and waits until each is stored. */
  ingest(documents: IngestJobInput[]): Promise<IngestResult[]>;
  stop(): Promise<void>;
}

export interface StackOptions {
  label: string;
  /** Added to the query worker's environment. */
  queryEnv?: Record<string, string>;
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const redis = await getTestRedis();
  const tmp = await makeTempDir(options.label);
  const prefix = uniquePrefix(options.label);
  const models = new ScriptedModels(DIMENSION);
  const server = await startModelServer({ models, apiKey: API_KEY });
  const env: Record<string, string> = {
    REDIS_URL: redis.url,
    QUIRE_QUEUE_PREFIX: prefix,
    QUIRE_DATA_DIR: join(tmp.path, 'data'),
    QUIRE_MODEL_BASE_URL: server.url,
    QUIRE_MODEL_API_KEY: API_KEY,
    QUIRE_EMBEDDING_MODEL: 'test-embed',
    QUIRE_EMBEDDING_DIMENSION: String(DIMENSION),
    QUIRE_RERANK_MODEL: 'test-rerank',
    QUIRE_CHAT_MODEL: 'test-chat',
    // BullMQ owns the retries; a failure reaches the job at once.
    QUIRE_MODEL_MAX_RETRIES: '0',
  };
  const processes: SpawnedProcess[] = [];
  const producer = new Producer({ connection: redis.url, prefix });
  const stack: Stack = {
    redis,
    tmp,
    prefix,
    server,
    models,
    producer,
    env,
    async addQueryWorker(extra = {}) {
      const worker = await startQueryWorker({ ...env, ...options.queryEnv, ...extra });
      processes.push(worker);
      return worker;
    },
    async ingest(documents) {
      const jobIds = [];
      for (const document of documents) jobIds.push((await producer.enqueueIngest(document)).jobId);
      return (await Promise.all(
        jobIds.map((id) => producer.waitForJob(QUEUES.ingest, id, { timeoutMs: 60_000 })),
      )) as IngestResult[];
    },
    async stop() {
      await producer.close();
      await Promise.all(processes.splice(0).map((p) => p.kill('SIGTERM')));
      await server.close({ graceMs: 0 });
      await cleanupPrefix(redis.url, prefix);
      await redis.stop();
      await tmp.cleanup();
    },
  };
  try {
    processes.push(await startIngestWorker({ ...env, INGEST_CONCURRENCY: '4' }));
    await stack.addQueryWorker();
  } catch (error) {
    await stack.stop();
    throw error;
  }
  return stack;
}
