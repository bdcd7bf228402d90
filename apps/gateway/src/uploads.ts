/**
 * Uploaded files. The ingest worker reads a document's bytes itself, from the job's `source`, so an
 * upload must reach it one of two ways:
 * - small files travel in the job as a `base64` source: nothing shared between machines, but the
 *   bytes live in Redis as long as the job is kept, so this is for files up to a bound;
 * - larger files are spooled to a directory shared with the workers (their QUIRE_SPOOL_DIR, see
 *   `Spool` in `@quire/jobs`) and the job carries a `path` source. The file is removed when its job
 *   finishes for good (here and by the ingest worker); a sweep removes files whose job is gone or
 *   never came.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { safeFileName } from '@quire/core';
import { isSpooled, type Producer, QUEUES, Spool, spoolFileName } from '@quire/jobs';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { ApiError } from './errors.js';
import type { JobEvents } from './job-events.js';

export interface ReceivedFile {
  /** The caller's file name, made safe. */
  name: string;
  mediaType: string;
  bytes: number;
  /** SHA-256 of the content, hex. */
  sha256: string;
  /** In memory when it fits in a job, else in the shared directory. */
  content: { kind: 'inline'; data: Buffer } | { kind: 'spooled'; path: string };
}

/** The spooled file of an upload, if it was spooled. */
export function spooledPath(file: ReceivedFile | null): string | null {
  return file?.content.kind === 'spooled' ? file.content.path : null;
}

export interface UploadSpoolOptions {
  redis: Redis;
  prefix: string;
  producer: Producer;
  logger: Logger;
  /** Largest upload, in bytes. */
  maxBytes: number;
  /** Largest upload carried in the job itself, in bytes. */
  inlineMaxBytes: number;
  /** Shared directory for larger uploads; null: larger uploads are refused. */
  dir: string | null;
  /** How often the directory is swept, in ms. Default 600,000. */
  sweepIntervalMs?: number;
  /** Age after which a file nobody registered is removed (an upload that never became a job), in ms. Default 3,600,000. */
  orphanAgeMs?: number;
}

export class UploadSpool {
  readonly #options: UploadSpoolOptions;
  readonly #spool: Spool | null;
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(options: UploadSpoolOptions) {
    this.#options = options;
    this.#spool =
      options.dir === null
        ? null
        : new Spool({ dir: options.dir, redis: options.redis, prefix: options.prefix });
  }

  get dir(): string | null {
    return this.#options.dir;
  }

  /**
   * Reads one file stream: into memory while it fits inline, then on to the shared directory.
   * Throws `payload_too_large` past the limits (what was written is removed).
   */
  async receive(stream: Readable, name: string, mediaType: string): Promise<ReceivedFile> {
    const { maxBytes, inlineMaxBytes, dir } = this.#options;
    const safeName = safeFileName(name) ?? 'upload.bin';
    const hash = createHash('sha256');
    const chunks: Buffer[] = [];
    let bytes = 0;
    let out: WriteStream | null = null;
    let path: string | null = null;
    try {
      for await (const chunk of stream) {
        const piece = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
        bytes += piece.byteLength;
        if (bytes > maxBytes) {
          throw new ApiError('payload_too_large', `the file is larger than the limit of ${maxBytes} bytes`);
        }
        hash.update(piece);
        if (out === null && bytes <= inlineMaxBytes) {
          chunks.push(piece);
          continue;
        }
        if (out === null) {
          if (dir === null) {
            throw new ApiError(
              'payload_too_large',
              `the file is larger than ${inlineMaxBytes} bytes, the most this gateway takes without an upload directory (GATEWAY_UPLOAD_DIR)`,
            );
          }
          path = join(dir, spoolFileName(safeName));
          await mkdir(dir, { recursive: true });
          out = createWriteStream(path, { flags: 'wx', mode: 0o640 });
          for (const buffered of chunks.splice(0)) await write(out, buffered);
        }
        await write(out, piece);
      }
      if (out !== null) {
        out.end();
        await finished(out);
      }
    } catch (error) {
      out?.destroy();
      if (path !== null) await rm(path, { force: true });
      // The rest of the request body must still be consumed for the error response to go out.
      stream.resume();
      throw error;
    }
    return {
      name: safeName,
      mediaType,
      bytes,
      sha256: hash.digest('hex'),
      content:
        path === null ? { kind: 'inline', data: Buffer.concat(chunks, bytes) } : { kind: 'spooled', path },
    };
  }

  /** Links a spooled file to the job that reads it, so the sweep knows when it may go. */
  async register(path: string, jobId: string): Promise<void> {
    await this.#spool?.register(path, jobId);
  }

  /** Removes a spooled file whose job was not (or need not be) enqueued. */
  async discard(path: string): Promise<void> {
    await this.#spool?.discard(path).catch(() => undefined);
  }

  /** Starts removing spooled files when their ingest job finishes, and the periodic sweep. */
  start(events: JobEvents): void {
    const { dir } = this.#options;
    if (dir === null || this.#timer) return;
    this.#unsubscribe = events.onFinished((event) => {
      if (event.queue === QUEUES.ingest) void this.#release(event.jobId);
    });
    this.#timer = setInterval(() => void this.sweep(), this.#options.sweepIntervalMs ?? 600_000);
    this.#timer.unref();
  }

  async #release(jobId: string): Promise<void> {
    const { producer, logger } = this.#options;
    const spool = this.#spool;
    if (spool === null) return;
    try {
      const job = await producer.queue(QUEUES.ingest).getJob(jobId);
      const source = (job?.data as { source?: { kind?: unknown; path?: unknown } } | undefined)?.source;
      if (source?.kind !== 'path' || typeof source.path !== 'string' || !isSpooled(source.path, spool.dir))
        return;
      await spool.discard(source.path);
    } catch (error) {
      logger.warn(
        { err: error instanceof Error ? error.message : String(error), jobId },
        'upload clean-up deferred',
      );
    }
  }

  /** Removes spooled files whose job finished or is gone, and old files no job was made for. */
  async sweep(): Promise<void> {
    const { redis, producer, logger } = this.#options;
    if (this.#spool === null || redis.status !== 'ready') return;
    try {
      await this.#spool.sweep(producer.queue(QUEUES.ingest), this.#options.orphanAgeMs ?? 3_600_000);
    } catch (error) {
      logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'upload sweep failed');
    }
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#unsubscribe?.();
  }
}

function write(out: WriteStream, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    out.write(chunk, (error) => (error ? reject(error) : resolve()));
  });
}
