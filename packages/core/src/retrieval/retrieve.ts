import type { ModelApi } from '@quire/api-client';
import { DEFAULT_CANDIDATES, MAX_CANDIDATES } from '@quire/contracts';
import { collapseDuplicatePassages } from '../duplicates/index.js';
import { QuireError } from '../errors.js';
import type { SearchFilter, VectorStore } from '../vector-store/types.js';
import { fuseRankings, type RetrievalCandidate, RRF_K } from './fusion.js';
import { boundedInteger, elapsedMs, REQUEST_TURNS, throwIfAborted, yieldTurns } from './internal.js';

/** Defaults and limits live with the contracts (the payloads and bodies that carry them). */
export { DEFAULT_CANDIDATES, MAX_CANDIDATES };

export interface RetrieveCandidatesOptions {
  store: VectorStore;
  models: ModelApi;
  /** Embedding model name; must be the one the store's chunks were embedded with. */
  embeddingModel: string;
  /** Only this tenant's chunks are searched. */
  tenant: string;
  question: string;
  /**
   * Candidates kept after fusion, and the limit of each search.
   * @default 30; an integer in 1..100
   */
  candidates?: number;
  /** Applied by the store inside the tenant, to both searches. */
  filter?: SearchFilter;
  /**
   * RRF constant (see {@link RRF_K}).
   * @default 60
   */
  rrfK?: number;
  /** Aborts the embedding call and both searches. */
  signal?: AbortSignal;
}

export interface RetrieveCandidatesResult {
  /**
   * Best first by fused score; at most `candidates`, each chunk once, and each content once: of
   * chunks with the same text (one file ingested under two document ids) only the best ranked stays.
   */
  candidates: RetrievalCandidate[];
  /** Chunks left out because a better ranked one has the same text. */
  duplicatesCollapsed: number;
  usage: {
    /** Tokens the embedding call reported for the question. */
    embeddingTokens: number;
  };
  /** Wall-clock milliseconds of each stage. */
  timingsMs: {
    /** The embedding call. */
    embed: number;
    /**
     * From the vector's arrival to the fused list: the time search added after embedding. The
     * lexical search, which needs no vector, runs while the question is being embedded, so the
     * part of it that overlapped the embedding call is not counted again here.
     */
    search: number;
  };
}

/**
 * Hybrid retrieval: embeds the question once, runs dense and lexical search (each for `candidates`
 * hits) and fuses both lists with Reciprocal Rank Fusion. The lexical search starts as soon as the
 * embedding request is out, so with a remote model its time hides behind the model's.
 */
export async function retrieveCandidates(
  options: RetrieveCandidatesOptions,
): Promise<RetrieveCandidatesResult> {
  const { store, models, tenant, question, filter, signal } = options;
  const limit = boundedInteger('candidates', options.candidates, DEFAULT_CANDIDATES, 1, MAX_CANDIDATES);
  if (question.trim() === '') throw new QuireError('invalid_input', 'question must not be empty');
  throwIfAborted(signal);

  const searchOptions = { limit, filter, signal };
  const embedStart = performance.now();
  let requested: () => void = () => {};
  const onRequest = new Promise<void>((resolve) => {
    requested = resolve;
  });
  const embedding = models.embeddings(
    { model: options.embeddingModel, input: [question] },
    { signal, onRequest: () => requested() },
  );
  // The lexical search starts once the embedding request is handed to fetch (after any wait for a
  // rate limit), or once the call is over for a model that does not say (built-in ones answer at
  // once), then a few turns of the event loop later, so that the request is on the wire before a
  // store with a synchronous driver (SQLite) holds the thread. Skipped when the embedding failed.
  let embeddingFailed = false;
  const settled = embedding.then(
    () => {},
    () => {},
  );
  const lexical = Promise.race([onRequest, settled])
    .then(() => yieldTurns(REQUEST_TURNS))
    .then(() => {
      throwIfAborted(signal);
      return embeddingFailed ? [] : store.searchLexical(tenant, question, searchOptions);
    });
  // Its failure is reported below, or not at all when the embedding fails first.
  lexical.catch(() => {});
  let embedded: Awaited<typeof embedding>;
  let vector: number[];
  try {
    embedded = await embedding;
    vector = questionVector(embedded.vectors[0], options.embeddingModel, store.dimension);
  } catch (error) {
    embeddingFailed = true;
    throw error;
  }
  const embedMs = elapsedMs(embedStart);

  const searchStart = performance.now();
  const [denseHits, lexicalHits] = await Promise.all([
    store.searchDense(tenant, vector, searchOptions),
    lexical,
  ]);
  // Fused in full, then collapsed, then cut: copies do not take the places of other passages.
  const fused = fuseRankings(denseHits, lexicalHits, { k: options.rrfK ?? RRF_K });
  const { kept, collapsed } = collapseDuplicatePassages(fused);

  return {
    candidates: kept.slice(0, limit),
    duplicatesCollapsed: collapsed,
    usage: { embeddingTokens: embedded.usage.promptTokens },
    timingsMs: { embed: embedMs, search: elapsedMs(searchStart) },
  };
}

/** The question's vector, checked against the store: a wrong model or dimension setting gets a clear error. */
function questionVector(vector: number[] | undefined, model: string, dimension: number): number[] {
  if (vector === undefined) {
    throw new QuireError(
      'invalid_input',
      `embedding model ${JSON.stringify(model)} returned no vector for the question`,
    );
  }
  if (vector.length !== dimension) {
    // Left to the store, this would only say "wrong dimension".
    throw new QuireError(
      'invalid_input',
      `embedding model ${JSON.stringify(model)} returned a ${vector.length}-dimensional ` +
        `vector, but the vector store holds ${dimension}-dimensional vectors`,
    );
  }
  return vector;
}
