import { describe, expect, it } from 'vitest';
import { BUILTIN_MIN_RERANK_SCORE, ConfigError, parseQuireEnv } from './config.js';

describe('parseQuireEnv', () => {
  it('gives the embedded setup with nothing configured', () => {
    const config = parseQuireEnv({}, '/srv/app');
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(config.queuePrefix).toBe('{quire}');
    expect(config.store).toEqual({ kind: 'sqlite', path: '/srv/app/.quire/vectors.db' });
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

  it('asks for the dimension and model names with a real model API', () => {
    expect(() => parseQuireEnv({ QUIRE_MODEL_BASE_URL: 'https://models.example/v1' })).toThrow(
      /QUIRE_EMBEDDING_DIMENSION: required/,
    );
    expect(() =>
      parseQuireEnv({ QUIRE_MODEL_BASE_URL: 'https://models.example/v1', QUIRE_EMBEDDING_DIMENSION: '8' }),
    ).toThrow(/QUIRE_EMBEDDING_MODEL: required[\s\S]*QUIRE_CHAT_MODEL: required/);
  });
});
