/**
 * Scenario d: hostile uploads in the middle of an ordinary run. Good documents (Markdown text and
 * small PDFs, so the parse sandbox serves good documents too) are enqueued with bombs spread among
 * them: PDFs with a content stream that grows without end, DOCX files whose entry lies about its
 * size and inflates to 1 GiB, DOCX files of 100 MiB of XML. Every good document must be ingested,
 * every bomb must fail on its first attempt with its reason, and no worker may exit; the peak RSS of
 * each worker's process tree (worker + sandbox children) is measured beside the bound the
 * configuration promises (pool size × cap + the worker's reserve).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseMemoryBudgetMb, parseQuireEnv } from '@quire/core';
import {
  makeContentStreamBombPdf,
  makeLargeXmlDocx,
  makePdf,
  makeZipBombDocx,
  TreeRssWatcher,
} from '@quire/testkit';
import { makeCorpus } from '../corpus.js';
import {
  enqueueDocuments,
  type OutcomeSummary,
  summariseOutcomes,
  type TrackedJob,
  waitForJobs,
} from '../jobs.js';
import { Sandbox, TENANT } from '../sandbox.js';

const MIB = 2 ** 20;

export interface BombsOptions {
  redisUrl: string;
  /** Good documents; one in ten is a small PDF, the rest Markdown. */
  documents: number;
  /** Bombs of each of the three kinds. Default 2. */
  bombsPerKind?: number;
  /** Worker processes. Default 2. */
  workers?: number;
  /** `QUIRE_PARSE_MAX_MEMORY_MB` of the workers. Default 256. */
  capMb?: number;
  /** `QUIRE_PARSE_POOL_SIZE` of the workers. Default 2. */
  poolSize?: number;
  workerEnv?: Record<string, string>;
  seed?: number;
  timeoutMs?: number;
  log?: (line: string) => void;
}

export type BombKind = 'content-stream-pdf' | 'zip-bomb-docx' | 'large-xml-docx';

export interface BombOutcome {
  kind: BombKind;
  state: string;
  attemptsMade: number;
  failedReason: string | null;
}

export interface BombsReport {
  documents: number;
  jobs: OutcomeSummary;
  /** Good documents not ingested (failed, or completed without chunks). */
  goodNotIngested: string[];
  bombs: BombOutcome[];
  capMb: number;
  poolSize: number;
  /** pool size × cap + the worker's reserve, in MiB: what each worker's tree may reach. */
  boundMb: number;
  /** Peak RSS of each worker's process tree, in MiB. */
  peakTreeMb: number[];
  unexpectedExits: string[];
  durationMs: number;
}

/** The reason each kind of bomb must fail with. */
export const BOMB_REASONS: Record<BombKind, RegExp> = {
  'content-stream-pdf':
    /parsing needed more than \d+ MiB of memory \(limit parseMaxMemoryMb, QUIRE_PARSE_MAX_MEMORY_MB\)/,
  'zip-bomb-docx': /inflates to more than [\d.]+ MiB \(limit maxInflatedBytes, QUIRE_MAX_INFLATED_BYTES\)/,
  'large-xml-docx':
    /parsing needed more than \d+ MiB of memory \(limit parseMaxMemoryMb, QUIRE_PARSE_MAX_MEMORY_MB\)/,
};

const BOMB_FILES: Record<BombKind, string> = {
  'content-stream-pdf': 'bomb.pdf',
  'zip-bomb-docx': 'bomb.docx',
  'large-xml-docx': 'huge.docx',
};

export async function runBombs(options: BombsOptions): Promise<BombsReport> {
  const log = options.log ?? (() => {});
  const capMb = options.capMb ?? 256;
  const poolSize = options.poolSize ?? 2;
  const started = performance.now();
  const sandbox = await Sandbox.open({
    label: 'bombs',
    redisUrl: options.redisUrl,
    server: { latencyMs: 5 },
  });
  const watchers: TreeRssWatcher[] = [];
  try {
    const files = join(sandbox.dir.path, 'files');
    await mkdir(files, { recursive: true });
    await writeFile(join(files, BOMB_FILES['content-stream-pdf']), makeContentStreamBombPdf());
    await writeFile(
      join(files, BOMB_FILES['zip-bomb-docx']),
      makeZipBombDocx({ inflateToBytes: 1024 * MIB, declaredBytes: 1000 }),
    );
    await writeFile(join(files, BOMB_FILES['large-xml-docx']), makeLargeXmlDocx(100 * MIB));

    const corpus = makeCorpus({ documents: options.documents, seed: options.seed ?? 4, idPrefix: 'good' });
    const pdfs = corpus.filter((_, i) => i % 10 === 0);
    for (const doc of pdfs) {
      const pages = [doc.text.split('\n\n').flatMap((p) => p.match(/.{1,90}(\s|$)/g) ?? [p])];
      await writeFile(join(files, `${doc.documentId}.pdf`), await makePdf(pages));
    }
    const markdown = corpus.filter((_, i) => i % 10 !== 0);

    const env = {
      QUIRE_FILE_ROOTS: files,
      QUIRE_PARSE_MAX_MEMORY_MB: String(capMb),
      QUIRE_PARSE_POOL_SIZE: String(poolSize),
      QUIRE_PARSE_TIMEOUT_MS: '120000',
      // Above the 100 MiB XML document, so that one meets the memory cap, not this limit.
      QUIRE_MAX_INFLATED_BYTES: String(128 * MIB),
      ...options.workerEnv,
    };
    const pool = sandbox.pool({}, { concurrency: 2, extraEnv: env });
    await pool.start(options.workers ?? 2);
    for (const worker of pool.live) watchers.push(new TreeRssWatcher(worker.process.pid));
    const boundMb = parseMemoryBudgetMb(parseQuireEnv({ ...sandbox.workerEnv({}, { extraEnv: env }) }).parse);

    // Good documents and bombs interleaved: a bomb after every `step` good documents.
    const kinds = Object.keys(BOMB_FILES) as BombKind[];
    const bombList = kinds.flatMap((kind) => Array.from({ length: options.bombsPerKind ?? 2 }, () => kind));
    const step = Math.max(1, Math.floor(options.documents / (bombList.length + 1)));
    const jobs: TrackedJob[] = [];
    const bombJobs = new Map<string, BombKind>();
    let next = 0;
    const enqueuePath = async (documentId: string, path: string) => {
      const { jobId } = await sandbox.producer.enqueueIngest({
        tenant: TENANT,
        documentId,
        source: { kind: 'path', path },
      });
      return { jobId, documentId, revision: 0 };
    };
    for (let i = 0; i < corpus.length; i++) {
      const doc = corpus[i]!;
      if (i % 10 === 0) jobs.push(await enqueuePath(doc.documentId, join(files, `${doc.documentId}.pdf`)));
      else jobs.push(...(await enqueueDocuments(sandbox.producer, TENANT, [doc])));
      if ((i + 1) % step === 0 && next < bombList.length) {
        const kind = bombList[next]!;
        const job = await enqueuePath(`bomb-${next}-${kind}`, join(files, BOMB_FILES[kind]));
        bombJobs.set(job.jobId, kind);
        jobs.push(job);
        next++;
      }
    }
    log(
      `enqueued ${corpus.length} good documents (${pdfs.length} PDFs, ${markdown.length} Markdown) and ${bombJobs.size} bombs`,
    );
    let reported = 0;
    const outcomes = await waitForJobs(sandbox.producer, () => jobs, {
      timeoutMs: options.timeoutMs ?? 600_000,
      onProgress: (settled, total) => {
        if (Math.floor(settled / 50) > Math.floor(reported / 50)) log(`${settled}/${total} jobs settled`);
        reported = settled;
      },
    });
    const peakTreeMb = watchers.map((w) => w.stop() / MIB);
    const good = outcomes.filter((o) => !bombJobs.has(o.jobId));
    return {
      documents: corpus.length,
      jobs: summariseOutcomes(outcomes),
      goodNotIngested: good
        .filter((o) => o.state !== 'completed' || (o.result?.chunks ?? 0) === 0)
        .map((o) => `${o.documentId}: ${o.failedReason ?? o.state}`),
      bombs: outcomes
        .filter((o) => bombJobs.has(o.jobId))
        .map((o) => ({
          kind: bombJobs.get(o.jobId)!,
          state: o.state,
          attemptsMade: o.attemptsMade,
          failedReason: o.failedReason,
        })),
      capMb,
      poolSize,
      boundMb,
      peakTreeMb,
      unexpectedExits: pool.all
        .filter((w) => w.exit !== undefined && w.killedWith === undefined)
        .map((w) => `worker ${w.serial}`),
      durationMs: performance.now() - started,
    };
  } finally {
    for (const watcher of watchers) watcher.stop();
    await sandbox.close();
  }
}
