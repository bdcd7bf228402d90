/**
 * `Idempotency-Key` on submissions. The job id is derived from the tenant and the key, so two
 * requests with one key agree on the job even when they race; the request's fingerprint is kept
 * in Redis for a while, so that the same key with a different request is refused (422) instead
 * of silently answering with another request's job.
 */
import { createHash } from 'node:crypto';
import type { QueueName } from '@quire/jobs';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { ApiError } from './errors.js';

export const IDEMPOTENCY_HEADER = 'idempotency-key';

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

const RecordSchema = z.object({ fingerprint: z.string(), queue: z.string(), jobId: z.string() });

export interface IdempotencyClaim {
  jobId: string;
  /** True when an earlier request with this key made the job: do not enqueue again. */
  replayed: boolean;
}

export interface IdempotencyStoreOptions {
  redis: Redis;
  prefix: string;
  /** How long a key is remembered, in seconds. */
  ttlSeconds: number;
}

export class IdempotencyStore {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #ttlSeconds: number;

  constructor(options: IdempotencyStoreOptions) {
    this.#redis = options.redis;
    this.#prefix = options.prefix;
    this.#ttlSeconds = options.ttlSeconds;
  }

  /** Checks the header's shape; null when the request has none. */
  static keyOf(headers: Record<string, string | string[] | undefined>): string | null {
    const raw = headers[IDEMPOTENCY_HEADER];
    const value = Array.isArray(raw) ? raw[0] : raw;
    if (value === undefined) return null;
    if (!KEY_PATTERN.test(value)) {
      throw new ApiError(
        'invalid_request',
        'Idempotency-Key must be 1-255 visible ASCII characters (no spaces)',
      );
    }
    return value;
  }

  /** The job id a key stands for, derived from the tenant and the key (hex, usable as a BullMQ id). */
  static jobIdFor(tenant: string, key: string): string {
    return `idem-${sha256(`${tenant}\u0000${key}`).slice(0, 40)}`;
  }

  /**
   * Claims `key` for a request. The first request gets `replayed: false` and must enqueue the job
   * (and `release` the key if that fails); later ones with the same fingerprint get the same job
   * id with `replayed: true`; a different fingerprint is refused.
   */
  async claim(tenant: string, key: string, queue: QueueName, fingerprint: string): Promise<IdempotencyClaim> {
    const jobId = IdempotencyStore.jobIdFor(tenant, key);
    const redisKey = this.#key(tenant, key);
    const record = JSON.stringify({ fingerprint, queue, jobId });
    const created = await this.#redis.set(redisKey, record, 'EX', this.#ttlSeconds, 'NX');
    if (created === 'OK') return { jobId, replayed: false };
    const existing = RecordSchema.safeParse(JSON.parse((await this.#redis.get(redisKey)) ?? 'null'));
    // Expired between the two commands: nothing to compare with, so this request owns the key now.
    if (!existing.success) {
      await this.#redis.set(redisKey, record, 'EX', this.#ttlSeconds);
      return { jobId, replayed: false };
    }
    if (existing.data.fingerprint !== fingerprint) {
      throw new ApiError(
        'idempotency_key_mismatch',
        'this Idempotency-Key was already used with a different request; use a new key for a new request',
      );
    }
    return { jobId: existing.data.jobId, replayed: true };
  }

  /** Forgets a key whose job could not be enqueued, so that a retry can enqueue it. */
  async release(tenant: string, key: string): Promise<void> {
    await this.#redis.del(this.#key(tenant, key));
  }

  #key(tenant: string, key: string): string {
    return `${this.#prefix}:gateway:idem:${tenant}:${sha256(key)}`;
  }
}

/** A request's fingerprint: SHA-256 of its canonical JSON (object keys sorted). */
export function fingerprint(value: unknown): string {
  return sha256(canonicalJson(value));
}

export function sha256(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
