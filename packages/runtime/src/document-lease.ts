/**
 * The worker's side of per-document ordering (the producer's is `nextDocumentSeq` in the SDK):
 * two jobs for one document never interleave and the one enqueued last wins.
 * - a worker holds a per-document lease while it works (`SET NX PX`, renewed); a job that finds
 *   the lease taken by another job goes back to the delayed set and tries again later, without
 *   using an attempt; a retried job whose own lease survived its crash takes it back at once;
 * - before working, a job whose sequence number is below the last applied one does nothing
 *   (a later job already won).
 * The keys are the contract's `documentOrderKeys`.
 */
import type { DocumentOrderKeys } from '@quire/contracts';
import type { Redis } from 'ioredis';

const ACQUIRE = `
local cur = redis.call('GET', KEYS[1])
if (not cur) or cur == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0`;

const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

/** Records `seq` as applied unless a higher one already is; returns the applied value. */
const MARK_APPLIED = `
local cur = tonumber(redis.call('GET', KEYS[1]) or '-1')
local seq = tonumber(ARGV[1])
if seq > cur then
  redis.call('SET', KEYS[1], ARGV[1])
  return seq
end
return cur`;

export interface DocumentLeaseOptions {
  /** Lease time in ms; renewed every third of it while held. Default 30,000. */
  ttlMs?: number;
}

export class DocumentLease {
  readonly #redis: Redis;
  readonly #keys: DocumentOrderKeys;
  readonly #holder: string;
  readonly #ttlMs: number;
  #timer: NodeJS.Timeout | undefined;
  #lost = false;

  constructor(redis: Redis, keys: DocumentOrderKeys, holder: string, options: DocumentLeaseOptions = {}) {
    this.#redis = redis;
    this.#keys = keys;
    this.#holder = holder;
    this.#ttlMs = options.ttlMs ?? 30_000;
  }

  /** True when this holder now owns the lease (also when it already did, e.g. after a crash). */
  async acquire(): Promise<boolean> {
    const ok = (await this.#redis.eval(ACQUIRE, 1, this.#keys.lease, this.#holder, this.#ttlMs)) === 1;
    if (ok) {
      this.#timer = setInterval(
        () => {
          this.#redis.eval(RENEW, 1, this.#keys.lease, this.#holder, this.#ttlMs).catch(() => {
            // A missed renewal is harmless while later ones succeed; the lease outlives two misses.
          });
        },
        Math.max(250, Math.floor(this.#ttlMs / 3)),
      );
      this.#timer.unref();
    }
    return ok;
  }

  /**
   * True while this holder still owns the lease and no later job for the document has been applied.
   * Checked before every write, so that a job that lost its lease stops writing.
   */
  async stillHeld(seq?: number): Promise<boolean> {
    if (this.#lost) return false;
    const [holder, applied] = await this.#redis.mget(this.#keys.lease, this.#keys.applied);
    if (holder !== this.#holder) {
      this.#lost = true;
      return false;
    }
    return seq === undefined || applied === null || Number(applied) <= seq;
  }

  /** The last applied sequence number, or -1. */
  async lastApplied(): Promise<number> {
    const value = await this.#redis.get(this.#keys.applied);
    return value === null ? -1 : Number(value);
  }

  async markApplied(seq: number): Promise<void> {
    await this.#redis.eval(MARK_APPLIED, 1, this.#keys.applied, seq);
  }

  async release(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#redis.eval(RELEASE, 1, this.#keys.lease, this.#holder);
  }
}
