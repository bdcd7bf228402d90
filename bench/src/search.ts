/**
 * Embedded search: p50/p95 latency of SqliteVectorStore (sqlite-vec + FTS5) at dimension 384 for dense,
 * lexical and hybrid (both searches fused, as retrieval does) queries, over N chunks in one tenant and
 * over N chunks spread across many tenants. Chunk texts (what lexical search reads) are windows of real
 * corpus prose. Vectors are pseudo-random: a brute-force KNN scans every vector of the tenant whatever
 * their values, and embedding 200k chunks with the built-in embedder would take minutes of the run.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelClient } from '@quire/api-client';
import { type ChunkPoint, fuseRankings, pointId, retrieveCandidates, SqliteVectorStore } from '@quire/core';
import { makeTempDir, type SpawnedProcess, spawnProcess } from '@quire/testkit';
import { z } from 'zod';
import { intList, nonNegative, parseFlags, positiveInt } from './lib/args.js';
import { corpusDir } from './lib/env.js';
import { prng } from './lib/prng.js';
import { machineInfo, printLine, printTable, writeResults } from './lib/report.js';
import { summarize } from './lib/stats.js';
import { BUILTIN_MODEL_ENV } from './lib/workers.js';

const USAGE = `pnpm bench:search [flags]
  --sizes 10000,100000   chunks per layout (default 10000,100000)
  --tenants N            tenants of the spread layout (default 100)
  --queries N            timed queries per size, layout and mode (default 200)
  --limit N              hits per search, as retrieval's candidate count (default 30)
  --embed-latency-ms N   latency of the model server (a separate process) that embeds the questions
                         of the retrieval rows; 0 leaves those rows out (default 50)`;

const flags = parseFlags(
  z.object({
    sizes: intList.default([10_000, 100_000]),
    tenants: positiveInt.default(100),
    queries: positiveInt.default(200),
    limit: positiveInt.default(30),
    embedLatencyMs: nonNegative.default(50),
  }),
  USAGE,
);

const DIMENSION = 384;
const WARMUP_QUERIES = 20;
const UPSERT_BATCH = 500;
/** English prose and docs from the corpus, read at run time (never copied into the repository). */
const SOURCES = [
  'text/gutenberg_en_alice.txt',
  'text/squad_wiki_Beyoncé.txt',
  'text/squad_wiki_Frédéric_Chopin.txt',
  'md/bullmq_changelog-v5.md',
  'md/bullmq_flows.md',
  'md/bullmq_postgresql.md',
];

const words = SOURCES.flatMap((f) =>
  readFileSync(join(corpusDir(), f), 'utf8')
    .split(/\s+/)
    .filter((w) => w.length > 0),
);

/** A pseudo-random vector with components in [-1, 1) (the store normalises it). */
function randomVector(random: (n: number) => number): number[] {
  return Array.from({ length: DIMENSION }, () => random(2_000_000) / 1_000_000 - 1);
}

/** A chunk-sized window of corpus prose (about 250 words, as a 400-token chunk holds). */
function chunkText(random: (n: number) => number): string {
  const start = random(words.length - 260);
  return words.slice(start, start + 240 + random(20)).join(' ');
}

/** A question-sized window: 4 to 9 words of the corpus. */
function questionText(random: (n: number) => number): string {
  const start = random(words.length - 10);
  return words.slice(start, start + 4 + random(6)).join(' ');
}

interface Layout {
  name: 'one tenant' | 'spread';
  /** The tenant a query runs in. */
  tenantFor: (i: number) => string;
}

async function build(store: SqliteVectorStore, size: number) {
  const random = prng(size);
  const ingestedAt = new Date().toISOString();
  const tenants = [
    { tenantOf: () => 'solo', prefix: 'solo' },
    { tenantOf: (i: number) => `t${i % flags.tenants}`, prefix: 'spread' },
  ];
  let upsertMs = 0;
  for (const { tenantOf, prefix } of tenants) {
    for (let start = 0; start < size; start += UPSERT_BATCH) {
      const count = Math.min(UPSERT_BATCH, size - start);
      const texts = Array.from({ length: count }, () => chunkText(random));
      const vectors = texts.map(() => randomVector(random));
      // Points of one batch go to one tenant each: group them, as an ingest job writes one tenant.
      const byTenant = new Map<string, ChunkPoint[]>();
      texts.forEach((text, j) => {
        const i = start + j;
        const tenant = tenantOf(i);
        const documentId = `${prefix}-doc-${Math.floor(i / 50)}`;
        const point: ChunkPoint = {
          id: pointId(tenant, documentId, 'v1', i % 50),
          tenant,
          documentId,
          version: 'v1',
          chunkIndex: i % 50,
          chunkCount: 50,
          text,
          pageStart: null,
          pageEnd: null,
          headingPath: [],
          sourceName: `${documentId}.txt`,
          metadata: {},
          ingestedAt,
          vector: vectors[j]!,
        };
        const list = byTenant.get(tenant) ?? [];
        list.push(point);
        byTenant.set(tenant, list);
      });
      const t = performance.now();
      for (const [tenant, points] of byTenant) await store.upsert(tenant, points);
      upsertMs += performance.now() - t;
    }
  }
  return { upsertMs, chunks: size * 2 };
}

/**
 * The testkit model server in its own process, so that its latency runs on while this process's
 * synchronous SQLite calls hold the thread, as a remote model API's would.
 */
async function startRemoteModels(
  latencyMs: number,
): Promise<{ client: ModelClient; server: SpawnedProcess }> {
  const main = fileURLToPath(new URL('../../packages/testkit/dist/bin/model-server.js', import.meta.url));
  const server = await spawnProcess(
    process.execPath,
    [main, '--port', '0', '--latency-ms', String(latencyMs), '--dimension', String(DIMENSION)],
    { readyLine: /listening on (http:\/\/\S+)/, readyTimeoutMs: 30_000 },
  );
  const url = server.readyMatch?.[1];
  if (url === undefined)
    throw new Error(`the model server did not say where it listens:\n${server.output()}`);
  // Retries as the workers have them: writing 200k chunks holds the event loop for minutes, during which
  // the server drops the idle keep-alive connection, and the first request after finds it closed.
  const client = new ModelClient({ baseURL: url, maxRetries: 2, embeddingEncoding: 'base64' });
  return { client, server };
}

/**
 * One question through retrieval with a remote embedding model: as `retrieveCandidates` runs it (the
 * lexical search beside the embedding call), and embedding first, then both searches (as it ran
 * before), in alternating order. Milliseconds each.
 */
async function timeRetrieval(
  store: SqliteVectorStore,
  client: ModelClient,
  tenant: string,
  question: string,
  q: number,
): Promise<{ overlapped: number; sequential: number; embed: number }> {
  const embeddingModel = BUILTIN_MODEL_ENV.QUIRE_EMBEDDING_MODEL;
  const overlapped = async () => {
    const t = performance.now();
    await retrieveCandidates({
      store,
      models: client,
      embeddingModel,
      tenant,
      question,
      candidates: flags.limit,
    });
    return performance.now() - t;
  };
  const sequential = async () => {
    const t = performance.now();
    const embedded = await client.embeddings({ model: embeddingModel, input: [question] });
    const embed = performance.now() - t;
    const options = { limit: flags.limit };
    const [dense, lexical] = await Promise.all([
      store.searchDense(tenant, embedded.vectors[0]!, options),
      store.searchLexical(tenant, question, options),
    ]);
    fuseRankings(dense, lexical, { limit: flags.limit });
    return { total: performance.now() - t, embed };
  };
  if (q % 2 === 0) {
    const o = await overlapped();
    const s = await sequential();
    return { overlapped: o, sequential: s.total, embed: s.embed };
  }
  const s = await sequential();
  return { overlapped: await overlapped(), sequential: s.total, embed: s.embed };
}

async function main() {
  const machine = machineInfo();
  printLine(
    `embedded search benchmark: SqliteVectorStore, dimension ${DIMENSION}, sizes ${flags.sizes.join(', ')}, ` +
      `${flags.queries} queries per cell, limit ${flags.limit}`,
  );
  printLine(`machine: ${machine.cpus} × ${machine.cpuModel}, load average ${machine.loadAverage.join(' ')}`);
  const rows = [];
  const retrievalRows = [];
  const builds = [];
  const remote = flags.embedLatencyMs > 0 ? await startRemoteModels(flags.embedLatencyMs) : null;
  for (const size of flags.sizes) {
    const tmp = await makeTempDir('bench-search');
    const store = new SqliteVectorStore({ path: join(tmp.path, 'vectors.db'), dimension: DIMENSION });
    try {
      await store.init();
      const built = await build(store, size);
      builds.push({ size, ...built, upsertChunksPerSecond: built.chunks / (built.upsertMs / 1000) });
      printLine(
        `\n${size} chunks × 2 layouts written in ${(built.upsertMs / 1000).toFixed(1)} s of upserts ` +
          `(${Math.round(built.chunks / (built.upsertMs / 1000))} chunks/s)`,
      );
      const layouts: Layout[] = [
        { name: 'one tenant', tenantFor: () => 'solo' },
        { name: 'spread', tenantFor: (i) => `t${i % flags.tenants}` },
      ];
      for (const layout of layouts) {
        const random = prng(7);
        const questions = Array.from({ length: flags.queries + WARMUP_QUERIES }, () => questionText(random));
        const vectors = questions.map(() => randomVector(random));
        const times = { dense: [] as number[], lexical: [] as number[], hybrid: [] as number[] };
        let lexicalHits = 0;
        for (let q = 0; q < questions.length; q++) {
          const tenant = layout.tenantFor(q);
          const options = { limit: flags.limit };
          let t = performance.now();
          const dense = await store.searchDense(tenant, vectors[q]!, options);
          const denseMs = performance.now() - t;
          t = performance.now();
          const lexical = await store.searchLexical(tenant, questions[q]!, options);
          const lexicalMs = performance.now() - t;
          t = performance.now();
          // Hybrid as retrieval runs it: both searches, then reciprocal-rank fusion.
          const [d2, l2] = await Promise.all([
            store.searchDense(tenant, vectors[q]!, options),
            store.searchLexical(tenant, questions[q]!, options),
          ]);
          fuseRankings(d2, l2, { limit: flags.limit });
          const hybridMs = performance.now() - t;
          if (q < WARMUP_QUERIES) continue;
          if (dense.length === 0) throw new Error(`dense search in ${tenant} returned nothing`);
          lexicalHits += lexical.length;
          times.dense.push(denseMs);
          times.lexical.push(lexicalMs);
          times.hybrid.push(hybridMs);
        }
        const perTenant = layout.name === 'one tenant' ? size : Math.round(size / flags.tenants);
        if (remote !== null) {
          const retrieval = { overlapped: [] as number[], sequential: [] as number[], embed: [] as number[] };
          for (let q = 0; q < questions.length; q++) {
            const timed = await timeRetrieval(store, remote.client, layout.tenantFor(q), questions[q]!, q);
            if (q < WARMUP_QUERIES) continue;
            retrieval.overlapped.push(timed.overlapped);
            retrieval.sequential.push(timed.sequential);
            retrieval.embed.push(timed.embed);
          }
          const o = summarize(retrieval.overlapped);
          const s = summarize(retrieval.sequential);
          retrievalRows.push({
            chunks: size,
            layout: layout.name === 'one tenant' ? 'one tenant' : `${flags.tenants} tenants`,
            'embed call p50 ms': summarize(retrieval.embed).p50,
            'embed, then search p50 / p95 ms': `${s.p50.toFixed(1)} / ${s.p95.toFixed(1)}`,
            'lexical beside embed p50 / p95 ms': `${o.p50.toFixed(1)} / ${o.p95.toFixed(1)}`,
            'ratio p50': s.p50 / o.p50,
            'ratio p95': s.p95 / o.p95,
          });
        }
        for (const mode of ['dense', 'lexical', 'hybrid'] as const) {
          const s = summarize(times[mode]);
          rows.push({
            chunks: size,
            layout: layout.name === 'one tenant' ? 'one tenant' : `${flags.tenants} tenants`,
            'tenant size': perTenant,
            mode,
            'p50 ms': s.p50,
            'p95 ms': s.p95,
            'p99 ms': s.p99,
            'max ms': s.max,
            'mean lexical hits': mode === 'lexical' ? lexicalHits / flags.queries : null,
          });
        }
      }
    } finally {
      await store.close();
      await tmp.cleanup();
    }
  }
  await remote?.server.kill('SIGTERM');
  printTable('search latency (after 20 warm-up queries; the file holds both layouts)', rows);
  if (retrievalRows.length > 0) {
    printTable(
      `retrieval with a remote embedding model (${flags.embedLatencyMs} ms latency, its own process): ` +
        'ratio = embed-then-search time ÷ retrieveCandidates time',
      retrievalRows,
    );
  }
  const path = writeResults('search', {
    benchmark: 'search',
    machine,
    flags,
    dimension: DIMENSION,
    builds,
    rows,
    retrievalRows,
  });
  printLine(`\nresults: ${path}`);
}

await main();
