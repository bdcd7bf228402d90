/**
 * `bench:query`'s model-call layers: the requests Quire sent for recorded questions, replayed from
 * this process, one question's calls after another, through each layer a query worker puts between
 * its stages and the provider, against the testkit model server in a process of its own (as the
 * workers' provider is): undici's `request` with the recorded bodies (the bare client's way),
 * `ModelClient`, `ModelClient` under `guardModels` with metrics, and the same with the shared rate
 * limiter on Redis (the workers' stack when a base URL is configured). Each sample is a question's
 * three calls' wall time minus the server's own time for them (its log), so what a layer adds to
 * the end-to-end overhead shows beside the others, in the same run, layers taking turns.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type ModelApi, ModelClient } from '@quire/api-client';
import { connectRedis } from '@quire/jobs';
import { createMetrics, guardModels, SharedRateLimiter } from '@quire/runtime';
import { Agent, request } from 'undici';
import { summarize } from '../lib/stats.js';
import { type RecordedCall, type RecordedRequest, ServerTimes } from './timed-models.js';

const SERVER = fileURLToPath(new URL('../../../packages/testkit/dist/bin/model-server.js', import.meta.url));

/** Questions a layer answers in a row (and one more, not counted, first). */
const RUN = 5;

export const LAYERS = [
  'undici request',
  'ModelClient',
  '+ guardModels (metrics)',
  '+ shared limiter (Redis)',
] as const;
type Layer = (typeof LAYERS)[number];

export interface ClientLayersOptions {
  /** Per question, the requests Quire sent (each with the call that made it). */
  requests: RecordedRequest[][];
  /** Questions counted per layer. */
  rounds: number;
  /** Runs of each layer before the counted ones. */
  warmup: number;
  apiKey: string;
  latencyMs: number;
  latencyPerInputMs: number;
  redisUrl: string;
  /** Key prefix of the limiter's Redis keys (the run's queue prefix). */
  prefix: string;
}

export interface ClientLayersResult {
  rows: Array<Record<string, string | number>>;
  samples: Record<Layer, number[]>;
}

/** The server's own times (`ServerTimes`) from its `--verbose` log lines on standard error. */
class ServerLog {
  readonly #times = new ServerTimes();
  #waiting: (() => void) | undefined;

  constructor(stderr: NodeJS.ReadableStream) {
    createInterface({ input: stderr, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
      let entry: { msg?: unknown };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        return;
      }
      this.#times.logger.debug(entry, typeof entry.msg === 'string' ? entry.msg : undefined);
      this.#waiting?.();
    });
  }

  clear(): void {
    this.#times.take();
  }

  /** The sum of the `count` requests' times logged since `clear()`, once all are logged. */
  async take(count: number): Promise<number> {
    const deadline = Date.now() + 10_000;
    while (this.#times.requests < count) {
      if (Date.now() > deadline)
        throw new Error(`the model server logged ${this.#times.requests} of ${count} requests`);
      await new Promise<void>((resolve) => {
        this.#waiting = resolve;
        setTimeout(resolve, 50).unref();
      });
    }
    return this.#times.take().ms;
  }
}

function call(models: ModelApi, recorded: RecordedCall): Promise<unknown> {
  switch (recorded.method) {
    case 'embeddings':
      return models.embeddings(recorded.params);
    case 'rerank':
      return models.rerank(recorded.params);
    case 'chat':
      return models.chat(recorded.params);
  }
}

export async function clientLayers(options: ClientLayersOptions): Promise<ClientLayersResult> {
  const server = spawn(
    process.execPath,
    [
      SERVER,
      '--port',
      '0',
      '--api-key',
      options.apiKey,
      '--latency-ms',
      String(options.latencyMs),
      '--latency-per-input-ms',
      String(options.latencyPerInputMs),
      '--verbose',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const log = new ServerLog(server.stderr);
  const redis = connectRedis(options.redisUrl, 'request');
  const limiter = new SharedRateLimiter(
    redis,
    { requestsPerMinute: 0, tokensPerMinute: 0 },
    { keyPrefix: `${options.prefix}:layers` },
  );
  const dispatcher = new Agent({ keepAliveTimeout: 30_000 });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the model server did not start in 30 s')), 30_000);
      createInterface({ input: server.stdout }).on('line', (line) => {
        const match = /listening on (http:\/\/\S+)/.exec(line);
        if (match === null) return;
        clearTimeout(timer);
        resolve(match[1]!.replace(/\/$/, ''));
      });
      server.once('exit', (code) => reject(new Error(`the model server exited (${code})`)));
    });
    const client = () =>
      new ModelClient({ baseURL: url, apiKey: options.apiKey, maxRetries: 0, embeddingEncoding: 'base64' });
    const metrics = createMetrics({ service: 'bench' });
    const stacks: Record<Exclude<Layer, 'undici request'>, ModelApi> = {
      ModelClient: client(),
      '+ guardModels (metrics)': guardModels(client(), { metrics, providerKey: url }),
      '+ shared limiter (Redis)': guardModels(client(), { metrics, providerKey: url, limiter }),
    };
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${options.apiKey}` };
    const run = async (layer: Layer, question: RecordedRequest[]): Promise<void> => {
      for (const recorded of question) {
        if (layer === 'undici request') {
          const response = await request(url + recorded.path, {
            method: 'POST',
            headers,
            body: JSON.stringify(recorded.body),
            dispatcher,
          });
          if (response.statusCode !== 200)
            throw new Error(`${recorded.path} answered ${response.statusCode}`);
          await response.body.json();
        } else {
          await call(stacks[layer], recorded.call);
        }
      }
    };
    const samples = Object.fromEntries(LAYERS.map((layer) => [layer, [] as number[]])) as Record<
      Layer,
      number[]
    >;
    // Each layer answers a run of questions in a row, as a busy worker does (the limiter trusts
    // its look at the shared state for a second: a layer idle while the others run would find it
    // stale); the first of each run is not counted, and the layers' order rotates between runs.
    let question = 0;
    const runs = Math.ceil(options.rounds / RUN) + options.warmup;
    for (let block = 0; block < runs; block++) {
      for (let i = 0; i < LAYERS.length; i++) {
        const layer = LAYERS[(block + i) % LAYERS.length]!;
        for (let q = 0; q <= RUN; q++) {
          const asked = options.requests[question++ % options.requests.length]!;
          log.clear();
          const started = performance.now();
          await run(layer, asked);
          const wall = performance.now() - started;
          const serverMs = await log.take(asked.length);
          if (block >= options.warmup && q > 0 && samples[layer].length < options.rounds)
            samples[layer].push(wall - serverMs);
        }
      }
    }
    const base = summarize(samples['undici request']).p50;
    const rows = LAYERS.map((layer) => {
      const s = summarize(samples[layer]);
      return {
        layer,
        n: s.n,
        'p50 ms': s.p50,
        'p95 ms': s.p95,
        'p50 − undici ms': layer === 'undici request' ? 0 : s.p50 - base,
      };
    });
    return { rows, samples };
  } finally {
    await limiter.close().catch(() => undefined);
    await redis.quit().catch(() => redis.disconnect());
    await dispatcher.close().catch(() => undefined);
    server.kill('SIGTERM');
  }
}
