/**
 * Query latency and overhead: per-stage times of answerQuestion and Quire's own share of them (total
 * minus time inside model calls), with the built-in models in process, with the testkit model server
 * (latency on) in process, and end to end through the queue (producer SDK → query worker process);
 * then a batch of questions through one flow, against the throughput the provider's latency allows at
 * the workers' concurrency (bound = concurrency ÷ model time per question).
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BuiltinModels, type ModelApi, ModelClient } from '@quire/api-client';
import {
  type AnswerResult,
  answerQuestion,
  type ChunkPoint,
  chunkDocument,
  loadDocument,
  pointId,
  SqliteVectorStore,
  sqliteCollectionName,
} from '@quire/core';
import { Producer } from '@quire/jobs';
import {
  cleanupPrefix,
  getTestRedis,
  makeTempDir,
  spawnProcess,
  startModelServer,
  uniquePrefix,
} from '@quire/testkit';
import { z } from 'zod';
import { nonNegative, parseFlags, positiveInt } from './lib/args.js';
import { corpusDir } from './lib/env.js';
import { prng } from './lib/prng.js';
import { machineInfo, percent, printLine, printTable, writeResults } from './lib/report.js';
import { ServerSampler } from './lib/server-sampler.js';
import { median, summarize } from './lib/stats.js';
import { BUILTIN_MODEL_ENV, startWorkers, stopWorkers, untilWorkerDies } from './lib/workers.js';
import { startBareClient } from './query/bare-client.js';
import type { ClientCpuInput, ClientCpuResult } from './query/client-cpu.js';
import { clientLayers } from './query/client-layers.js';
import { type RecordedRequest, RecordingModels, ServerTimes, TimedModels } from './query/timed-models.js';

const CLIENT_CPU = fileURLToPath(new URL('./query/client-cpu.ts', import.meta.url));

const USAGE = `pnpm bench:query [flags]
  --questions N            sequential questions with the built-in models in process (default 200)
  --server-questions N     sequential questions through the model server, in process and end to end (default 50)
  --batch N                questions in the batch (default 1000)
  --query-workers N        query worker processes for the end-to-end and batch runs (default 1)
  --query-concurrency N    QUERY_CONCURRENCY of each worker (default 8, the worker's default)
  --latency-ms N           model server latency per request (default 100)
  --latency-per-input-ms N model server latency per embedded input / reranked document (default 1)
  --client-requests N      requests per run of the client CPU comparison, undici vs fetch (default 2000; 0 skips it)
  --client-rounds N        rounds of that comparison, transports alternating (default 3)
  --client-layers N        questions replayed through each model-call layer (undici, ModelClient,
                           guardModels, the shared limiter) against a server process (default 40; 0 skips it)
  --cpu-profile-dir DIR    query workers write V8 CPU profiles there (read them with profile-summary)`;

const flags = parseFlags(
  z.object({
    questions: positiveInt.default(200),
    serverQuestions: positiveInt.default(50),
    batch: positiveInt.default(1000),
    queryWorkers: positiveInt.default(1),
    queryConcurrency: positiveInt.default(8),
    latencyMs: nonNegative.default(100),
    latencyPerInputMs: nonNegative.default(1),
    clientRequests: z.coerce.number().int().min(0).default(2000),
    clientRounds: positiveInt.default(3),
    clientLayers: z.coerce.number().int().min(0).default(40),
    cpuProfileDir: z.string().min(1).optional(),
  }),
  USAGE,
);

const TENANT = 'bench';
const API_KEY = 'sk-bench';
const DIMENSION = Number(BUILTIN_MODEL_ENV.QUIRE_EMBEDDING_DIMENSION);
const MODEL_NAMES = {
  embedding: BUILTIN_MODEL_ENV.QUIRE_EMBEDDING_MODEL,
  rerank: BUILTIN_MODEL_ENV.QUIRE_RERANK_MODEL,
  chat: BUILTIN_MODEL_ENV.QUIRE_CHAT_MODEL,
};
const WARMUP = 10;
/** English documents of the corpus the questions are asked over (about 1,300 chunks). */
const DOCUMENTS = [
  'text/gutenberg_en_alice.txt',
  'text/squad_wiki_Beyoncé.txt',
  'text/squad_wiki_Frédéric_Chopin.txt',
  'md/bullmq_flows.md',
  'md/bullmq_postgresql.md',
  'md/bullmq_parallelism-and-concurrency.md',
  'pdf/pdfjs__freeculture.pdf',
  'pdf/lits__uber_10q_2022q1.pdf',
];

/** Fills the store as the ingest worker would (load → chunk → built-in embeddings → upsert). */
async function fillStore(store: SqliteVectorStore, models: ModelApi): Promise<string[]> {
  const texts: string[] = [];
  const ingestedAt = new Date().toISOString();
  for (const name of DOCUMENTS) {
    const bytes = await readFile(join(corpusDir(), name));
    const doc = await loadDocument({ bytes, name });
    const chunks = chunkDocument(doc, {});
    for (let i = 0; i < chunks.length; i += 64) {
      const batch = chunks.slice(i, i + 64);
      const { vectors } = await models.embeddings({
        model: MODEL_NAMES.embedding,
        input: batch.map((c) => c.text),
      });
      const points: ChunkPoint[] = batch.map((c, j) => ({
        id: pointId(TENANT, name, 'v1', c.index),
        tenant: TENANT,
        documentId: name,
        version: 'v1',
        chunkIndex: c.index,
        chunkCount: chunks.length,
        text: c.text,
        pageStart: c.pageStart,
        pageEnd: c.pageEnd,
        headingPath: c.headingPath,
        sourceName: name,
        metadata: {},
        ingestedAt,
        vector: vectors[j]!,
      }));
      await store.upsert(TENANT, points);
    }
    texts.push(...chunks.map((c) => c.text));
  }
  return texts;
}

/** Questions made of 5 to 9 consecutive words of stored chunks, so that most find passages. */
function makeQuestions(texts: readonly string[], count: number, seed: number): string[] {
  const random = prng(seed);
  return Array.from({ length: count }, () => {
    const words = texts[random(texts.length)]!.split(/\s+/).filter((w) => /\p{L}/u.test(w));
    const length = 5 + random(5);
    const start = random(Math.max(1, words.length - length));
    return `What does the text say about ${words.slice(start, start + length).join(' ')}?`;
  });
}

interface Sample {
  stages: AnswerResult['timingsMs'];
  modelMs: { embeddings: number; rerank: number; chat: number; total: number };
  overheadMs: number;
  /** With the model server: total − the server's own time (its log), i.e. overhead with the client's share. */
  beyondServerMs?: number;
  notFound: boolean;
}

async function inProcess(
  store: SqliteVectorStore,
  models: TimedModels,
  questions: readonly string[],
  serverTimes?: ServerTimes,
): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (let i = 0; i < questions.length; i++)
    samples.push(await ask(store, models, questions[i]!, serverTimes));
  return samples.slice(WARMUP);
}

async function ask(
  store: SqliteVectorStore,
  models: TimedModels,
  question: string,
  serverTimes?: ServerTimes,
): Promise<Sample> {
  models.take();
  serverTimes?.take();
  const result = await answerQuestion(
    { store, models, modelNames: MODEL_NAMES },
    { tenant: TENANT, question },
  );
  const modelMs = models.take();
  const server = serverTimes?.take();
  return {
    stages: result.timingsMs,
    modelMs,
    overheadMs: result.timingsMs.total - modelMs.total,
    ...(server ? { beyondServerMs: result.timingsMs.total - server.ms } : {}),
    notFound: result.notFound,
  };
}

/**
 * The same questions through two model clients, alternating which goes first per question, so that
 * both see the same machine: undici's keep-alive pool (the client's default) and the global fetch.
 */
async function inProcessByTransport(
  store: SqliteVectorStore,
  clients: { undici: TimedModels; fetch: TimedModels },
  questions: readonly string[],
  serverTimes: ServerTimes,
): Promise<{ undici: Sample[]; fetch: Sample[] }> {
  const out = { undici: [] as Sample[], fetch: [] as Sample[] };
  for (let i = 0; i < questions.length; i++) {
    const order = i % 2 === 0 ? (['undici', 'fetch'] as const) : (['fetch', 'undici'] as const);
    for (const transport of order) {
      const sample = await ask(store, clients[transport], questions[i]!, serverTimes);
      if (i >= WARMUP) out[transport].push(sample);
    }
  }
  return out;
}

/** The client's CPU per request with each transport, each in a process of its own, rounds alternating. */
async function clientCpu(
  baseURL: string,
): Promise<{ rows: Record<string, string | number>[]; results: ClientCpuResult[] }> {
  const results: ClientCpuResult[] = [];
  for (let round = 0; round < flags.clientRounds; round++) {
    const order = round % 2 === 0 ? (['undici', 'fetch'] as const) : (['fetch', 'undici'] as const);
    for (const transport of order) {
      const input: ClientCpuInput = {
        baseURL,
        apiKey: API_KEY,
        model: MODEL_NAMES.embedding,
        transport,
        requests: flags.clientRequests,
        concurrency: 8,
        inputs: 8,
      };
      const child = await spawnProcess(process.execPath, [
        '--import',
        import.meta.resolve('tsx'),
        CLIENT_CPU,
        JSON.stringify(input),
      ]);
      const exit = await child.exited;
      const line = child.lines.find((l) => l.stream === 'stdout' && l.text.startsWith('RESULT '));
      if (exit.code !== 0 || line === undefined)
        throw new Error(`client CPU run failed:\n${child.output().slice(-2000)}`);
      results.push(JSON.parse(line.text.slice('RESULT '.length)) as ClientCpuResult);
    }
  }
  const of = (transport: string) => results.filter((r) => r.transport === transport);
  const undiciCpu = of('undici').map((r) => r.cpuUsPerRequest);
  const fetchCpu = of('fetch').map((r) => r.cpuUsPerRequest);
  const ratios = undiciCpu.map((u, i) => u / fetchCpu[i]!);
  const rows = (['undici', 'fetch'] as const).map((transport) => ({
    transport,
    rounds: of(transport).length,
    'cpu µs/request per round': of(transport)
      .map((r) => r.cpuUsPerRequest.toFixed(0))
      .join(' / '),
    'cpu µs/request p50': median(of(transport).map((r) => r.cpuUsPerRequest)),
    'wall ms/request p50': median(of(transport).map((r) => r.wallMsPerRequest)),
    'vs fetch p50': transport === 'fetch' ? '1×' : `${median(ratios).toFixed(2)}×`,
  }));
  return { rows, results };
}

function stageRows(label: string, samples: readonly Sample[]) {
  const columns: [string, (s: Sample) => number][] = [
    ['embed (with model)', (s) => s.stages.embed],
    ['search', (s) => s.stages.search],
    ['rerank (with model)', (s) => s.stages.rerank],
    ['generate (with model)', (s) => s.stages.generate],
    ['total', (s) => s.stages.total],
    ['model calls', (s) => s.modelMs.total],
    ['overhead = total − model', (s) => s.overheadMs],
    ['  embed stage − its model call', (s) => s.stages.embed - s.modelMs.embeddings],
    ['  rerank stage − its model call', (s) => s.stages.rerank - s.modelMs.rerank],
    ['  generate stage − its model call', (s) => s.stages.generate - s.modelMs.chat],
  ];
  if (samples.every((s) => s.beyondServerMs !== undefined))
    columns.push(['total − server time (overhead with the client)', (s) => s.beyondServerMs!]);
  return columns.map(([stage, pick]) => {
    const s = summarize(samples.map(pick));
    return { run: label, stage, n: s.n, 'p50 ms': s.p50, 'p95 ms': s.p95, 'max ms': s.max };
  });
}

async function main() {
  const machine = machineInfo();
  printLine(
    `query benchmark: ${flags.questions} questions with built-in models, ${flags.serverQuestions} through the model server ` +
      `(latency ${flags.latencyMs} ms + ${flags.latencyPerInputMs} ms/input), batch of ${flags.batch}`,
  );
  printLine(`machine: ${machine.cpus} × ${machine.cpuModel}, load average ${machine.loadAverage.join(' ')}`);
  const tmp = await makeTempDir('bench-query');
  const redis = await getTestRedis();
  const store = new SqliteVectorStore({
    path: join(tmp.path, 'vectors.db'),
    dimension: DIMENSION,
    collection: sqliteCollectionName(MODEL_NAMES.embedding, DIMENSION),
  });
  const serverTimes = new ServerTimes();
  const server = await startModelServer({
    apiKey: API_KEY,
    latencyMs: flags.latencyMs,
    latencyPerInputMs: flags.latencyPerInputMs,
    logger: serverTimes.logger,
  });
  const prefix = uniquePrefix('bench-query');
  const results: Record<string, unknown> = {};
  try {
    await store.init();
    const builtin = new BuiltinModels({ dimension: DIMENSION });
    const texts = await fillStore(store, builtin);
    printLine(`store: ${texts.length} chunks from ${DOCUMENTS.length} corpus documents`);

    // 1. In process, built-in models.
    const local = await inProcess(
      store,
      new TimedModels(builtin),
      makeQuestions(texts, flags.questions + WARMUP, 1),
    );
    // 2. In process, the model server over HTTP: the client over undici's pool (its default) and
    // over the global fetch, question by question.
    const client = new ModelClient({ baseURL: server.url, apiKey: API_KEY, maxRetries: 0 });
    const fetchClient = new ModelClient({
      baseURL: server.url,
      apiKey: API_KEY,
      maxRetries: 0,
      fetch: globalThis.fetch,
    });
    const remoteQuestions = makeQuestions(texts, flags.serverQuestions + WARMUP, 2);
    const byTransport = await inProcessByTransport(
      store,
      { undici: new TimedModels(client), fetch: new TimedModels(fetchClient) },
      remoteQuestions,
      serverTimes,
    );
    const remote = byTransport.undici;
    const rows = [
      ...stageRows('built-in, in process', local),
      ...stageRows('model server, in process', remote),
      ...stageRows('model server, in process, global fetch', byTransport.fetch),
    ];
    printTable('answerQuestion per stage (sequential questions, after warm-up)', rows);
    printLine(
      `  not found: ${local.filter((s) => s.notFound).length}/${local.length} (built-in), ` +
        `${remote.filter((s) => s.notFound).length}/${remote.length} (model server)`,
    );

    // 2b. The client's own CPU per request, undici against fetch, on a server without latency.
    if (flags.clientRequests > 0) {
      const bare = await startModelServer({ apiKey: API_KEY });
      try {
        const cpu = await clientCpu(bare.url);
        printTable(
          `model client CPU per request (${flags.clientRequests} embeddings requests of 8 inputs, 8 in flight, own process)`,
          cpu.rows,
        );
        Object.assign(results, { clientCpu: cpu });
      } finally {
        await bare.close({ graceMs: 1000 });
      }
    }

    // 3. End to end: producer SDK → Redis → query worker process → model server.
    const workers = await Promise.all(
      Array.from({ length: flags.queryWorkers }, () =>
        startWorkers(
          'query-worker',
          1,
          {
            REDIS_URL: redis.url,
            QUIRE_QUEUE_PREFIX: prefix,
            QUIRE_DATA_DIR: tmp.path,
            QUIRE_MODEL_BASE_URL: server.url,
            QUIRE_MODEL_API_KEY: API_KEY,
            ...BUILTIN_MODEL_ENV,
            QUERY_CONCURRENCY: String(flags.queryConcurrency),
          },
          flags.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(flags.cpuProfileDir)}`] : [],
        ).then(([w]) => w!),
      ),
    );
    const producer = new Producer({ connection: redis.url, prefix });
    // The floor: a bare BullMQ worker replaying, with undici, the requests Quire sends for the same
    // question (recorded in process first); asked alternately with Quire, question by question.
    const e2eQuestions = makeQuestions(texts, flags.serverQuestions + WARMUP, 3);
    const recorder = new RecordingModels(
      new ModelClient({ baseURL: server.url, apiKey: API_KEY, maxRetries: 0, embeddingEncoding: 'base64' }),
      'base64',
    );
    const recorded: RecordedRequest[][] = [];
    for (const question of e2eQuestions) {
      await answerQuestion(
        { store, models: recorder, modelNames: MODEL_NAMES },
        { tenant: TENANT, question },
      );
      recorded.push(recorder.take());
    }
    // What each layer between a worker's stages and the provider adds to the same requests.
    if (flags.clientLayers > 0) {
      const layers = await clientLayers({
        requests: recorded.slice(WARMUP),
        rounds: flags.clientLayers,
        warmup: 1,
        apiKey: API_KEY,
        latencyMs: flags.latencyMs,
        latencyPerInputMs: flags.latencyPerInputMs,
        redisUrl: redis.url,
        prefix,
      });
      printTable(
        `model-call layers (${flags.clientLayers} questions' recorded requests per layer from this process, in runs of 5 after one not counted, layers taking turns; per question: its calls' wall time − the server's own time; server in a process of its own)`,
        layers.rows,
      );
      Object.assign(results, { clientLayers: layers });
    }
    const bare = await startBareClient({
      redisUrl: redis.url,
      prefix,
      baseURL: server.url,
      apiKey: API_KEY,
      requests: recorded,
      dir: tmp.path,
    });
    try {
      const e2e: {
        e2eMs: number;
        workerMs: number;
        searchMs: number;
        /** The worker's stages beyond the server's time for their model call. */
        embedBeyondMs: number;
        rerankBeyondMs: number;
        generateBeyondMs: number;
        /** The worker's total − its four stages. */
        restMs: number;
        serverMs: number;
        serverRequests: number;
        bareMs: number;
        bareProcessorMs: number;
        bareServerMs: number;
      }[] = [];
      for (let i = 0; i < e2eQuestions.length; i++) {
        serverTimes.take();
        const started = performance.now();
        const result = await untilWorkerDies(
          workers,
          producer.ask({ tenant: TENANT, question: e2eQuestions[i]! }),
        );
        const e2eMs = performance.now() - started;
        const server = serverTimes.take();
        const { ms: bareMs, processorMs: bareProcessorMs } = await untilWorkerDies(
          [bare.process],
          bare.ask(i),
        );
        const bareServer = serverTimes.take();
        if (server.requests !== bareServer.requests) {
          throw new Error(
            `question ${i}: Quire made ${server.requests} model requests, the bare client ${bareServer.requests}`,
          );
        }
        if (i >= WARMUP) {
          e2e.push({
            e2eMs,
            workerMs: result.timingsMs.total,
            searchMs: result.timingsMs.search,
            embedBeyondMs: result.timingsMs.embed - server.byPath.embeddings,
            rerankBeyondMs: result.timingsMs.rerank - server.byPath.rerank,
            generateBeyondMs: result.timingsMs.generate - server.byPath.chat,
            restMs:
              result.timingsMs.total -
              result.timingsMs.embed -
              result.timingsMs.search -
              result.timingsMs.rerank -
              result.timingsMs.generate,
            serverMs: server.ms,
            serverRequests: server.requests,
            bareMs,
            bareProcessorMs,
            bareServerMs: bareServer.ms,
          });
        }
      }
      const e2eRows = (
        [
          ['end to end (producer.ask)', (s) => s.e2eMs],
          ['model server time (its own log)', (s) => s.serverMs],
          ['overhead = end to end − server time', (s) => s.e2eMs - s.serverMs],
          ['  of which queue (end to end − worker total)', (s) => s.e2eMs - s.workerMs],
          ['  of which in the worker (worker total − server time)', (s) => s.workerMs - s.serverMs],
          ['    of which its search stage', (s) => s.searchMs],
          ["    its embed stage − the server's time for it", (s) => s.embedBeyondMs],
          ["    its rerank stage − the server's time for it", (s) => s.rerankBeyondMs],
          ["    its generate stage − the server's time for it", (s) => s.generateBeyondMs],
          ['    the rest of its total (outside the four stages)', (s) => s.restMs],
          ['bare client end to end (same requests)', (s) => s.bareMs],
          ['floor = bare end to end − its server time', (s) => s.bareMs - s.bareServerMs],
          ['  of which queue (bare end to end − its processor)', (s) => s.bareMs - s.bareProcessorMs],
          ['  of which in the processor (its time − server time)', (s) => s.bareProcessorMs - s.bareServerMs],
          ['overhead − floor (same question)', (s) => s.e2eMs - s.serverMs - (s.bareMs - s.bareServerMs)],
          ['  queue − bare queue', (s) => s.e2eMs - s.workerMs - (s.bareMs - s.bareProcessorMs)],
          [
            '  in the worker − in the bare processor',
            (s) => s.workerMs - s.serverMs - (s.bareProcessorMs - s.bareServerMs),
          ],
        ] as [string, (s: (typeof e2e)[number]) => number][]
      ).map(([what, pick]) => {
        const s = summarize(e2e.map(pick));
        return { what, n: s.n, 'p50 ms': s.p50, 'p95 ms': s.p95, 'max ms': s.max };
      });
      printTable(
        `end to end through the queue (${flags.queryWorkers} query worker(s), sequential questions, server requests per question: ${e2e[0]?.serverRequests ?? 0}; bare client: a BullMQ worker replaying them with undici)`,
        e2eRows,
      );

      // 4. A batch: throughput against the concurrency bound.
      const batchQuestions = makeQuestions(texts, flags.batch, 4).map((question) => ({ question }));
      serverTimes.take();
      const sampler = new ServerSampler(server);
      const started = performance.now();
      const { batchId } = await producer.enqueueBatch({ tenant: TENANT, questions: batchQuestions });
      const report = await untilWorkerDies(workers, producer.waitForBatch(batchId, { timeoutMs: 3_600_000 }));
      const seconds = (performance.now() - started) / 1000;
      const use = sampler.stop({});
      const served = serverTimes.take();
      const concurrency = flags.queryWorkers * flags.queryConcurrency;
      const modelSecondsPerQuestion = served.ms / 1000 / report.total;
      const bound = concurrency / modelSecondsPerQuestion;
      const throughput = report.answered / seconds;
      const batchRow = {
        questions: report.total,
        answered: report.answered,
        'wall s': seconds,
        'questions/s': throughput,
        'model s/question': modelSecondsPerQuestion,
        concurrency,
        'bound q/s': bound,
        'share of bound': percent(throughput / bound),
        'server in-flight (mean)': use.meanInFlight,
        'server in-flight (peak)': use.peakInFlight,
      };
      printTable('batch (one flow: a parent job, one query job per question)', [batchRow]);
      Object.assign(results, { e2e: { rows: e2eRows, samples: e2e }, batch: batchRow });
    } finally {
      await bare.close();
      await producer.close();
      await stopWorkers(workers);
    }
    Object.assign(results, { stages: rows, chunks: texts.length });
  } finally {
    await server.close({ graceMs: 1000 });
    await store.close();
    await cleanupPrefix(redis.url, prefix);
    await redis.stop();
    await tmp.cleanup();
  }
  const path = writeResults('query', { benchmark: 'query', machine, flags, ...results });
  printLine(`\nresults: ${path}`);
}

await main();
