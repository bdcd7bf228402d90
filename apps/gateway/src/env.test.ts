import { describe, expect, it } from 'vitest';
import { hashApiKey } from './auth.js';
import { loadEnv } from './env.js';

describe('loadEnv', () => {
  it('has working defaults', () => {
    const env = loadEnv({});
    expect(env).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      apiKeys: [],
      adminKeySha256: null,
      uploads: { inlineMaxBytes: 256 * 1024, dir: null, maxBytes: env.config.ingest.maxFileBytes },
      wait: { defaultMs: 30_000, maxMs: 120_000 },
      webhooks: { secret: null, allowPrivateNetworks: false, allowAddresses: [] },
    });
  });

  it('reads keys, limits and webhook settings', () => {
    const env = loadEnv({
      QUIRE_API_KEYS: `alpha:${hashApiKey('k')}`,
      QUIRE_ADMIN_KEY_SHA256: hashApiKey('admin').toUpperCase(),
      GATEWAY_UPLOAD_DIR: '/srv/uploads',
      GATEWAY_WEBHOOK_SECRET: 's'.repeat(32),
      GATEWAY_WEBHOOK_ALLOW_PRIVATE: 'false',
      GATEWAY_WEBHOOK_ALLOW_ADDRESSES: '10.20.0.0/16, 127.0.0.1',
      GATEWAY_WAIT_DEFAULT_MS: '90000',
      GATEWAY_WAIT_MAX_MS: '60000',
    });
    expect(env.apiKeys[0]?.tenant).toBe('alpha');
    expect(env.adminKeySha256).toBe(hashApiKey('admin'));
    expect(env.uploads.dir).toBe('/srv/uploads');
    expect(env.webhooks).toMatchObject({
      allowPrivateNetworks: false,
      allowAddresses: ['10.20.0.0/16', '127.0.0.1'],
    });
    // The default never exceeds the maximum.
    expect(env.wait).toEqual({ defaultMs: 60_000, maxMs: 60_000 });
  });

  it('names the wrong variable', () => {
    expect(() => loadEnv({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadEnv({ GATEWAY_UPLOAD_DIR: 'relative/dir' })).toThrow(
      /GATEWAY_UPLOAD_DIR: must be an absolute path/,
    );
    expect(() => loadEnv({ GATEWAY_WEBHOOK_SECRET: 'short' })).toThrow(
      /GATEWAY_WEBHOOK_SECRET: must be at least 32/,
    );
    expect(() => loadEnv({ GATEWAY_WEBHOOK_ALLOW_ADDRESSES: 'intranet' })).toThrow(
      /GATEWAY_WEBHOOK_ALLOW_ADDRESSES/,
    );
    expect(() => loadEnv({ QUIRE_ADMIN_KEY_SHA256: 'admin' })).toThrow(
      /QUIRE_ADMIN_KEY_SHA256: must be 64 hexadecimal/,
    );
    expect(() => loadEnv({ GATEWAY_TRUST_PROXY: 'maybe' })).toThrow(/GATEWAY_TRUST_PROXY/);
  });
});
