/**
 * Embedded search: p50/p95 latency of SqliteVectorStore (sqlite-vec + FTS5) at dimension 384 for dense,
 * lexical and hybrid (both searches fused, as retrieval does) queries, over N chunks in one tenant and
 * over N chunks spread across many tenants. Chunk texts (what lexical search reads) are windows of real
 * corpus prose. Vectors are pseudo-random: a brute-force KNN scans every vector of the tenant whatever
 * their values, and embedding 200k chunks with the built-in embedder would take minutes of the run.
 *
 * Lexical search runs in each of the store's modes on the same file, question by question in rotating
 * order: `impacts` (the default), `maxscore` (the previous path, the baseline of the ratios) and
 * `exhaustive`, and hybrid with the default and the previous path; then `impacts` in a second pass over
 * the same questions (every term read once), after a write of one chunk to the tenant before each
 * question (the first search after a write), and, in one tenant, after a write of a document's 50
 * chunks before each of the first 100 (the first search after a document's ingestion). Dense search
 * runs on the store's read thread over its vectors in memory (the default) and, for the previous path's
 * stores, on the calling thread with sqlite-vec's scan: hybrid `maxscore` is the previous path whole.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelClient } from '@quire/api-client';
import {
  type ChunkPoint,
  fuseRankings,
  type LexicalSearchMode,
  pointId,
  retrieveCandidates,
  type SearchHit,
  SqliteVectorStore,
} from '@quire/core';
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
  --layouts one,spread   layouts to write and measure: one tenant, and the chunks spread over --tenants
                         (default both; --sizes 100000 --layouts one runs the 100k scenario alone)
  --tenants N            tenants of the spread layout (default 100)
  --queries N            timed queries per size, layout and mode (default 200)
  --limit N              hits per search, as retrieval's candidate count (default 30)
  --embed-latency-ms N   latency of the model server (a separate process) that embeds the questions
                         of the retrieval rows; 0 leaves those rows out (default 50)`;

const flags = parseFlags(
  z.object({
    sizes: intList.default([10_000, 100_000]),
    layouts: z
      .string()
      .transform((value) => value.split(',').map((part) => part.trim()))
      .pipe(z.array(z.enum(['one', 'spread'])).min(1))
      .default(['one', 'spread']),
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

/** CPU milliseconds of the calling thread so far (Linux: the first field of its schedstat, in ns). */
function threadCpuMs(): number {
  return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
}

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
    { tenantOf: () => 'solo', prefix: 'solo', layout: 'one' },
    { tenantOf: (i: number) => `t${i % flags.tenants}`, prefix: 'spread', layout: 'spread' },
  ].filter((tenant) => flags.layouts.includes(tenant.layout as 'one' | 'spread'));
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
  return { upsertMs, chunks: size * tenants.length };
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
        `\n${size} chunks × ${flags.layouts.length} layouts written in ${(built.upsertMs / 1000).toFixed(1)} s ` +
          `of upserts (${Math.round(built.chunks / (built.upsertMs / 1000))} chunks/s)`,
      );
      // The same file through the store's other lexical modes.
      const byMode = new Map<LexicalSearchMode, SqliteVectorStore>([['impacts', store]]);
      for (const mode of ['maxscore', 'exhaustive'] as const) {
        const other = new SqliteVectorStore({
          path: join(tmp.path, 'vectors.db'),
          dimension: DIMENSION,
          lexicalSearch: mode,
          // The previous path runs dense search on the calling thread, after or before lexical search,
          // with sqlite-vec's scan.
          denseSearchThread: false,
          denseCacheBytes: 0,
        });
        await other.init();
        byMode.set(mode, other);
      }
      const layouts: Layout[] = [
        { name: 'one tenant' as const, tenantFor: () => 'solo' },
        { name: 'spread' as const, tenantFor: (i: number) => `t${i % flags.tenants}` },
      ].filter((layout) => flags.layouts.includes(layout.name === 'one tenant' ? 'one' : 'spread'));
      for (const layout of layouts) {
        const random = prng(7);
        const questions = Array.from({ length: flags.queries + WARMUP_QUERIES }, () => questionText(random));
        const vectors = questions.map(() => randomVector(random));
        const times: Record<string, { wall: number[]; cpu: number[]; path: number[] }> = {};
        const record = (mode: string, q: number, wall: number, cpu: NodeJS.CpuUsage, main: number) => {
          if (q < WARMUP_QUERIES) return;
          times[mode] ??= { wall: [], cpu: [], path: [] };
          const total = (cpu.user + cpu.system) / 1000;
          times[mode].wall.push(wall);
          times[mode].cpu.push(total);
          // The longer of this thread's CPU time and the other threads' (the read thread's): about the
          // wall time on two idle cores, which a loaded machine's wall time does not show.
          times[mode].path.push(Math.max(main, total - main));
        };
        /** Wall and CPU milliseconds of one call (CPU time is what a loaded machine leaves comparable). */
        const timed = async <T>(mode: string, q: number, work: () => Promise<T>): Promise<T> => {
          const cpu = process.cpuUsage();
          const main = threadCpuMs();
          const t = performance.now();
          const result = await work();
          const wall = performance.now() - t;
          record(mode, q, wall, process.cpuUsage(cpu), threadCpuMs() - main);
          return result;
        };
        let lexicalHits = 0;
        const lexicalModes = ['impacts', 'maxscore', 'exhaustive'] as const;
        for (let q = 0; q < questions.length; q++) {
          const tenant = layout.tenantFor(q);
          const options = { limit: flags.limit };
          const dense = await timed('dense', q, () => store.searchDense(tenant, vectors[q]!, options));
          if (dense.length === 0) throw new Error(`dense search in ${tenant} returned nothing`);
          const inThread = await timed('dense, calling thread (previous)', q, () =>
            byMode.get('maxscore')!.searchDense(tenant, vectors[q]!, options),
          );
          if (!sameDenseHits(inThread, dense))
            throw new Error(`dense search in memory and sqlite-vec's disagree in ${tenant}`);
          const results: string[] = [];
          for (let m = 0; m < lexicalModes.length; m++) {
            const mode = lexicalModes[(q + m) % lexicalModes.length]!;
            const hits = await timed(`lexical ${mode}`, q, () =>
              byMode.get(mode)!.searchLexical(tenant, questions[q]!, options),
            );
            results.push(JSON.stringify(hits.map((hit) => hit.record.id)));
            if (mode === 'impacts' && q >= WARMUP_QUERIES) lexicalHits += hits.length;
          }
          if (new Set(results).size !== 1)
            throw new Error(`lexical modes disagree on ${JSON.stringify(questions[q])}`);
          // Hybrid as retrieval runs it: both searches, then reciprocal-rank fusion.
          for (const mode of q % 2 === 0
            ? (['impacts', 'maxscore'] as const)
            : (['maxscore', 'impacts'] as const)) {
            const searcher = byMode.get(mode)!;
            await timed(`hybrid ${mode}`, q, async () => {
              const [d2, l2] = await Promise.all([
                searcher.searchDense(tenant, vectors[q]!, options),
                searcher.searchLexical(tenant, questions[q]!, options),
              ]);
              fuseRankings(d2, l2, { limit: flags.limit });
            });
          }
        }
        // The same questions again: every term read once, as for a tenant whose index has not changed.
        for (let q = 0; q < questions.length; q++) {
          const tenant = layout.tenantFor(q);
          const options = { limit: flags.limit };
          await timed('lexical impacts, second pass', q, () =>
            store.searchLexical(tenant, questions[q]!, options),
          );
          await timed('hybrid impacts, second pass', q, async () => {
            const [d2, l2] = await Promise.all([
              store.searchDense(tenant, vectors[q]!, options),
              store.searchLexical(tenant, questions[q]!, options),
            ]);
            fuseRankings(d2, l2, { limit: flags.limit });
          });
        }
        // The first search after a write to the tenant: re-writing one of its chunks empties the cache.
        const [first] = await store.listChunks(layout.tenantFor(0), {
          documentId: `${layout.name === 'one tenant' ? 'solo' : 'spread'}-doc-0`,
        });
        for (let q = 0; q < questions.length; q++) {
          const tenant = layout.tenantFor(q);
          const [chunk] = tenant === first?.tenant ? [first] : await store.listChunks(tenant);
          if (chunk !== undefined) await store.upsert(tenant, [{ ...chunk, vector: vectors[q]! }]);
          await timed('lexical impacts, after a write', q, () =>
            store.searchLexical(tenant, questions[q]!, { limit: flags.limit }),
          );
        }
        // The first search after a document's write: its 50 chunks written again, as re-ingesting it
        // does, one document per question, for the first 100 (a slow build would take minutes over
        // all of them; at most one per document). One tenant only: a spread document has at most one
        // chunk in a tenant.
        if (layout.name === 'one tenant') {
          const documents = Math.floor(size / 50);
          for (let q = 0; q < Math.min(questions.length, WARMUP_QUERIES + 100, documents); q++) {
            const tenant = layout.tenantFor(q);
            const chunks = await store.listChunks(tenant, { documentId: `solo-doc-${q}` });
            if (chunks.length === 0) throw new Error(`document solo-doc-${q} has no chunks to write again`);
            await store.upsert(
              tenant,
              chunks.map((chunk) => ({ ...chunk, vector: vectors[q]! })),
            );
            await timed("lexical impacts, after a document's write", q, () =>
              store.searchLexical(tenant, questions[q]!, { limit: flags.limit }),
            );
          }
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
        const baseline = (mode: string) =>
          mode.startsWith('lexical')
            ? 'lexical maxscore'
            : mode.startsWith('hybrid')
              ? 'hybrid maxscore'
              : 'dense, calling thread (previous)';
        for (const [mode, sample] of Object.entries(times)) {
          const s = summarize(sample.wall);
          const base = summarize(times[baseline(mode)]!.wall);
          const cpu = summarize(sample.cpu);
          const path = summarize(sample.path);
          rows.push({
            chunks: size,
            layout: layout.name === 'one tenant' ? 'one tenant' : `${flags.tenants} tenants`,
            'tenant size': perTenant,
            mode,
            'p50 ms': s.p50,
            'p95 ms': s.p95,
            'p99 ms': s.p99,
            'max ms': s.max,
            'cpu p50 / p95 / p99 ms': `${cpu.p50.toFixed(1)} / ${cpu.p95.toFixed(1)} / ${cpu.p99.toFixed(1)}`,
            'cpu path p50 / p95 / p99 ms': `${path.p50.toFixed(1)} / ${path.p95.toFixed(1)} / ${path.p99.toFixed(1)}`,
            'cpu path p95 ÷ previous': path.p95 / summarize(times[baseline(mode)]!.path).p95,
            'p95 ÷ previous': s.p95 / base.p95,
            'p99 ÷ previous': s.p99 / base.p99,
            'mean lexical hits': mode === 'lexical impacts' ? lexicalHits / flags.queries : null,
          });
        }
      }
      for (const [mode, other] of byMode) if (mode !== 'impacts') await other.close();
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

/**
 * Whether two dense results agree: scores rank by rank within float32 rounding (the in-memory scan
 * sums a dot product, sqlite-vec an L2 distance), and the same chunks but where two scores tie within
 * that rounding at the cut.
 */
function sameDenseHits(a: SearchHit[], b: SearchHit[]): boolean {
  const EPSILON = 1e-5;
  if (a.length !== b.length) return false;
  if (a.some((hit, i) => Math.abs(hit.score - b[i]!.score) > EPSILON)) return false;
  const cut = a.at(-1)?.score ?? 0;
  const ids = new Set(b.map((hit) => hit.record.id));
  return a.every((hit) => ids.has(hit.record.id) || Math.abs(hit.score - cut) <= EPSILON);
}
