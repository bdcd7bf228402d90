/**
 * The spool: a directory shared by producers and ingest workers, where a document too large to
 * travel in its job is written, so that the job carries a `path` source and Redis never holds the
 * bytes. The gateway spools large uploads there and the CLI large files; the ingest worker reads
 * them like any other path under its roots.
 *
 * Each spooled file is registered in Redis (hash `<prefix>:spool`, file name → ingest job id) so
 * that it is removed once its job has ended for good: by the ingest worker at the job's end
 * ({@link releaseSpoolWhenDone}), and by a periodic {@link sweepSpool} for files whose job is gone
 * or never came (a producer that died between writing and enqueueing). Every process that sweeps
 * does the same idempotent removals, so any number of gateways and workers may run it.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Job, Queue, Worker } from 'bullmq';
import { whenEndedForGood } from './sealed-ingest.js';

/** The Redis hash linking spooled file names to their ingest jobs. */
export function spoolRegistryKey(prefix: string): string {
  return `${prefix}:spool`;
}

/** Files younger than this are never swept: they may belong to a request between spooling and enqueueing. */
const MIN_SWEEP_AGE_MS = 5 * 60_000;

/** The Redis commands the spool uses: any ioredis client (or BullMQ's view of one) has them. */
export interface SpoolRedis {
  hset(key: string, data: Record<string, string>): Promise<unknown>;
  hdel(key: string, field: string): Promise<unknown>;
  hget(key: string, field: string): Promise<string | null>;
}

export interface SpoolOptions {
  /** The shared directory (absolute). */
  dir: string;
  redis: SpoolRedis;
  /** Queue prefix: the registry lives beside the queues. */
  prefix: string;
}

/** A file name safe in any file system, keeping the caller's name readable after a unique part. */
export function spoolFileName(name: string): string {
  const safe = basename(name)
    .normalize('NFC')
    .replace(/[^\p{L}\p{N}._-]+/gu, '_')
    .replace(/^[._]+/, '')
    .slice(0, 120);
  return `${randomUUID()}-${safe === '' ? 'document' : safe}`;
}

/** Whether `path` is a file directly inside the spool directory `dir`. */
export function isSpooled(path: string, dir: string): boolean {
  return dirname(resolve(path)) === resolve(dir);
}

export class Spool {
  readonly dir: string;
  readonly #redis: SpoolRedis;
  readonly #registry: string;

  constructor(options: SpoolOptions) {
    this.dir = resolve(options.dir);
    this.#redis = options.redis;
    this.#registry = spoolRegistryKey(options.prefix);
  }

  /**
   * Copies a local file into the spool (created readable by the owner and group only) and returns
   * its path there. The copy is removed again when it fails half-way.
   */
  async copyIn(source: string, name = basename(source)): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    const path = join(this.dir, spoolFileName(name));
    try {
      await pipeline(createReadStream(source), createWriteStream(path, { flags: 'wx', mode: 0o640 }));
    } catch (error) {
      await rm(path, { force: true });
      throw error;
    }
    return path;
  }

  /** Links a spooled file to the ingest job that reads it, so that it goes when the job has ended. */
  async register(path: string, jobId: string): Promise<void> {
    await this.#redis.hset(this.#registry, { [basename(path)]: jobId });
  }

  /** Removes a spooled file and its registration (a job that was not, or need not be, enqueued). */
  async discard(path: string): Promise<void> {
    if (!isSpooled(path, this.dir)) return;
    await rm(path, { force: true });
    await this.#redis.hdel(this.#registry, basename(path));
  }

  /**
   * Removes the files whose job has ended for good or no longer exists, and files older than
   * `orphanAgeMs` that no job was registered for. Returns the number of files removed.
   */
  async sweep(ingestQueue: Queue, orphanAgeMs = 3_600_000): Promise<number> {
    let removed = 0;
    const names = await readdir(this.dir).catch(() => [] as string[]);
    for (const name of names) {
      const path = join(this.dir, name);
      const info = await stat(path).catch(() => null);
      if (info === null || !info.isFile()) continue;
      const age = Date.now() - info.mtimeMs;
      if (age < MIN_SWEEP_AGE_MS) continue;
      const jobId = await this.#redis.hget(this.#registry, name);
      if (jobId === null) {
        if (age <= orphanAgeMs) continue;
      } else {
        const state = await ingestQueue.getJobState(jobId);
        if (state !== 'completed' && state !== 'failed' && state !== 'unknown') continue;
      }
      await this.discard(path);
      removed++;
    }
    return removed;
  }
}

export interface ReleaseSpoolOptions {
  /** Told when a spooled file could not be removed (the sweep retries later). */
  onError?: (error: unknown, job: Job) => void;
}

/**
 * Removes an ingest job's spooled file when the job has ended for good: completed, or failed with
 * no attempt left (retries still need the file). Only files directly inside the spool directory
 * are touched, whatever the job's source says.
 */
export function releaseSpoolWhenDone(worker: Worker, spool: Spool, options: ReleaseSpoolOptions = {}): void {
  whenEndedForGood(
    worker,
    async (job) => {
      const source = (job.data as { source?: { kind?: unknown; path?: unknown } } | undefined)?.source;
      if (source?.kind !== 'path' || typeof source.path !== 'string') return;
      if (isSpooled(source.path, spool.dir)) await spool.discard(source.path);
    },
    options.onError,
  );
}
