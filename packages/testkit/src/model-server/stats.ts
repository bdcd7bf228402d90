/** What the server has done since it started (or since `resetStats()`). */
export interface ModelServerStats {
  /** All requests received. */
  requests: number;
  /** Requests per path, e.g. `{ '/v1/rerank': 3 }` (unknown paths included). */
  byEndpoint: Record<string, number>;
  /** Responses per HTTP status, e.g. `{ '200': 2, '429': 1 }`. Hung requests have none. */
  byStatus: Record<string, number>;
  /** `429` responses sent (rate limiter and scripted). */
  rateLimited: number;
  /** Tokens of the usage reported in successful model answers. */
  tokens: number;
  /** Embeddings inputs and rerank documents in successful model answers. */
  inputs: number;
  /** Requests being handled right now (hanging ones included). */
  inFlight: number;
  /** Highest `inFlight` seen. */
  peakInFlight: number;
  /** Injected faults, by kind. */
  faults: { errors: number; hangs: number; malformed: number; wrongDimension: number; scripted: number };
}

export function emptyStats(): ModelServerStats {
  return {
    requests: 0,
    byEndpoint: {},
    byStatus: {},
    rateLimited: 0,
    tokens: 0,
    inputs: 0,
    inFlight: 0,
    peakInFlight: 0,
    faults: { errors: 0, hangs: 0, malformed: 0, wrongDimension: 0, scripted: 0 },
  };
}

export function copyStats(stats: ModelServerStats): ModelServerStats {
  return {
    ...stats,
    byEndpoint: { ...stats.byEndpoint },
    byStatus: { ...stats.byStatus },
    faults: { ...stats.faults },
  };
}
