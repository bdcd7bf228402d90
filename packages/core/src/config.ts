/**
 * Quire's configuration, read from the environment once at start-up by each app's `env.ts`.
 * With nothing set but Redis, everything runs embedded: an SQLite store under `.quire/` and the
 * built-in offline models. A model API base URL switches to a real provider; a Qdrant URL
 * switches the store.
 */
import { isAbsolute, join, resolve } from 'node:path';
import {
  DEFAULT_CANDIDATES,
  DEFAULT_CONTEXT_TOKENS,
  DEFAULT_TOP_N,
  MAX_CANDIDATES,
  MAX_CONTEXT_TOKENS,
  MAX_TOP_N,
} from '@quire/contracts/retrieval-limits';
import * as z from 'zod';
import { PDF_ENGINE_SETTINGS, type PdfEngineSetting } from './loaders/pdf-engine-names.js';

/** `z.coerce.boolean()` turns "false" into true; this one does not. */
export const envBoolean = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off', ''])
  .transform((v) => ['true', '1', 'yes', 'on'].includes(v));

/** An integer variable within bounds. */
export const envInt = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
/** A string variable where empty means unset. */
export const envOptionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));
/** A comma-separated list; empty items dropped. */
export const envList = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
  );
const int = envInt;
const optionalString = envOptionalString;
const list = envList;

export const BUILTIN_MODEL_NAMES = {
  embedding: 'quire-hash-embed',
  rerank: 'quire-lexical-rerank',
  chat: 'quire-extractive',
} as const;

/** Default minimum rerank score with the built-in models: below it a passage is not relevant. */
export const BUILTIN_MIN_RERANK_SCORE = 0.05;

export const QuireEnvSchema = z.object({
  // --- Redis and queues
  /** Redis for the queues. */
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  /** Key prefix of every queue; braces make it a Redis Cluster hash tag. */
  QUIRE_QUEUE_PREFIX: z.string().min(1).default('{quire}'),

  // --- Storage
  /** Directory for embedded data (the SQLite store). */
  QUIRE_DATA_DIR: z.string().default('.quire'),
  /** SQLite file of the embedded store. Default `<QUIRE_DATA_DIR>/vectors.db`. */
  QUIRE_SQLITE_PATH: optionalString,
  /**
   * MiB of dense vectors each SQLite connection of a process keeps in memory for fast dense search
   * (about 1.8 KiB a chunk at dimension 384, with room to grow); a tenant larger than this is
   * searched by sqlite-vec.
   * 0 turns the in-memory vectors off.
   */
  QUIRE_SQLITE_DENSE_CACHE_MB: int(0, 65_536).default(256),
  /** Set to use Qdrant instead of the embedded store. */
  QDRANT_URL: optionalString.pipe(z.string().url().optional()),
  QDRANT_API_KEY: optionalString,
  QDRANT_TIMEOUT_MS: int(100, 600_000).default(30_000),

  // --- Model API
  /** OpenAI-compatible base URL ending in /v1; unset = built-in offline models. */
  QUIRE_MODEL_BASE_URL: optionalString.pipe(z.string().url().optional()),
  QUIRE_MODEL_API_KEY: optionalString,
  QUIRE_MODEL_TIMEOUT_MS: int(100, 600_000).default(60_000),
  /** Retries inside the API client; queued jobs retry through BullMQ, so keep this low. */
  QUIRE_MODEL_MAX_RETRIES: int(0, 10).default(1),
  QUIRE_EMBEDDING_MODEL: optionalString,
  /** Embedding dimension; required with a real API (it names the collection). */
  QUIRE_EMBEDDING_DIMENSION: z.coerce.number().int().min(2).max(8192).optional(),
  /**
   * How embeddings travel from the API: `base64` float32 (4 bytes a value, what OpenAI's SDKs ask
   * for; a server answering with numbers anyway is still read) or `float` JSON numbers, for a
   * gateway that rejects `base64`.
   */
  QUIRE_EMBEDDING_ENCODING: z.enum(['base64', 'float']).default('base64'),
  QUIRE_EMBED_BATCH_SIZE: int(1, 2048).default(64),
  QUIRE_EMBED_CONCURRENCY: int(1, 64).default(4),
  QUIRE_RERANK_MODEL: optionalString,
  QUIRE_RERANK_MAX_DOCUMENTS: int(1, 10_000).default(1000),
  QUIRE_CHAT_MODEL: optionalString,
  /** Provider limits shared by all workers; 0 = unlimited. */
  QUIRE_PROVIDER_RPM: int(0, 10_000_000).default(0),
  QUIRE_PROVIDER_TPM: int(0, 1_000_000_000).default(0),

  // --- Ingestion
  QUIRE_CHUNK_SIZE: int(32, 8192).optional(),
  QUIRE_CHUNK_OVERLAP: int(0, 4096).optional(),
  /** Directories a `path` source may read from (comma-separated); empty = path sources refused. */
  QUIRE_FILE_ROOTS: list,
  /**
   * Directory shared by producers (gateway, CLI) and ingest workers where documents too large to
   * travel in a job are written; the workers read it like a file root. Default with the embedded
   * store: `<QUIRE_DATA_DIR>/spool` (everything runs on one machine); with Qdrant: unset (none).
   */
  QUIRE_SPOOL_DIR: z.string().trim().optional(),
  QUIRE_MAX_FILE_BYTES: int(1, 2 ** 40).default(50 * 1024 * 1024),
  QUIRE_MAX_PDF_PAGES: int(1, 1_000_000).default(2000),
  QUIRE_MAX_CHARS: int(1, 2 ** 31).default(5_000_000),
  // --- Parse sandbox (PDF, DOCX, HTML parse in child processes; see infra/README.md for sizing)
  /** Wall-clock limit of one parse. `QUIRE_PDF_TIMEOUT_MS` is read when this is unset. */
  QUIRE_PARSE_TIMEOUT_MS: int(100, 3_600_000).default(120_000),
  /** RSS cap of one sandbox child, in MiB. `QUIRE_PDF_MAX_MEMORY_MB` is read when this is unset. */
  QUIRE_PARSE_MAX_MEMORY_MB: int(64, 65_536).default(512),
  /** Sandbox children per worker process; `size × QUIRE_PARSE_MAX_MEMORY_MB` must fit the container. */
  QUIRE_PARSE_POOL_SIZE: int(1, 64).default(2),
  /** Parses a child runs before a fresh one replaces it. */
  QUIRE_PARSE_MAX_TASKS_PER_CHILD: int(1, 1_000_000).default(200),
  /**
   * PDF engine: `pdfjs`, `poppler` (pdftotext/pdfinfo/pdfimages from poppler-utils), or `auto`
   * (poppler when installed, resolved once at start). The other engine is a per-file fallback.
   */
  QUIRE_PDF_ENGINE: z.enum(PDF_ENGINE_SETTINGS).default('auto'),
  /** Most bytes a ZIP-based document (DOCX) may inflate to, counted while inflating. */
  QUIRE_MAX_INFLATED_BYTES: int(1024, 2 ** 40).default(256 * 1024 * 1024),
  QUIRE_URL_TIMEOUT_MS: int(100, 600_000).default(30_000),
  QUIRE_ALLOW_PRIVATE_URLS: envBoolean.default(false),

  // --- OCR (scanned PDF pages and image files; runs in the parse sandbox)
  /** `auto`: pages without a text layer and images; `force`: every page; `off`: none (images refused). */
  QUIRE_OCR: z.enum(['auto', 'off', 'force']).default('auto'),
  /** Languages of the documents, Tesseract names (`eng,fra,deu`); each must be installed (see README). */
  QUIRE_OCR_LANGS: envList.pipe(z.array(z.string().regex(/^[A-Za-z][A-Za-z0-9_]{1,31}$/)).max(8)),
  /** Mean word confidence (0–100) under which an OCR page is kept but flagged `ocrLowConfidence`. */
  QUIRE_OCR_MIN_CONFIDENCE: z.coerce.number().min(0).max(100).default(60),
  /** Extra directories of `<lang>.traineddata` files, searched first. */
  QUIRE_OCR_LANG_DIRS: list,
  /** `tesseract` (the command-line program), `tesseract.js`, or `auto`: the program when installed. */
  QUIRE_OCR_ENGINE: z.enum(['auto', 'tesseract', 'tesseract.js']).default('auto'),
  /** The OCR result cache (SQLite). Default `<QUIRE_DATA_DIR>/ocr-cache.db`; `off` for none. */
  QUIRE_OCR_CACHE: optionalString,

  // --- Secrets
  /**
   * Keys that seal job secrets (PDF passwords, source URLs with credentials or a query) in Redis:
   * `id:base64key,…`, 32-byte keys (`openssl rand -base64 32`); the first seals, all open. The same
   * on producers (gateway, CLI, SDK) and ingest workers. Unset: jobs with secrets are refused.
   */
  QUIRE_SECRET_KEYS: optionalString.pipe(
    z
      .string()
      .regex(
        /^\s*[A-Za-z0-9_.-]{1,32}:[A-Za-z0-9+/]{43}=\s*(,\s*[A-Za-z0-9_.-]{1,32}:[A-Za-z0-9+/]{43}=\s*)*$/,
        'must be "id:base64key" pairs, comma-separated, each key 32 bytes in base64 (openssl rand -base64 32)',
      )
      .optional(),
  ),

  // --- Retrieval
  QUIRE_CANDIDATES: int(1, MAX_CANDIDATES).default(DEFAULT_CANDIDATES),
  QUIRE_TOP_N: int(1, MAX_TOP_N).default(DEFAULT_TOP_N),
  /** Passages below this rerank score are dropped; none left → "not found" without a chat call. */
  QUIRE_MIN_RERANK_SCORE: z.coerce.number().min(0).max(1).optional(),
  QUIRE_CONTEXT_TOKENS: int(256, MAX_CONTEXT_TOKENS).default(DEFAULT_CONTEXT_TOKENS),

  // --- Logs
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty', 'auto']).default('auto'),
});

export type QuireEnv = z.infer<typeof QuireEnvSchema>;

export interface QuireConfig {
  redisUrl: string;
  queuePrefix: string;
  store:
    | { kind: 'sqlite'; path: string; denseCacheBytes: number }
    | { kind: 'qdrant'; url: string; apiKey: string | undefined; timeoutMs: number };
  models: {
    kind: 'builtin' | 'api';
    baseURL: string | undefined;
    apiKey: string | undefined;
    timeoutMs: number;
    maxRetries: number;
    embeddingModel: string;
    dimension: number;
    embeddingEncoding: 'base64' | 'float';
    embedBatchSize: number;
    embedConcurrency: number;
    rerankModel: string;
    rerankMaxDocuments: number;
    chatModel: string;
    limits: { requestsPerMinute: number; tokensPerMinute: number };
  };
  ingest: {
    chunkSize: number | undefined;
    chunkOverlap: number | undefined;
    fileRoots: string[];
    /** The spool shared with producers (absolute), or null when there is none. */
    spoolDir: string | null;
    maxFileBytes: number;
    maxPdfPages: number;
    maxChars: number;
    maxInflatedBytes: number;
    urlTimeoutMs: number;
    allowPrivateUrls: boolean;
    /** `QUIRE_PDF_ENGINE`: resolve it once with `configurePdfEngines`. */
    pdfEngine: PdfEngineSetting;
  };
  /** OCR of scanned pages and images; `cachePath` null: no result cache. */
  ocr: {
    mode: 'auto' | 'off' | 'force';
    langs: string[];
    minConfidence: number;
    langDirs: string[];
    /** `QUIRE_OCR_ENGINE`: resolve it with `resolveOcrEngine` (once per process). */
    engine: 'auto' | 'tesseract' | 'tesseract.js';
    cachePath: string | null;
  };
  /** The parse sandbox: child processes that parse PDF, DOCX and HTML under a memory cap. */
  parse: {
    timeoutMs: number;
    maxMemoryMb: number;
    poolSize: number;
    maxTasksPerChild: number;
  };
  retrieval: { candidates: number; topN: number; minRerankScore: number | undefined; contextTokens: number };
  log: { level: string; format: 'json' | 'pretty' | 'auto' };
  /** `QUIRE_SECRET_KEYS` as given (checked for shape); unset: undefined. Never logged. */
  secretKeys: string | undefined;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Formats zod issues as `NAME: problem` lines, naming each wrong variable. */
export function formatEnvIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`).join('\n');
}

/**
 * Earlier names still read, each for the variable that replaced it: the PDF-only limits became
 * the parse sandbox's, which bound DOCX and HTML too. The new name wins when both are set.
 */
export const ENV_ALIASES: Readonly<Record<string, string>> = Object.freeze({
  QUIRE_PDF_TIMEOUT_MS: 'QUIRE_PARSE_TIMEOUT_MS',
  QUIRE_PDF_MAX_MEMORY_MB: 'QUIRE_PARSE_MAX_MEMORY_MB',
});

/** The environment with each alias copied to its new name where that is unset. */
export function applyEnvAliases(env: Record<string, string | undefined>): Record<string, string | undefined> {
  const out = { ...env };
  for (const [old, current] of Object.entries(ENV_ALIASES)) {
    if ((out[current] === undefined || out[current] === '') && out[old] !== undefined)
      out[current] = out[old];
  }
  return out;
}

/** Parses the environment into a config; throws ConfigError naming every wrong variable. */
export function parseQuireEnv(env: Record<string, string | undefined>, cwd = process.cwd()): QuireConfig {
  const parsed = QuireEnvSchema.safeParse(applyEnvAliases(env));
  if (!parsed.success) throw new ConfigError(`invalid configuration:\n${formatEnvIssues(parsed.error)}`);
  return toConfig(parsed.data, cwd);
}

export function toConfig(e: QuireEnv, cwd: string): QuireConfig {
  const api = e.QUIRE_MODEL_BASE_URL !== undefined;
  if (api && e.QUIRE_EMBEDDING_DIMENSION === undefined) {
    throw new ConfigError(
      'invalid configuration:\nQUIRE_EMBEDDING_DIMENSION: required when QUIRE_MODEL_BASE_URL is set (it names the vector collection)',
    );
  }
  if (api && (!e.QUIRE_EMBEDDING_MODEL || !e.QUIRE_RERANK_MODEL || !e.QUIRE_CHAT_MODEL)) {
    const missing = ['QUIRE_EMBEDDING_MODEL', 'QUIRE_RERANK_MODEL', 'QUIRE_CHAT_MODEL'].filter(
      (k) => !e[k as keyof QuireEnv],
    );
    throw new ConfigError(
      `invalid configuration:\n${missing.map((k) => `${k}: required when QUIRE_MODEL_BASE_URL is set`).join('\n')}`,
    );
  }
  const dataDir = isAbsolute(e.QUIRE_DATA_DIR) ? e.QUIRE_DATA_DIR : resolve(cwd, e.QUIRE_DATA_DIR);
  return {
    redisUrl: e.REDIS_URL,
    queuePrefix: e.QUIRE_QUEUE_PREFIX,
    store: e.QDRANT_URL
      ? { kind: 'qdrant', url: e.QDRANT_URL, apiKey: e.QDRANT_API_KEY, timeoutMs: e.QDRANT_TIMEOUT_MS }
      : {
          kind: 'sqlite',
          path: e.QUIRE_SQLITE_PATH ? resolve(cwd, e.QUIRE_SQLITE_PATH) : join(dataDir, 'vectors.db'),
          denseCacheBytes: e.QUIRE_SQLITE_DENSE_CACHE_MB * 1024 * 1024,
        },
    models: {
      kind: api ? 'api' : 'builtin',
      baseURL: e.QUIRE_MODEL_BASE_URL,
      apiKey: e.QUIRE_MODEL_API_KEY,
      timeoutMs: e.QUIRE_MODEL_TIMEOUT_MS,
      maxRetries: e.QUIRE_MODEL_MAX_RETRIES,
      embeddingModel: e.QUIRE_EMBEDDING_MODEL ?? BUILTIN_MODEL_NAMES.embedding,
      dimension: e.QUIRE_EMBEDDING_DIMENSION ?? 384,
      embeddingEncoding: e.QUIRE_EMBEDDING_ENCODING,
      embedBatchSize: e.QUIRE_EMBED_BATCH_SIZE,
      embedConcurrency: e.QUIRE_EMBED_CONCURRENCY,
      rerankModel: e.QUIRE_RERANK_MODEL ?? BUILTIN_MODEL_NAMES.rerank,
      rerankMaxDocuments: e.QUIRE_RERANK_MAX_DOCUMENTS,
      chatModel: e.QUIRE_CHAT_MODEL ?? BUILTIN_MODEL_NAMES.chat,
      limits: { requestsPerMinute: e.QUIRE_PROVIDER_RPM, tokensPerMinute: e.QUIRE_PROVIDER_TPM },
    },
    ingest: {
      chunkSize: e.QUIRE_CHUNK_SIZE,
      chunkOverlap: e.QUIRE_CHUNK_OVERLAP,
      fileRoots: e.QUIRE_FILE_ROOTS.map((r) => resolve(cwd, r)),
      spoolDir: e.QUIRE_SPOOL_DIR
        ? resolve(cwd, e.QUIRE_SPOOL_DIR)
        : e.QDRANT_URL
          ? null
          : join(dataDir, 'spool'),
      maxFileBytes: e.QUIRE_MAX_FILE_BYTES,
      maxPdfPages: e.QUIRE_MAX_PDF_PAGES,
      maxChars: e.QUIRE_MAX_CHARS,
      maxInflatedBytes: e.QUIRE_MAX_INFLATED_BYTES,
      urlTimeoutMs: e.QUIRE_URL_TIMEOUT_MS,
      allowPrivateUrls: e.QUIRE_ALLOW_PRIVATE_URLS,
      pdfEngine: e.QUIRE_PDF_ENGINE,
    },
    ocr: {
      mode: e.QUIRE_OCR,
      langs: e.QUIRE_OCR_LANGS.length > 0 ? e.QUIRE_OCR_LANGS : ['eng'],
      minConfidence: e.QUIRE_OCR_MIN_CONFIDENCE,
      langDirs: e.QUIRE_OCR_LANG_DIRS.map((dir) => resolve(cwd, dir)),
      engine: e.QUIRE_OCR_ENGINE,
      cachePath:
        e.QUIRE_OCR_CACHE === 'off'
          ? null
          : e.QUIRE_OCR_CACHE
            ? resolve(cwd, e.QUIRE_OCR_CACHE)
            : join(dataDir, 'ocr-cache.db'),
    },
    parse: {
      timeoutMs: e.QUIRE_PARSE_TIMEOUT_MS,
      maxMemoryMb: e.QUIRE_PARSE_MAX_MEMORY_MB,
      poolSize: e.QUIRE_PARSE_POOL_SIZE,
      maxTasksPerChild: e.QUIRE_PARSE_MAX_TASKS_PER_CHILD,
    },
    retrieval: {
      candidates: e.QUIRE_CANDIDATES,
      topN: e.QUIRE_TOP_N,
      // The built-in reranker scores passages sharing no term with the question at 0; with a real
      // reranker calibrations differ, so no threshold unless one is configured.
      minRerankScore: e.QUIRE_MIN_RERANK_SCORE ?? (api ? undefined : BUILTIN_MIN_RERANK_SCORE),
      contextTokens: e.QUIRE_CONTEXT_TOKENS,
    },
    log: { level: e.LOG_LEVEL, format: e.LOG_FORMAT },
    secretKeys: e.QUIRE_SECRET_KEYS,
  };
}

/**
 * Memory a worker process needs beside its sandbox children (Node.js, the store, embedding
 * batches in flight), in MiB: what an ingest worker held at most over the benchmark corpus, rounded up.
 */
export const WORKER_MEMORY_RESERVE_MB = 384;

/** MiB an ingest worker may reach: every sandbox child at its cap, plus the worker itself. */
export function parseMemoryBudgetMb(parse: QuireConfig['parse']): number {
  return parse.poolSize * parse.maxMemoryMb + WORKER_MEMORY_RESERVE_MB;
}

/**
 * Refuses a sandbox that cannot fit the container: `QUIRE_PARSE_POOL_SIZE` children of up to
 * `QUIRE_PARSE_MAX_MEMORY_MB` each, plus the worker, must stay under the memory limit, or the
 * kernel's OOM killer ends the whole worker with every job it holds. `limitBytes` null: no limit.
 */
export function checkParseMemoryBudget(parse: QuireConfig['parse'], limitBytes: number | null): void {
  if (limitBytes === null) return;
  const needMb = parseMemoryBudgetMb(parse);
  const limitMb = Math.floor(limitBytes / 2 ** 20);
  if (needMb > limitMb) {
    throw new ConfigError(
      `invalid configuration:\nQUIRE_PARSE_POOL_SIZE × QUIRE_PARSE_MAX_MEMORY_MB: ${parse.poolSize} × ${parse.maxMemoryMb} MiB + ${WORKER_MEMORY_RESERVE_MB} MiB for the worker = ${needMb} MiB, more than the container's memory limit of ${limitMb} MiB; lower one of them or raise the limit`,
    );
  }
}
