/**
 * An extra scenario, outside the default run (`pnpm chaos --only lease`): a document's lease is lost
 * while its job works — as when Redis stays down longer than the lease (30 s) and the key has expired
 * on restart, or a failover loses it — and a newer version of the document is enqueued. The newer
 * version must be what the store holds at the end.
 */
import { documentOrderKeys, type IngestProgress, QUEUES } from '@quire/jobs';
import { documentText } from '../corpus.js';
import { type JobOutcome, waitForJobs } from '../jobs.js';
import { Sandbox, TENANT } from '../sandbox.js';
import { readChunks } from '../store-check.js';
import { pollUntil } from '../wait.js';

export interface LeaseLossOptions {
  redisUrl: string;
  /** Model server latency per request, in ms; the older job must still be embedding when the newer one ends. Default 300. */
  latencyMs?: number;
  log?: (line: string) => void;
}

export interface LeaseLossReport {
  older: JobOutcome;
  newer: JobOutcome;
  /** Chunks stored per version at the end. */
  storedByVersion: Record<string, number>;
  /** What the store holds: the newer version complete, or something else. */
  holds: 'newer' | 'older' | 'mixed' | 'nothing';
}

const DOCUMENT = 'contested';

export async function runLeaseLoss(options: LeaseLossOptions): Promise<LeaseLossReport> {
  const log = options.log ?? (() => {});
  const sandbox = await Sandbox.open({
    label: 'lease',
    redisUrl: options.redisUrl,
    server: { latencyMs: options.latencyMs ?? 300 },
  });
  try {
    const pool = sandbox.pool();
    await pool.start(1);
    const enqueue = (text: string) =>
      sandbox.producer.enqueueIngest({
        tenant: TENANT,
        documentId: DOCUMENT,
        source: { kind: 'text', text, name: `${DOCUMENT}.md` },
      });
    const older = await enqueue(documentText(DOCUMENT, 1, 12));
    const queue = sandbox.producer.queue(QUEUES.ingest);
    const embedding = await pollUntil(
      async () => {
        const progress = (await queue.getJob(older.jobId))?.progress as IngestProgress | null;
        return (progress?.batchesDone ?? 0) >= 2;
      },
      { timeoutMs: 30_000, intervalMs: 20 },
    );
    if (!embedding) throw new Error('lease-loss: the older job never started embedding');
    // What an expiry does to the key; the older job is not told and keeps working.
    await sandbox.producer.redis.del(documentOrderKeys(sandbox.prefix, TENANT, DOCUMENT).lease);
    log('lease of the older job deleted; enqueueing a newer version');
    const newer = await enqueue(documentText(DOCUMENT, 2, 2, 1));
    const outcomes = await waitForJobs(
      sandbox.producer,
      () => [
        { jobId: older.jobId, documentId: DOCUMENT, revision: 0 },
        { jobId: newer.jobId, documentId: DOCUMENT, revision: 1 },
      ],
      { timeoutMs: 120_000 },
    );
    await pool.stop();
    const chunks = await readChunks(sandbox.store, TENANT);
    const storedByVersion: Record<string, number> = {};
    for (const c of chunks) storedByVersion[c.version] = (storedByVersion[c.version] ?? 0) + 1;
    const [o, n] = outcomes as [JobOutcome, JobOutcome];
    const newerVersion = n.result?.version ?? '';
    const versions = Object.keys(storedByVersion);
    const holds =
      versions.length === 0
        ? 'nothing'
        : versions.length > 1
          ? 'mixed'
          : versions[0] === newerVersion && storedByVersion[newerVersion] === n.result?.chunks
            ? 'newer'
            : 'older';
    return { older: o, newer: n, storedByVersion, holds };
  } finally {
    await sandbox.close();
  }
}
