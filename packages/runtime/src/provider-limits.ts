import { randomUUID } from 'node:crypto';
import type {
  ChatParams,
  ChatResult,
  ChatStreamChunk,
  EmbeddingsParams,
  EmbeddingsResult,
  ModelApi,
  RateLimitInfo,
  RequestOptions,
  RerankParams,
  RerankResult,
} from '@quire/api-client';
import type { Redis } from 'ioredis';
import type { Metrics } from './metrics.js';

export interface ProviderLimits {
  /** Requests per minute shared by every worker process; 0 = no limit. */
  requestsPerMinute: number;
  /** Tokens per minute shared by every worker process; 0 = no limit. */
  tokensPerMinute: number;
}

/**
 * The start of a script that logs requests: Redis's clock as `now` (µs), and the window slid to it —
 * the entries older than `win` µs (set before it) dropped from the log (KEYS[1]), the costs
 * (KEYS[2]) and the state's sum (KEYS[3]).
 */
const SLIDE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local old = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - win)
if #old > 0 then
  local freed = 0
  for i = 1, #old do
    freed = freed + tonumber(redis.call('HGET', KEYS[2], old[i]) or '0')
    redis.call('HDEL', KEYS[2], old[i])
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - win)
  redis.call('HINCRBY', KEYS[3], 'sum', -freed)
end`;

/**
 * A sliding-window log, the provider's own model of its limits: every admitted request is kept for
 * one window with its tokens, and a request is admitted while the window holds fewer than the
 * limits. Up to a full window's budget may thus go out at once (as the provider allows), where an
 * evenly spaced admission would leave the first seconds of every run idle. Redis's clock is the
 * only clock, so the budget holds across hosts.
 *
 * KEYS: the log (sorted set id → admission time), the costs (hash id → tokens), the state (hash:
 * `sum` of the costs in the log, learned limits `rpm`/`tpm`, `pause` until a time).
 * ARGV: tokens, window µs, configured rpm, configured tpm, request id, key ttl ms, and optionally
 * the costs of the request's parts (inputs of an embeddings call) in order.
 * With parts, the request is admitted for the longest run of leading parts that fits what is left
 * of the window, provided they hold at least `tokens` (else it waits until that many fit), so that
 * the window is filled to the brim instead of idling until a whole batch fits.
 * Returns 0 (no parts) or minus the number of parts admitted, once admitted and recorded; else the
 * microseconds to wait.
 */
const ADMIT = `
local win = tonumber(ARGV[2])
${SLIDE}
local pause = tonumber(redis.call('HGET', KEYS[3], 'pause') or '0')
if pause > now then return pause - now end
local function limit(configured, learned)
  configured = tonumber(configured)
  learned = tonumber(learned or '0')
  if configured > 0 and learned > 0 then return math.min(configured, learned) end
  return math.max(configured, learned)
end
local rpm = limit(ARGV[3], redis.call('HGET', KEYS[3], 'rpm'))
local tpm = limit(ARGV[4], redis.call('HGET', KEYS[3], 'tpm'))
local count = redis.call('ZCARD', KEYS[1])
local tokens = tonumber(ARGV[1])
local wait = 0
if rpm > 0 and count + 1 > rpm then
  local oldest = redis.call('ZRANGE', KEYS[1], count - rpm, count - rpm, 'WITHSCORES')
  wait = tonumber(oldest[2]) + win - now
end
local sum = tonumber(redis.call('HGET', KEYS[3], 'sum') or '0')
local parts = #ARGV - 6
local admitted = 0
if parts > 0 then
  -- need: the fewest leading parts holding at least ARGV[1] (all of them if they hold fewer).
  -- take: the most leading parts that fit now; all of them into an empty or unlimited window.
  local need, take, total, running = -1, 0, 0, 0
  for i = 1, parts do
    running = running + tonumber(ARGV[6 + i])
    if need < 0 and running >= tokens then need = running end
    if tpm <= 0 or count == 0 or sum + running <= tpm then take, total = i, running end
  end
  if need < 0 then need = running end
  if total >= need then
    tokens, admitted = total, take
  else
    tokens = need
  end
end
if tpm > 0 and count > 0 and admitted == 0 and sum + tokens > tpm then
  local entries = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
  -- A request larger than the whole budget goes alone, once the window is empty.
  local until_ = tonumber(entries[#entries]) + win - now
  local remaining = sum
  for i = 1, #entries, 2 do
    remaining = remaining - tonumber(redis.call('HGET', KEYS[2], entries[i]) or '0')
    if remaining + tokens <= tpm then
      until_ = tonumber(entries[i + 1]) + win - now
      break
    end
  end
  if until_ > wait then wait = until_ end
end
if wait > 0 then return math.max(1, wait) end
redis.call('ZADD', KEYS[1], now, ARGV[5])
redis.call('HSET', KEYS[2], ARGV[5], tokens)
redis.call('HINCRBY', KEYS[3], 'sum', tokens)
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[6]) end
return -admitted`;

/**
 * Settles a logged request once its answer is in (ARGV: id, tokens, µs since the answer came, µs
 * by which it leaves the window sooner than a request admitted at the answer would): its tokens
 * become what the provider counted, and its time follows the answer's, so that it leaves our window
 * no sooner than it leaves the provider's — the provider logs a request when it arrives (or, like
 * the testkit server, once it has computed the answer), later than we admitted it but before it
 * answered. Being past the provider's log, it needs no margin any more: it leaves one provider
 * window after its answer at the latest, sooner when the provider said when its budget is whole
 * again. A request that has left the window already is not counted any more, so nothing changes.
 */
const SETTLE = `
local before = redis.call('HGET', KEYS[2], ARGV[1])
if not before then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local delta = tonumber(ARGV[2]) - tonumber(before)
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('HINCRBY', KEYS[3], 'sum', delta)
redis.call('ZADD', KEYS[1], 'XX', now - tonumber(ARGV[3]) - tonumber(ARGV[4]), ARGV[1])
return delta`;

/**
 * Logs a request that went without waiting (no limit was known): as ADMIT logs an admitted one,
 * after the same pruning of the window, but whatever the window holds — the request is on its way
 * already, and a limit or pause learned meanwhile must count it, not refuse it.
 *
 * KEYS: as ADMIT's. ARGV: request id, tokens, window µs, key ttl ms.
 */
const LOG = `
local win = tonumber(ARGV[3])
${SLIDE}
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('HINCRBY', KEYS[3], 'sum', ARGV[2])
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[4]) end
return 0`;

/**
 * Records what the provider said about its limits (ARGV: rpm, tpm — 0 when it did not say —,
 * pause µs from now — 0 for none —, key ttl ms): the limits it announces replace what was learned
 * before; a pause (after a 429) holds every admission until it ends.
 */
const LEARN = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
if tonumber(ARGV[1]) > 0 then redis.call('HSET', KEYS[1], 'rpm', ARGV[1]) end
if tonumber(ARGV[2]) > 0 then redis.call('HSET', KEYS[1], 'tpm', ARGV[2]) end
local pauseUs = tonumber(ARGV[3])
if pauseUs > 0 then
  local until_ = now + pauseUs
  local current = tonumber(redis.call('HGET', KEYS[1], 'pause') or '0')
  if until_ > current then redis.call('HSET', KEYS[1], 'pause', string.format('%d', until_)) end
end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 0`;

/** What a provider's answer said about its limits (OpenAI's `x-ratelimit-*`, a 429's retry-after). */
export interface ProviderLimitsSeen {
  /** `x-ratelimit-limit-requests`: requests per window. */
  requestsPerMinute?: number | undefined;
  /** `x-ratelimit-limit-tokens`: tokens per window. */
  tokensPerMinute?: number | undefined;
  /** After a 429: how long the provider asked to wait, in milliseconds. */
  retryAfterMs?: number | undefined;
}

export interface SharedRateLimiterOptions {
  /** Prefix of the limiter's Redis keys (the queue prefix). */
  keyPrefix: string;
  /**
   * The provider's window, in milliseconds, plus a margin: a request is logged when admitted, a
   * little before the provider logs it on arrival, so it must stay in our window a little longer
   * than in the provider's. Default 60,500 (the providers' minute and 0.5 s).
   */
  windowMs?: number;
  /**
   * The margin's part of `windowMs`, in milliseconds. A request whose answer is in has been logged
   * by the provider already, so it leaves the window `windowMs - marginMs` after its answer at the
   * latest (sooner when the answer's `x-ratelimit-reset-*` headers say so).
   * Default 500, at most a hundredth of `windowMs`.
   */
  marginMs?: number;
  /**
   * With no limit configured, how long a look at the shared state that found no limit learned and
   * no pause asked is trusted, in milliseconds: meanwhile requests go without waiting for Redis and
   * are logged beside them. A limit or pause learned by any process reaches the others at once
   * (Redis pub/sub, on a connection of the limiter's own); this bounds what a lost message costs.
   * Default 1,000.
   */
  stateCacheMs?: number;
  /**
   * With no limit known, how long the log entries of requests sent without waiting (their admission
   * and their settlement) may wait before they are written to Redis together, in milliseconds: one
   * write for all the calls of that time instead of two per call, sent while this process waits for
   * the provider rather than beside each request. An entry is written at once, with those before
   * it, when this process learns of a limit or a pause, asks Redis for an admission, or closes.
   * Default 20; 0 writes each at once; at most 60,000.
   */
  logDelayMs?: number;
}

/** A log write of a request sent without waiting, held for the next {@link SharedRateLimiter} flush. */
type HeldWrite =
  | { kind: 'log'; key: string; id: string; tokens: number }
  | { kind: 'settle'; key: string; ticket: string; tokens: number; answeredAt: number; earlyUs: number };

/** Held writes past which they are written without waiting for the delay. */
const MAX_HELD_WRITES = 512;
/** Longest `logDelayMs`. */
const MAX_LOG_DELAY_MS = 60_000;
/** How long `close` waits for the held writes (Redis may be gone; they are not worth a stuck shutdown). */
const CLOSE_WRITE_WAIT_MS = 1_000;

/**
 * A provider rate limit shared by all workers through Redis, so that scaling out never turns into
 * a storm of 429s. Callers wait for their turn; nothing fails here. The limits are the configured
 * ones, or those the provider announces in its answers (the lower of the two when both are known);
 * a 429 holds every worker back for as long as the provider asked.
 */
export class SharedRateLimiter {
  readonly #redis: Redis;
  readonly #keyPrefix: string;
  readonly #limits: ProviderLimits;
  readonly #windowUs: number;
  readonly #marginUs: number;
  readonly #ttlMs: number;
  readonly #stateCacheMs: number;
  readonly #logDelayMs: number;
  /** Log writes of requests sent without waiting, in the order they came; see `logDelayMs`. */
  #held: HeldWrite[] = [];
  #flushTimer: NodeJS.Timeout | undefined;
  /** The last flush's write, for `close` to wait for. */
  #flushed: Promise<void> = Promise.resolve();
  #waiting = 0;
  readonly #waitingListeners = new Set<(waiting: number) => void>();
  /** Per key: until when (performance.now()) the shared state is known to hold no limit. */
  readonly #unlimitedUntil = new Map<string, number>();
  /** Per key: raised by every limit or pause this process learns, so an older read cannot undo it. */
  readonly #learned = new Map<string, number>();
  readonly #stateReads = new Set<string>();
  /** Connection subscribed to the learned-limits channel; made when first needed. */
  #subscriber: Redis | undefined;
  #subscribed = false;
  #closed = false;

  constructor(redis: Redis, limits: ProviderLimits, options: SharedRateLimiterOptions) {
    this.#redis = redis;
    this.#keyPrefix = options.keyPrefix;
    this.#limits = limits;
    const windowMs = options.windowMs ?? 60_500;
    this.#windowUs = windowMs * 1000;
    this.#marginUs = Math.round(Math.min(options.marginMs ?? 500, windowMs / 100) * 1000);
    this.#ttlMs = windowMs + 60_000;
    this.#stateCacheMs = options.stateCacheMs ?? 1_000;
    const logDelayMs = options.logDelayMs ?? 20;
    if (!Number.isFinite(logDelayMs) || logDelayMs < 0 || logDelayMs > MAX_LOG_DELAY_MS) {
      throw new RangeError(`logDelayMs must be between 0 and ${MAX_LOG_DELAY_MS}, got ${logDelayMs}`);
    }
    this.#logDelayMs = logDelayMs;
  }

  /** Calls in this process waiting for the budget now. */
  get waiting(): number {
    return this.#waiting;
  }

  /**
   * Calls `listener` with {@link waiting} each time it changes, e.g. to start more jobs while the
   * ones running wait for the budget. Returns the function that removes it.
   */
  onWaitingChange(listener: (waiting: number) => void): () => void {
    this.#waitingListeners.add(listener);
    return () => this.#waitingListeners.delete(listener);
  }

  #setWaiting(delta: number): void {
    this.#waiting += delta;
    for (const listener of this.#waitingListeners) {
      try {
        listener(this.#waiting);
      } catch {
        // A listener's failure is its own; admission goes on.
      }
    }
  }

  #keys(key: string): [string, string, string] {
    const base = `${this.#keyPrefix}:rl:${key}`;
    return [`${base}:log`, `${base}:cost`, `${base}:state`];
  }

  /**
   * Waits until one request of `tokens` tokens may be sent under both limits, and logs it. Returns
   * the request's ticket, for {@link charge}.
   */
  async acquire(key: string, tokens: number, signal?: AbortSignal): Promise<string> {
    return (await this.#acquire(key, tokens, [], signal)).ticket;
  }

  /**
   * Waits until the first of a request's parts (e.g. the inputs of an embeddings call, at `costs`
   * tokens each) may be sent, and logs them: as many leading parts as fit in what is left of the
   * window, once they hold at least `minTokens` (all parts into an empty window). The caller sends
   * those `count` parts now and asks again for the rest. Returns the ticket for {@link charge}.
   */
  async acquireParts(
    key: string,
    costs: readonly number[],
    minTokens: number,
    signal?: AbortSignal,
  ): Promise<{ ticket: string; count: number }> {
    if (costs.length === 0) throw new RangeError('acquireParts needs at least one part');
    return this.#acquire(key, minTokens, costs, signal);
  }

  async #acquire(
    key: string,
    tokens: number,
    costs: readonly number[],
    signal: AbortSignal | undefined,
  ): Promise<{ ticket: string; count: number }> {
    const id = randomUUID();
    const cost = Math.max(0, Math.ceil(tokens));
    const parts = costs.map((c) => Math.max(0, Math.ceil(c)));
    if (this.#knownUnlimited(key)) {
      // Nothing limits the provider: the request goes now, a Redis round trip sooner, and is
      // logged shortly after (admission never waits without a limit), so that a limit learned
      // later counts it, a pause or limit learned meanwhile included. Logged when written, up to
      // `logDelayMs` after it went: it leaves the window that much later, never sooner. Its tokens
      // are what an admission into an unlimited window takes: all of its parts.
      const tokens = parts.length === 0 ? cost : parts.reduce((sum, part) => sum + part, 0);
      this.#hold({ kind: 'log', key, id, tokens });
      return { ticket: id, count: parts.length === 0 ? 1 : parts.length };
    }
    let waited = false;
    try {
      for (;;) {
        signal?.throwIfAborted();
        const waitUs = await this.#admit(key, cost, id, parts);
        if (waitUs <= 0) return { ticket: id, count: parts.length === 0 ? 1 : -waitUs };
        if (!waited) {
          waited = true;
          this.#setWaiting(1);
        }
        // A little spread so that waiters don't all ask again on the same millisecond.
        await sleep(Math.ceil(waitUs / 1000) + Math.floor(Math.random() * 10), signal);
      }
    } finally {
      if (waited) this.#setWaiting(-1);
    }
  }

  /**
   * Whether neither this process nor the shared state knows a limit or a pause for `key`, as of a
   * look at most `stateCacheMs` old; the next look is taken in the background when half of it has
   * passed. False until the first look is in, and always with a limit configured.
   */
  #knownUnlimited(key: string): boolean {
    if (this.#limits.requestsPerMinute > 0 || this.#limits.tokensPerMinute > 0 || this.#closed) return false;
    if (!this.#subscribed) {
      this.#subscribe();
      return false;
    }
    const now = performance.now();
    const until = this.#unlimitedUntil.get(key) ?? 0;
    if (now + this.#stateCacheMs / 2 >= until && !this.#stateReads.has(key)) {
      this.#stateReads.add(key);
      const learned = this.#learned.get(key) ?? 0;
      const [, , state] = this.#keys(key);
      this.#redis
        .hmget(state, 'rpm', 'tpm', 'pause')
        .then((fields) => {
          if ((this.#learned.get(key) ?? 0) !== learned) return;
          if (fields.some((field) => Number(field ?? 0) > 0)) this.#unlimitedUntil.delete(key);
          else this.#unlimitedUntil.set(key, now + this.#stateCacheMs);
        })
        .catch(() => this.#unlimitedUntil.delete(key))
        .finally(() => this.#stateReads.delete(key));
    }
    return now < until;
  }

  get #channel(): string {
    return `${this.#keyPrefix}:rl:learned`;
  }

  /** Subscribes to limits and pauses learned by any process; looks at the state count only from then on. */
  #subscribe(): void {
    if (this.#subscriber !== undefined) return;
    const subscriber = this.#redis.duplicate();
    this.#subscriber = subscriber;
    const forget = (): void => {
      this.#subscribed = false;
      this.#unlimitedUntil.clear();
    };
    subscriber.on('error', forget);
    subscriber.on('close', forget);
    subscriber.on('message', (_channel: string, key: string) => this.#heard(key));
    // On connecting, and again after a reconnect (messages sent meanwhile were lost).
    subscriber.on('ready', () => {
      subscriber
        .subscribe(this.#channel)
        .then(() => {
          if (!this.#closed && subscriber.status === 'ready') this.#subscribed = true;
        })
        .catch(forget);
    });
  }

  /** A limit or pause was learned for `key`: ask before each request from now on. */
  #heard(key: string): void {
    this.#learned.set(key, (this.#learned.get(key) ?? 0) + 1);
    this.#unlimitedUntil.delete(key);
    // The requests that went meanwhile count before the next admission is asked for.
    this.#flush();
  }

  /** Holds a log write for the next flush, which it schedules. */
  #hold(write: HeldWrite): void {
    this.#held.push(write);
    if (this.#logDelayMs === 0 || this.#held.length >= MAX_HELD_WRITES) {
      this.#flush();
    } else if (this.#flushTimer === undefined) {
      this.#flushTimer = setTimeout(() => this.#flush(), this.#logDelayMs);
      // A process that exits without closing the limiter loses at most these entries.
      this.#flushTimer.unref();
    }
  }

  /**
   * Writes the held log entries now, in one pipeline: on the same connection as everything else
   * this limiter sends, so Redis runs them before any admission asked for after this call. A
   * failed write only loses those entries: the budget then counts fewer requests, as when Redis is
   * gone for a moment.
   */
  #flush(): void {
    if (this.#flushTimer !== undefined) {
      clearTimeout(this.#flushTimer);
      this.#flushTimer = undefined;
    }
    if (this.#held.length === 0) return;
    const held = this.#held;
    this.#held = [];
    const now = performance.now();
    const pipeline = this.#redis.pipeline();
    for (const write of held) {
      const keys = this.#keys(write.key);
      if (write.kind === 'log') {
        pipeline.eval(LOG, 3, ...keys, write.id, write.tokens, this.#windowUs, this.#ttlMs);
      } else {
        const answeredUsAgo = Math.max(0, Math.round((now - write.answeredAt) * 1000));
        pipeline.eval(SETTLE, 3, ...keys, write.ticket, write.tokens, answeredUsAgo, write.earlyUs);
      }
    }
    this.#flushed = pipeline.exec().then(
      () => undefined,
      () => undefined,
    );
  }

  /**
   * Writes the held log entries (waiting a second at most: Redis may be gone) and closes the
   * limiter's own connection (the one it was given stays open: close the limiter first).
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#subscribed = false;
    this.#unlimitedUntil.clear();
    this.#flush();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#flushed,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, CLOSE_WRITE_WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    if (subscriber !== undefined) await subscriber.quit().catch(() => subscriber.disconnect());
  }

  async #admit(key: string, cost: number, id: string, parts: readonly number[]): Promise<number> {
    // The requests that went without waiting count first.
    this.#flush();
    return Number(
      await this.#redis.eval(
        ADMIT,
        3,
        ...this.#keys(key),
        cost,
        this.#windowUs,
        this.#limits.requestsPerMinute,
        this.#limits.tokensPerMinute,
        id,
        this.#ttlMs,
        ...parts,
      ),
    );
  }

  /**
   * Settles an admitted request (its ticket from {@link acquire}) once its answer is in: its tokens
   * become what the provider counted — more than acquired makes the next requests wait for them,
   * fewer gives the difference back at once — and it stays in the window for the provider's window
   * from its answer, which came `answeredMsAgo` milliseconds before this call (default 0: now).
   *
   * Sooner when the provider said so: `held.heldMs` is how long after the answer its budget is whole
   * again (its `x-ratelimit-reset-*`, this request's part included). Never sooner, though, than a
   * provider window after the request was sent (`held.sentMsBeforeAnswer` before the answer), which
   * the provider cannot have logged it before: a header of another meaning (a bucket's refill, one
   * rounded down, one worked out before the request was counted) costs at most the request's way to
   * the provider. Never waits itself.
   */
  async charge(
    key: string,
    ticket: string,
    tokens: number,
    answeredMsAgo = 0,
    held: { heldMs?: number | undefined; sentMsBeforeAnswer?: number | undefined } = {},
  ): Promise<void> {
    const providerWindowUs = this.#windowUs - this.#marginUs;
    const { heldMs, sentMsBeforeAnswer } = held;
    // The header is taken only with the sending's time to bound it.
    const heldUs =
      heldMs !== undefined &&
      Number.isFinite(heldMs) &&
      heldMs >= 0 &&
      sentMsBeforeAnswer !== undefined &&
      Number.isFinite(sentMsBeforeAnswer)
        ? Math.max(
            Math.min(providerWindowUs, Math.ceil(heldMs * 1000)),
            providerWindowUs - Math.max(0, Math.floor(sentMsBeforeAnswer * 1000)),
          )
        : providerWindowUs;
    const settled = Math.max(0, Math.ceil(tokens));
    if (this.#stillUnlimited(key)) {
      // Nothing limits the provider: held with the others, and its time from the answer worked
      // out when it is written.
      this.#hold({
        kind: 'settle',
        key,
        ticket,
        tokens: settled,
        answeredAt: performance.now() - Math.max(0, answeredMsAgo),
        earlyUs: this.#windowUs - heldUs,
      });
      return;
    }
    // After the held admissions (this request's among them), on the same connection.
    this.#flush();
    await this.#redis.eval(
      SETTLE,
      3,
      ...this.#keys(key),
      ticket,
      settled,
      Math.max(0, Math.round(answeredMsAgo * 1000)),
      this.#windowUs - heldUs,
    );
  }

  /** Whether requests for `key` go without waiting now (as {@link #knownUnlimited}, without a look). */
  #stillUnlimited(key: string): boolean {
    return (
      this.#limits.requestsPerMinute === 0 &&
      this.#limits.tokensPerMinute === 0 &&
      this.#subscribed &&
      !this.#closed &&
      performance.now() < (this.#unlimitedUntil.get(key) ?? 0)
    );
  }

  /** Learns the provider's limits from its answer, and a pause from its 429. */
  async learn(key: string, seen: ProviderLimitsSeen): Promise<void> {
    const rpm = positiveInt(seen.requestsPerMinute);
    const tpm = positiveInt(seen.tokensPerMinute);
    const pauseUs = positiveInt(seen.retryAfterMs) * 1000;
    if (rpm === 0 && tpm === 0 && pauseUs === 0) return;
    // From now on this process asks before each request, whatever an older look at the state said.
    this.#heard(key);
    const [, , state] = this.#keys(key);
    await this.#redis.eval(LEARN, 1, state, rpm, tpm, pauseUs, this.#ttlMs);
    // The other processes too.
    await this.#redis.publish(this.#channel, key);
  }
}

function positiveInt(value: number | undefined): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? Math.ceil(value) : 0;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    // Aborted while Redis was asked: an 'abort' listener added now would never fire.
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Each input's share of a call's `estimated` tokens, by its length: enough to cut a call where the
 * window is full (the provider's count settles the budget afterwards).
 */
function inputCosts(input: readonly string[], estimated: number): number[] {
  let chars = 0;
  for (const text of input) chars += text.length;
  if (chars === 0) return input.map(() => estimated / input.length);
  return input.map((text) => (estimated * text.length) / chars);
}

/** The answers of an embeddings call's parts, as one answer in input order. */
function joinEmbeddings(results: readonly EmbeddingsResult[]): EmbeddingsResult {
  const first = results[0]!;
  if (results.length === 1) return first;
  return {
    model: first.model,
    vectors: results.flatMap((r) => r.vectors),
    // A part of another dimension (a provider fault) shows in the dimension, for the caller's check.
    dimension: results.find((r) => r.dimension !== first.dimension)?.dimension ?? first.dimension,
    usage: {
      promptTokens: results.reduce((sum, r) => sum + r.usage.promptTokens, 0),
      totalTokens: results.reduce((sum, r) => sum + r.usage.totalTokens, 0),
    },
    requests: results.reduce((sum, r) => sum + r.requests, 0),
  };
}

/**
 * Of a call's last request: when it was sent, when its answer's rate-limit headers came, and how long
 * after that the provider said its budget stays short (0 and undefined when not known).
 */
interface Heard {
  sentAt: number;
  at: number;
  heldMs: number | undefined;
}

function unheard(): Heard {
  return { sentAt: 0, at: 0, heldMs: undefined };
}

/**
 * How long after an answer the request stays in the provider's window, as its headers tell: the
 * longer of its `x-ratelimit-reset-*` (until the request and token budgets are whole again, which
 * is when the last request counted leaves the window, this one among them). `undefined` when it
 * gave neither.
 */
function heldFor(info: RateLimitInfo): number | undefined {
  const resets = [info.resetRequestsMs, info.resetTokensMs].filter((ms) => ms !== undefined);
  return resets.length === 0 ? undefined : Math.max(...resets);
}

/** Rough token estimate for a text (about four characters a token for Latin text). */
export function estimateTokens(texts: readonly string[]): number {
  let chars = 0;
  for (const t of texts) chars += t.length;
  return Math.ceil(chars / 4);
}

export interface GuardedModelsOptions {
  limiter?: SharedRateLimiter;
  metrics: Metrics;
  /** Key shared by every process talking to one provider (e.g. its base URL). */
  providerKey: string;
}

/**
 * Wraps a ModelApi so that every call waits for the shared rate limit and is recorded in metrics
 * (calls, latency, tokens, errors by endpoint). Behaviour is otherwise unchanged.
 *
 * A call is admitted at the tokens the caller expects (`estimatedTokens`, e.g. the chunker's
 * counts) or, without them, about four characters a token. The provider's own count, when its
 * answer has usage, then corrects the shared budget: a request that cost more makes the next ones
 * wait, one that cost less gives the difference back. The budget so follows the provider's
 * tokenizer, whatever it is, instead of a guess that would leave part of the limit unused.
 *
 * The limiter also learns from every answer: the limits the provider announces in its
 * `x-ratelimit-limit-*` headers, and after a 429 a pause for as long as it asked.
 */
export function guardModels(models: ModelApi, options: GuardedModelsOptions): ModelApi {
  const { limiter, metrics, providerKey } = options;
  async function settle(
    ticket: string | undefined,
    estimated: number,
    used: number,
    heard: Heard,
  ): Promise<void> {
    if (limiter === undefined || ticket === undefined) return;
    // Also when the count is as estimated: the request's time in the window starts again at its
    // answer (however long this process took to get to it). A correction that fails (Redis gone
    // for a moment) only leaves the estimate in place; the next acquire reports Redis trouble
    // where it matters.
    const answeredAt = heard.at > 0 ? heard.at : performance.now();
    await limiter
      .charge(providerKey, ticket, used > 0 ? used : estimated, performance.now() - answeredAt, {
        heldMs: heard.at > 0 ? heard.heldMs : undefined,
        sentMsBeforeAnswer: heard.sentAt > 0 ? answeredAt - heard.sentAt : undefined,
      })
      .catch(() => undefined);
  }
  // What the provider last announced, so that only a change costs a Redis write.
  let announced = { requests: 0, tokens: 0 };
  /**
   * The call's options with listeners that fill `heard` for its last request: when it was sent
   * (each retry starts it again), when its answer's rate-limit headers came (for a whole answer, the
   * moment closest after the provider logged the request) and, for a success, how long after that
   * the provider said its budget would be whole again.
   */
  function listen(requestOptions: RequestOptions | undefined, heard: Heard): RequestOptions | undefined {
    if (limiter === undefined) return requestOptions;
    const callers = requestOptions?.onRateLimit;
    const sending = requestOptions?.onRequest;
    return {
      ...requestOptions,
      onRequest() {
        Object.assign(heard, unheard(), { sentAt: performance.now() });
        sending?.();
      },
      onRateLimit(info: RateLimitInfo) {
        heard.at = performance.now();
        heard.heldMs = info.status >= 200 && info.status < 300 ? heldFor(info) : undefined;
        callers?.(info);
        const requests = info.limitRequests ?? announced.requests;
        const tokens = info.limitTokens ?? announced.tokens;
        if (requests === announced.requests && tokens === announced.tokens) return;
        announced = { requests, tokens };
        void limiter
          .learn(providerKey, { requestsPerMinute: requests, tokensPerMinute: tokens })
          .catch(() => undefined);
      },
    };
  }
  async function learnFrom(error: unknown): Promise<void> {
    const { status, retryAfterMs } = error as { status?: number; retryAfterMs?: number };
    if (limiter === undefined || status !== 429) return;
    // Every worker holds back for as long as the provider asked (a second when it did not say).
    await limiter.learn(providerKey, { retryAfterMs: retryAfterMs ?? 1000 }).catch(() => undefined);
  }
  async function guarded<T>(
    endpoint: string,
    estimated: number,
    requestOptions: RequestOptions | undefined,
    run: (requestOptions: RequestOptions | undefined) => Promise<T>,
    used: (r: T) => number,
  ): Promise<T> {
    const ticket = await limiter?.acquire(providerKey, estimated, requestOptions?.signal);
    return sent(endpoint, ticket, estimated, requestOptions, run, used);
  }
  /** A call the limiter has admitted (under `ticket`): sent, recorded, and settled with its count. */
  async function sent<T>(
    endpoint: string,
    ticket: string | undefined,
    estimated: number,
    requestOptions: RequestOptions | undefined,
    run: (requestOptions: RequestOptions | undefined) => Promise<T>,
    used: (r: T) => number,
  ): Promise<T> {
    const started = performance.now();
    const heard = unheard();
    let result: T;
    try {
      result = await run(listen(requestOptions, heard));
    } catch (error) {
      const code = (error as { status?: number; name?: string }).status ?? (error as { name?: string }).name;
      metrics.modelCall(endpoint, 'error', (performance.now() - started) / 1000, 0, String(code ?? 'error'));
      await learnFrom(error);
      throw error;
    }
    const tokens = used(result);
    metrics.modelCall(endpoint, 'ok', (performance.now() - started) / 1000, tokens || estimated);
    // In the background: the answer is in, and a slow Redis must not hold it back.
    void settle(ticket, estimated, tokens, heard);
    return result;
  }
  /**
   * An embeddings call under the limiter, sent in as few requests as the window allows: each
   * request takes the leading inputs that fit in what is left of the window (at least an eighth of
   * the call's tokens), so the budget is spent to the brim while the rest waits for the window to
   * slide. The parts go out as they are admitted, and their answers are joined in input order.
   */
  async function embedInParts(
    limiter: SharedRateLimiter,
    params: EmbeddingsParams,
    estimated: number,
    requestOptions: RequestOptions | undefined,
  ): Promise<EmbeddingsResult> {
    const costs = inputCosts(params.input, estimated);
    const minTokens = Math.ceil(estimated / 8);
    const parts: Promise<EmbeddingsResult>[] = [];
    // One part's failure stops the call; the others' rejections are then not left unhandled.
    const failed = new AbortController();
    const signal = requestOptions?.signal
      ? AbortSignal.any([requestOptions.signal, failed.signal])
      : failed.signal;
    let start = 0;
    try {
      while (start < params.input.length) {
        const { ticket, count } = await limiter.acquireParts(
          providerKey,
          costs.slice(start),
          minTokens,
          signal,
        );
        const input = params.input.slice(start, start + count);
        const partTokens = costs.slice(start, start + count).reduce((a, b) => a + b, 0);
        start += count;
        const part = sendPart(ticket, partTokens, { ...params, input }, { ...requestOptions, signal });
        part.catch((error: unknown) => failed.abort(error));
        parts.push(part);
      }
    } catch (error) {
      await Promise.allSettled(parts);
      throw failed.signal.aborted ? failed.signal.reason : error;
    }
    const results = await Promise.all(parts);
    return joinEmbeddings(results);
  }
  async function sendPart(
    ticket: string,
    estimated: number,
    params: EmbeddingsParams,
    requestOptions: RequestOptions,
  ): Promise<EmbeddingsResult> {
    return sent(
      'embeddings',
      ticket,
      estimated,
      requestOptions,
      (options) => models.embeddings(params, options),
      (r) => r.usage.totalTokens,
    );
  }
  return {
    async embeddings(params: EmbeddingsParams, requestOptions?: RequestOptions): Promise<EmbeddingsResult> {
      const estimated = requestOptions?.estimatedTokens ?? estimateTokens(params.input);
      if (limiter !== undefined && params.input.length > 1) {
        return embedInParts(limiter, params, estimated, requestOptions);
      }
      return guarded(
        'embeddings',
        estimated,
        requestOptions,
        (options) => models.embeddings(params, options),
        (r) => r.usage.totalTokens,
      );
    },
    async rerank(params: RerankParams, requestOptions?: RequestOptions): Promise<RerankResult> {
      return guarded(
        'rerank',
        requestOptions?.estimatedTokens ?? estimateTokens([params.query, ...params.documents]),
        requestOptions,
        (options) => models.rerank(params, options),
        (r) => r.usage.totalTokens,
      );
    },
    async chat(params: ChatParams, requestOptions?: RequestOptions): Promise<ChatResult> {
      return guarded(
        'chat',
        requestOptions?.estimatedTokens ?? estimateTokens(params.messages.map((m) => m.content)),
        requestOptions,
        (options) => models.chat(params, options),
        (r) => r.usage.totalTokens,
      );
    },
    async *chatStream(params: ChatParams, requestOptions?: RequestOptions): AsyncIterable<ChatStreamChunk> {
      const tokens = requestOptions?.estimatedTokens ?? estimateTokens(params.messages.map((m) => m.content));
      const ticket = await limiter?.acquire(providerKey, tokens, requestOptions?.signal);
      const started = performance.now();
      let used = 0;
      try {
        for await (const chunk of models.chatStream(params, listen(requestOptions, unheard()))) {
          if (chunk.usage) used = chunk.usage.totalTokens;
          yield chunk;
        }
      } catch (error) {
        metrics.modelCall('chat', 'error', (performance.now() - started) / 1000, 0, 'stream');
        await learnFrom(error);
        throw error;
      }
      const answeredAt = performance.now();
      metrics.modelCall('chat', 'ok', (answeredAt - started) / 1000, used || tokens);
      // A stream's headers come before its last token, which a provider may count when it is
      // sent: the request stays a whole provider window from the stream's end, whatever they said.
      void settle(ticket, tokens, used, unheard());
    },
  };
}
