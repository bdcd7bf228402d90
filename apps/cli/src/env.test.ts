import { describe, expect, it } from 'vitest';
import { DEFAULT_INLINE_MAX_BYTES, DEFAULT_TENANT, loadEnv } from './env.js';

describe('loadEnv', () => {
  it('gives the defaults of an empty environment', () => {
    const env = loadEnv({});
    expect(env).toMatchObject({
      gatewayUrl: undefined,
      apiKey: undefined,
      tenant: DEFAULT_TENANT,
      inlineMaxBytes: DEFAULT_INLINE_MAX_BYTES,
      fileRoots: [],
      color: undefined,
    });
  });

  it('reads the gateway, tenant, roots and inline limit', () => {
    const env = loadEnv({
      QUIRE_URL: 'http://gw.local:8080',
      QUIRE_API_KEY: 'k-123',
      QUIRE_TENANT: 'acme',
      QUIRE_FILE_ROOTS: '/data/docs, /srv/shared ,',
      QUIRE_INLINE_MAX_BYTES: '1024',
    });
    expect(env).toMatchObject({
      gatewayUrl: 'http://gw.local:8080',
      apiKey: 'k-123',
      tenant: 'acme',
      fileRoots: ['/data/docs', '/srv/shared'],
      inlineMaxBytes: 1024,
    });
  });

  it('names the variable that is wrong', () => {
    expect(() => loadEnv({ QUIRE_URL: 'gw.local' })).toThrow(/QUIRE_URL/);
    expect(() => loadEnv({ QUIRE_INLINE_MAX_BYTES: 'lots' })).toThrow(/QUIRE_INLINE_MAX_BYTES/);
  });

  it('turns colours off with NO_COLOR and on with FORCE_COLOR', () => {
    expect(loadEnv({ NO_COLOR: '1' }).color).toBe(false);
    expect(loadEnv({ NO_COLOR: '1', FORCE_COLOR: '1' }).color).toBe(false);
    expect(loadEnv({ FORCE_COLOR: '3' }).color).toBe(true);
    expect(loadEnv({ FORCE_COLOR: '0' }).color).toBe(false);
  });

  it('keeps the whole environment for the processes it starts, frozen', () => {
    const env = loadEnv({ PATH: '/bin', REDIS_URL: 'redis://x:1' });
    expect(env.vars).toEqual({ PATH: '/bin', REDIS_URL: 'redis://x:1' });
    expect(Object.isFrozen(env.vars)).toBe(true);
  });
});
