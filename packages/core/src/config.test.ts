import {
  DEFAULT_CANDIDATES,
  DEFAULT_CONTEXT_TOKENS,
  DEFAULT_TOP_N,
  MAX_CANDIDATES,
  MAX_CONTEXT_TOKENS,
  MAX_TOP_N,
} from '@quire/contracts/retrieval-limits';
import { describe, expect, it } from 'vitest';
import {
  BUILTIN_MIN_RERANK_SCORE,
  ConfigError,
  checkParseMemoryBudget,
  parseMemoryBudgetMb,
  parseQuireEnv,
} from './config.js';

describe('parseQuireEnv', () => {
  it('gives the embedded setup with nothing configured', () => {
    const config = parseQuireEnv({}, '/srv/app');
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(config.queuePrefix).toBe('{quire}');
    expect(config.store).toEqual({
      kind: 'sqlite',
      path: '/srv/app/.quire/vectors.db',
      denseCacheBytes: 256 * 1024 * 1024,
    });
    expect(config.models).toMatchObject({
      kind: 'builtin',
      dimension: 384,
      apiKey: undefined,
      embeddingEncoding: 'base64',
    });
    expect(config.retrieval).toMatchObject({
      candidates: 30,
      topN: 4,
      minRerankScore: BUILTIN_MIN_RERANK_SCORE,
    });
    expect(config.ingest).toMatchObject({ fileRoots: [], allowPrivateUrls: false });
  });

  it("sizes the SQLite store's in-memory dense vectors, and refuses a size that is not a whole MiB count", () => {
    const store = parseQuireEnv({ QUIRE_SQLITE_DENSE_CACHE_MB: '0' }, '/srv/app').store;
    expect(store).toMatchObject({ kind: 'sqlite', denseCacheBytes: 0 });
    expect(parseQuireEnv({ QUIRE_SQLITE_DENSE_CACHE_MB: '64' }, '/srv/app').store).toMatchObject({
      denseCacheBytes: 64 * 1024 * 1024,
    });
    for (const value of ['-1', '1.5', 'lots']) {
      expect(() => parseQuireEnv({ QUIRE_SQLITE_DENSE_CACHE_MB: value }, '/srv/app')).toThrow(
        /QUIRE_SQLITE_DENSE_CACHE_MB/,
      );
    }
  });

  it('switches to Qdrant and to a real model API by configuration alone', () => {
    const config = parseQuireEnv(
      {
        QDRANT_URL: 'http://qdrant:6333',
        QDRANT_API_KEY: 'q-key',
        QUIRE_MODEL_BASE_URL: 'https://models.example/v1',
        QUIRE_MODEL_API_KEY: 'sk-key',
        QUIRE_EMBEDDING_MODEL: 'text-embedding-3-small',
        QUIRE_EMBEDDING_DIMENSION: '1536',
        QUIRE_RERANK_MODEL: 'bge-reranker-v2-m3',
        QUIRE_CHAT_MODEL: 'gpt-4o-mini',
        QUIRE_FILE_ROOTS: 'docs, /data/in',
        QUIRE_ALLOW_PRIVATE_URLS: 'false',
        QUIRE_EMBEDDING_ENCODING: 'float',
      },
      '/srv/app',
    );
    expect(config.store).toEqual({
      kind: 'qdrant',
      url: 'http://qdrant:6333',
      apiKey: 'q-key',
      timeoutMs: 30_000,
    });
    expect(config.models).toMatchObject({
      kind: 'api',
      dimension: 1536,
      rerankModel: 'bge-reranker-v2-m3',
      embeddingEncoding: 'float',
    });
    expect(config.retrieval.minRerankScore).toBeUndefined();
    expect(config.ingest.fileRoots).toEqual(['/srv/app/docs', '/data/in']);
    expect(config.ingest.allowPrivateUrls).toBe(false);
  });

  it('names every wrong variable', () => {
    const attempt = () =>
      parseQuireEnv({
        QUIRE_TOP_N: '0',
        QUIRE_ALLOW_PRIVATE_URLS: 'maybe',
        REDIS_URL: 'nope',
        QUIRE_EMBEDDING_ENCODING: 'binary',
      });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/QUIRE_TOP_N/);
    expect(attempt).toThrow(/QUIRE_ALLOW_PRIVATE_URLS/);
    expect(attempt).toThrow(/REDIS_URL/);
    expect(attempt).toThrow(/QUIRE_EMBEDDING_ENCODING/);
  });

  it('takes the retrieval defaults and limits from the contracts, so a worker default never exceeds what a query may ask', () => {
    const config = parseQuireEnv({});
    expect(config.retrieval).toMatchObject({
      candidates: DEFAULT_CANDIDATES,
      topN: DEFAULT_TOP_N,
      contextTokens: DEFAULT_CONTEXT_TOKENS,
    });
    expect(() => parseQuireEnv({ QUIRE_CONTEXT_TOKENS: String(MAX_CONTEXT_TOKENS + 1) })).toThrow(
      /QUIRE_CONTEXT_TOKENS/,
    );
    expect(() => parseQuireEnv({ QUIRE_TOP_N: String(MAX_TOP_N + 1) })).toThrow(/QUIRE_TOP_N/);
    expect(() => parseQuireEnv({ QUIRE_CANDIDATES: String(MAX_CANDIDATES + 1) })).toThrow(/QUIRE_CANDIDATES/);
    expect(parseQuireEnv({ QUIRE_CONTEXT_TOKENS: String(MAX_CONTEXT_TOKENS) }).retrieval.contextTokens).toBe(
      MAX_CONTEXT_TOKENS,
    );
  });

  it('asks for the dimension and model names with a real model API', () => {
    expect(() => parseQuireEnv({ QUIRE_MODEL_BASE_URL: 'https://models.example/v1' })).toThrow(
      /QUIRE_EMBEDDING_DIMENSION: required/,
    );
    expect(() =>
      parseQuireEnv({ QUIRE_MODEL_BASE_URL: 'https://models.example/v1', QUIRE_EMBEDDING_DIMENSION: '8' }),
    ).toThrow(/QUIRE_EMBEDDING_MODEL: required[\s\S]*QUIRE_CHAT_MODEL: required/);
  });

  it('reads the parse sandbox settings, and the earlier PDF-only names as aliases', () => {
    expect(parseQuireEnv({}).parse).toEqual({
      timeoutMs: 120_000,
      maxMemoryMb: 512,
      poolSize: 2,
      maxTasksPerChild: 200,
    });
    expect(parseQuireEnv({}).ingest.maxInflatedBytes).toBe(256 * 2 ** 20);
    const aliased = parseQuireEnv({ QUIRE_PDF_TIMEOUT_MS: '5000', QUIRE_PDF_MAX_MEMORY_MB: '300' });
    expect(aliased.parse).toMatchObject({ timeoutMs: 5000, maxMemoryMb: 300 });
    const both = parseQuireEnv({ QUIRE_PDF_MAX_MEMORY_MB: '300', QUIRE_PARSE_MAX_MEMORY_MB: '700' });
    expect(both.parse.maxMemoryMb).toBe(700);
    expect(() => parseQuireEnv({ QUIRE_PDF_MAX_MEMORY_MB: '10' })).toThrow(/QUIRE_PARSE_MAX_MEMORY_MB/);
  });
});

describe('checkParseMemoryBudget', () => {
  const parse = { timeoutMs: 1000, maxMemoryMb: 512, poolSize: 2, maxTasksPerChild: 10 };

  it('accepts a pool that fits the container, or no limit at all', () => {
    expect(parseMemoryBudgetMb(parse)).toBe(2 * 512 + 384);
    expect(() => checkParseMemoryBudget(parse, 2 * 2 ** 30)).not.toThrow();
    expect(() => checkParseMemoryBudget(parse, null)).not.toThrow();
  });

  it('refuses a pool × cap past the limit, naming both settings', () => {
    expect(() => checkParseMemoryBudget({ ...parse, poolSize: 4 }, 2 * 2 ** 30)).toThrow(
      new ConfigError(
        "invalid configuration:\nQUIRE_PARSE_POOL_SIZE × QUIRE_PARSE_MAX_MEMORY_MB: 4 × 512 MiB + 384 MiB for the worker = 2432 MiB, more than the container's memory limit of 2048 MiB; lower one of them or raise the limit",
      ),
    );
  });
});
