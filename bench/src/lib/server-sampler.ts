/**
 * Samples a model server's counters while a pipeline runs, to tell how much of the provider's rate
 * limit it used and how busy it kept the provider.
 */
import type { RunningModelServer } from '@quire/testkit';

/** The testkit server's rate window: a sliding minute. */
export const RATE_WINDOW_S = 60;

interface Sample {
  /** Seconds since the sampler started. */
  t: number;
  /** Model requests answered 200. */
  ok: number;
  /** Tokens of the answered requests, as the server counts them. */
  tokens: number;
  inFlight: number;
  rateLimited: number;
}

export interface ProviderUse {
  seconds: number;
  requests: number;
  rateLimited: number;
  tokens: number;
  inputs: number;
  requestsPerMinute: number;
  tokensPerMinute: number;
  /** Time-averaged requests in flight at the server. */
  meanInFlight: number;
  peakInFlight: number;
  /**
   * Mean, over every 60 s window inside the run, of the tokens (requests) answered in it ÷ the limit.
   * Null when the run is shorter than one window or the limit is off.
   */
  tokenShare: number | null;
  requestShare: number | null;
  /** Seconds into the run (to the sampling interval) at which 429s were sent, one entry per 429. */
  rateLimitedAt: number[];
  /** Which limit the run came closest to: the larger share. */
  binding: 'tokens' | 'requests' | null;
  /**
   * Tokens answered in each whole second of the run (from its start to the pipeline's end), beside
   * the budget a steady rate would spend in a second (limit ÷ 60): where the budget went idle.
   */
  tokensPerSecond: number[];
  /** Every sample as [seconds, tokens answered so far, requests answered so far], to the sampler's stop. */
  samples: [number, number, number][];
}

export class ServerSampler {
  readonly #server: RunningModelServer;
  readonly #samples: Sample[] = [];
  readonly #started = performance.now();
  readonly #timer: NodeJS.Timeout;
  #endT: number | undefined;

  /**
   * Samples every `intervalMs` (default 50): a window is measured from one sample to the first at
   * least 60 s later, so it may be up to one interval longer than the provider's minute (at 250 ms
   * a window could hold one more request than the limit lets through).
   */
  constructor(server: RunningModelServer, intervalMs = 50) {
    this.#server = server;
    server.resetStats();
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), intervalMs);
  }

  #sample(): void {
    const stats = this.#server.stats;
    this.#samples.push({
      t: (performance.now() - this.#started) / 1000,
      ok: stats.byStatus['200'] ?? 0,
      tokens: stats.tokens,
      inFlight: stats.inFlight,
      rateLimited: stats.rateLimited,
    });
  }

  /**
   * Marks the pipeline's end (its last document done). The shares count windows up to here, not up
   * to {@link stop}: what the benchmark does after the run (stopping workers, reading the store)
   * is no part of the pipeline's use of the provider.
   */
  end(): void {
    this.#sample();
    this.#endT = this.#samples[this.#samples.length - 1]!.t;
  }

  /** Stops sampling and sums up, against the limits the server had. */
  stop(limits: {
    requestsPerMinute?: number | undefined;
    tokensPerMinute?: number | undefined;
  }): ProviderUse {
    clearInterval(this.#timer);
    this.#sample();
    const stats = this.#server.stats;
    const all = this.#samples;
    const endT = this.#endT ?? all[all.length - 1]!.t;
    const samples = all.filter((s) => s.t <= endT);
    const seconds = endT;
    let inFlightArea = 0;
    for (let i = 1; i < samples.length; i++) {
      inFlightArea += samples[i - 1]!.inFlight * (samples[i]!.t - samples[i - 1]!.t);
    }
    const share = (pick: (s: Sample) => number, limit: number | undefined): number | null => {
      if (limit === undefined || seconds < RATE_WINDOW_S) return null;
      const shares: number[] = [];
      let j = 0;
      for (const start of samples) {
        if (start.t + RATE_WINDOW_S > seconds) break;
        while (j < samples.length - 1 && samples[j]!.t < start.t + RATE_WINDOW_S) j++;
        shares.push((pick(samples[j]!) - pick(start)) / limit);
      }
      return shares.length === 0 ? null : shares.reduce((a, b) => a + b, 0) / shares.length;
    };
    const rateLimitedAt: number[] = [];
    for (let i = 1; i < samples.length; i++) {
      const added = samples[i]!.rateLimited - samples[i - 1]!.rateLimited;
      for (let k = 0; k < added; k++) rateLimitedAt.push(Math.round(samples[i]!.t * 10) / 10);
    }
    const tokensPerSecond: number[] = [];
    for (let i = 1, second = 1, before = samples[0]!.tokens; second <= Math.ceil(seconds); second++) {
      while (i < samples.length - 1 && samples[i]!.t < second) i++;
      const at = samples[i]!.tokens;
      tokensPerSecond.push(at - before);
      before = at;
    }
    const tokenShare = share((s) => s.tokens, limits.tokensPerMinute);
    const requestShare = share((s) => s.ok, limits.requestsPerMinute);
    return {
      seconds,
      requests: stats.byStatus['200'] ?? 0,
      rateLimited: stats.rateLimited,
      tokens: stats.tokens,
      inputs: stats.inputs,
      requestsPerMinute: seconds > 0 ? ((stats.byStatus['200'] ?? 0) / seconds) * 60 : 0,
      tokensPerMinute: seconds > 0 ? (stats.tokens / seconds) * 60 : 0,
      meanInFlight: seconds > 0 ? inFlightArea / seconds : 0,
      peakInFlight: stats.peakInFlight,
      tokenShare,
      requestShare,
      rateLimitedAt,
      binding:
        tokenShare === null && requestShare === null
          ? null
          : (tokenShare ?? -1) >= (requestShare ?? -1)
            ? 'tokens'
            : 'requests',
      tokensPerSecond,
      samples: all.map((s) => [Math.round(s.t * 1000) / 1000, s.tokens, s.ok]),
    };
  }
}
