/**
 * Per-tenant limits, kept in Redis so that every gateway replica counts against the same numbers:
 * - jobs per minute: a token bucket (GCRA) per tenant, `limit` jobs a minute with a burst of
 *   `limit`; a batch counts one job per question;
 * - queued bytes: the document bytes (inline or spooled) of the tenant's ingest jobs that have
 *   not ended yet. A job's bytes are held from submission until it ends for good (any gateway
 *   that sees the end releases them, once), and a periodic sweep releases those of jobs whose end
 *   was missed (a gateway down at the time).
 * A refusal is a 429 with `Retry-After`. Producers that use the SDK (or BullMQ) directly do not
 * pass through here: these limits are the gateway's.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { ApiError } from './errors.js';

export interface QuotaSettings {
  /** Jobs a tenant may submit per minute (burst as large); 0 = no limit. */
  jobsPerMinute: number;
  /** Document bytes a tenant may have in unfinished ingest jobs; 0 = no limit. */
  queuedBytes: number;
}

export interface QuotasOptions {
  redis: Redis;
  prefix: string;
  settings: QuotaSettings;
  logger: Logger;
  /** The ingest queue, to find jobs whose end was missed. */
  ingestQueue: Queue;
  /** How often held bytes of ended jobs are looked for, in ms. Default 60,000. */
  sweepIntervalMs?: number;
}

/** Seconds a caller refused for queued bytes is told to wait: jobs end at their own pace. */
const BYTES_RETRY_AFTER_SECONDS = 30;

// GCRA: the key holds the theoretical arrival time (ms); `n` jobs push it by n × interval. Refused
// when that would run more than one minute (the burst) ahead of now. Redis's clock is shared by
// every gateway. Returns 0, or the ms to wait.
const TAKE_JOBS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local interval = 60000 / limit
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local next_tat = tat + n * interval
if next_tat - now > 60000 then
  return math.ceil(next_tat - now - 60000)
end
redis.call('SET', KEYS[1], tostring(next_tat), 'PX', math.ceil(next_tat - now) + 1000)
return 0
`;

// KEYS[1] the tenant's hash jobId → bytes, KEYS[2] its total. Returns 1 when held, 0 when refused.
const HOLD_BYTES = `
local total = tonumber(redis.call('GET', KEYS[2]) or '0')
local bytes = tonumber(ARGV[2])
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 1 end
if total + bytes > tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], bytes)
redis.call('INCRBY', KEYS[2], bytes)
return 1
`;

// Releases a job's bytes once, whoever asks first.
const RELEASE_BYTES = `
local bytes = redis.call('HGET', KEYS[1], ARGV[1])
if not bytes then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
local left = redis.call('DECRBY', KEYS[2], tonumber(bytes))
if left <= 0 then redis.call('DEL', KEYS[2]) end
return 1
`;

export class TenantQuotas {
  readonly #options: QuotasOptions;
  readonly #keys: string;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: QuotasOptions) {
    this.#options = options;
    this.#keys = `${options.prefix}:gateway:quota`;
  }

  get settings(): QuotaSettings {
    return this.#options.settings;
  }

  /** Takes `jobs` from the tenant's jobs-per-minute budget, or throws a 429. */
  async takeJobs(tenant: string, jobs: number): Promise<void> {
    const { jobsPerMinute } = this.#options.settings;
    if (jobsPerMinute <= 0 || jobs <= 0) return;
    if (jobs > jobsPerMinute) {
      throw new ApiError(
        'too_many_requests',
        `${jobs} jobs at once is more than this tenant's limit of ${jobsPerMinute} jobs per minute`,
        { retryAfterSeconds: 60 },
      );
    }
    const waitMs = Number(
      await this.#options.redis.eval(TAKE_JOBS, 1, `${this.#keys}:rate:${tenant}`, jobsPerMinute, jobs),
    );
    if (waitMs > 0) {
      throw new ApiError(
        'too_many_requests',
        `tenant ${tenant} submitted more than ${jobsPerMinute} jobs in the last minute`,
        { retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) },
      );
    }
  }

  /** Holds `bytes` of queued documents for the job, or throws a 429. */
  async holdBytes(tenant: string, jobId: string, bytes: number): Promise<void> {
    const { queuedBytes } = this.#options.settings;
    if (queuedBytes <= 0 || bytes <= 0) return;
    const held = await this.#options.redis.eval(
      HOLD_BYTES,
      2,
      this.#held(tenant),
      this.#total(tenant),
      jobId,
      bytes,
      queuedBytes,
    );
    if (Number(held) !== 1) {
      throw new ApiError(
        'too_many_requests',
        `tenant ${tenant} has more than ${queuedBytes} bytes of documents waiting to be ingested; try again when some have finished`,
        { retryAfterSeconds: BYTES_RETRY_AFTER_SECONDS },
      );
    }
  }

  /** Bytes the tenant's unfinished ingest jobs hold. */
  async queuedBytes(tenant: string): Promise<number> {
    return Number((await this.#options.redis.get(this.#total(tenant))) ?? 0);
  }

  /** Releases a job's bytes (idempotent: every gateway may ask). */
  async release(tenant: string, jobId: string): Promise<void> {
    await this.#options.redis.eval(RELEASE_BYTES, 2, this.#held(tenant), this.#total(tenant), jobId);
  }

  /** Releases the bytes of an ingest job that ended, found from its data. */
  async releaseJob(jobId: string): Promise<void> {
    if (this.#options.settings.queuedBytes <= 0) return;
    const job = await this.#options.ingestQueue.getJob(jobId);
    const tenant = (job?.data as { tenant?: unknown } | undefined)?.tenant;
    if (typeof tenant === 'string') await this.release(tenant, jobId);
  }

  /** Starts the sweep that releases bytes of jobs whose end no gateway saw. */
  start(): void {
    if (this.#options.settings.queuedBytes <= 0 || this.#timer) return;
    this.#timer = setInterval(() => void this.sweep(), this.#options.sweepIntervalMs ?? 60_000);
    this.#timer.unref();
  }

  async sweep(): Promise<void> {
    const { redis, ingestQueue, logger } = this.#options;
    if (redis.status !== 'ready') return;
    try {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${this.#keys}:held:*`, 'COUNT', 100);
        cursor = next;
        for (const key of keys) {
          const tenant = key.slice(`${this.#keys}:held:`.length);
          for (const jobId of await redis.hkeys(key)) {
            const state = await ingestQueue.getJobState(jobId);
            if (state === 'completed' || state === 'failed' || state === 'unknown') {
              await this.release(tenant, jobId);
            }
          }
        }
      } while (cursor !== '0');
    } catch (error) {
      logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'quota sweep failed');
    }
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #held(tenant: string): string {
    return `${this.#keys}:held:${tenant}`;
  }

  #total(tenant: string): string {
    return `${this.#keys}:bytes:${tenant}`;
  }
}
