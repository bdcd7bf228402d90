/**
 * Retrieval and answer quality on the committed eval sets (`bench/eval-sets/<lang>`), through the
 * real flow: `producer.enqueueEval` → ingest worker → query workers → report, with the built-in
 * models. Prints each language's stages side by side and writes the Markdown reports and a JSON
 * summary to `bench/results/`.
 *
 *   pnpm bench:eval [--langs en,de,zh,ja] [--candidates 30] [--query-workers 1]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type EvalInput,
  type EvalReport,
  evalReportToJson,
  evalReportToMarkdown,
  Producer,
} from '@quire/jobs';
import { cleanupPrefix, getTestRedis, makeTempDir, uniquePrefix } from '@quire/testkit';
import { z } from 'zod';
import { parseFlags, positiveInt } from './lib/args.js';
import { machineInfo, RESULTS_DIR, writeResults } from './lib/report.js';
import { startWorkers, stopWorkers, untilWorkerDies } from './lib/workers.js';

const USAGE = `pnpm bench:eval [flags]
  --langs LIST          eval sets to run (default en,de,zh,ja)
  --candidates N        candidates per search (default: the workers' 30)
  --query-workers N     query worker processes (default 1)
  --label NAME          added to the result file names (default none)`;

const flags = parseFlags(
  z.object({
    langs: z.string().default('en,de,zh,ja'),
    candidates: positiveInt.optional(),
    queryWorkers: positiveInt.default(1),
    label: z
      .string()
      .regex(/^[a-z0-9-]+$/)
      .optional(),
  }),
  USAGE,
);

const SETS = fileURLToPath(new URL('../eval-sets/', import.meta.url));

function jsonl<T>(path: string): T[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}

function readSet(lang: string): Omit<EvalInput, 'tenant'> {
  const dir = join(SETS, lang);
  const qrels = readFileSync(join(dir, 'qrels', 'test.tsv'), 'utf8')
    .split('\n')
    .slice(1)
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [queryId, documentId, score] = line.split('\t');
      return { queryId: queryId!, documentId: documentId!, grade: Number(score) };
    });
  return {
    name: `eval-sets/${lang}`,
    corpus: jsonl<{ _id: string; title: string; text: string }>(join(dir, 'corpus.jsonl')).map((d) => ({
      id: d._id,
      title: d.title,
      text: d.text,
    })),
    queries: jsonl<{ _id: string; text: string }>(join(dir, 'queries.jsonl')).map((q) => ({
      id: q._id,
      text: q.text,
    })),
    qrels,
    answers: jsonl<{ _id: string; answers: string[] }>(join(dir, 'answers.jsonl')).map((a) => ({
      queryId: a._id,
      answers: a.answers,
    })),
    ...(flags.candidates === undefined ? {} : { options: { candidates: flags.candidates } }),
  };
}

const pct = (v: number | null) => (v === null ? '–' : (v * 100).toFixed(1));

async function main() {
  const langs = flags.langs.split(',').map((l) => l.trim());
  // The reports are written before `writeResults` (which would create it) runs.
  mkdirSync(RESULTS_DIR, { recursive: true });
  const redis = await getTestRedis();
  const tmp = await makeTempDir('bench-eval');
  const prefix = uniquePrefix('bench-eval');
  const env = { REDIS_URL: redis.url, QUIRE_QUEUE_PREFIX: prefix, QUIRE_DATA_DIR: join(tmp.path, 'data') };
  const workers = [
    ...(await startWorkers('ingest-worker', 1, { ...env, INGEST_CONCURRENCY: '4' })),
    ...(await startWorkers('query-worker', flags.queryWorkers, env)),
  ];
  const producer = new Producer({ connection: redis.url, prefix });
  const summary: Record<string, unknown> = {};
  try {
    for (const lang of langs) {
      const started = performance.now();
      const { evalId } = await producer.enqueueEval({ tenant: `eval-${lang}`, ...readSet(lang) });
      const report: EvalReport = await untilWorkerDies(
        workers,
        producer.waitForEval(evalId, { timeoutMs: 1_800_000 }),
      );
      const seconds = (performance.now() - started) / 1000;
      const name = `eval-${lang}${flags.label ? `-${flags.label}` : ''}`;
      writeFileSync(join(RESULTS_DIR, `${name}-latest.md`), evalReportToMarkdown(report));
      writeFileSync(join(RESULTS_DIR, `${name}-latest.report.json`), evalReportToJson(report));
      const r = report.retrieval;
      const a = report.answers!;
      summary[lang] = {
        seconds,
        retrieval: r,
        answers: a,
        failed: report.failed,
      };
      process.stdout.write(
        `${lang}: R@1 lexical ${pct(r.lexical.recallAt1)} dense ${pct(r.dense.recallAt1)} fused ${pct(r.fused.recallAt1)} ` +
          `rerank ${pct(r.reranked.recallAt1)} | R@20 lexical ${pct(r.lexical.recallAt20)} dense ${pct(r.dense.recallAt20)} ` +
          `fused ${pct(r.fused.recallAt20)} rerank ${pct(r.reranked.recallAt20)} | not found: answerable ${pct(a.answerable.notFoundRate)}, ` +
          `gold first ${pct(a.goldFirst.notFoundRate)} (n=${a.goldFirst.questions}), unanswerable ${pct(a.unanswerable.notFoundRate)} | ` +
          `containment ${pct(a.answerable.containment)}, gold first ${pct(a.goldFirst.containment)} | ${report.failed} failed, ${seconds.toFixed(1)} s\n`,
      );
    }
    const path = writeResults(`eval${flags.label ? `-${flags.label}` : ''}`, {
      machine: machineInfo(),
      flags,
      summary,
    });
    process.stdout.write(`results: ${path}\n`);
  } finally {
    await producer.close();
    await stopWorkers(workers);
    await cleanupPrefix(redis.url, prefix);
    await redis.stop();
    await tmp.cleanup();
  }
}

await main();
