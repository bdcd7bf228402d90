import { describe, expect, it } from 'vitest';
import { signWebhook, tenantWebhookSecret, verifyWebhookSignature } from './signature.js';

const MASTER = 'a-master-secret-of-at-least-32-characters';

describe('webhook signatures', () => {
  it('derives a different, stable secret per tenant', () => {
    const alpha = tenantWebhookSecret(MASTER, 'alpha');
    expect(alpha).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(tenantWebhookSecret(MASTER, 'alpha')).toBe(alpha);
    expect(tenantWebhookSecret(MASTER, 'beta')).not.toBe(alpha);
    expect(tenantWebhookSecret(`${MASTER}!`, 'alpha')).not.toBe(alpha);
  });

  it('signs t=<seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">', () => {
    const header = signWebhook('whsec_test', 1_700_000_000, '{"a":1}');
    // Computed independently: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_test
    expect(header).toBe('t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789');
  });

  it('verifies its own signature and refuses a changed body, another secret or an old timestamp', () => {
    const secret = tenantWebhookSecret(MASTER, 'alpha');
    const body = '{"type":"job.completed"}';
    const header = signWebhook(secret, 1_700_000_000, body);
    const now = 1_700_000_100;
    expect(verifyWebhookSignature(secret, header, body, { now })).toBe(true);
    expect(verifyWebhookSignature(secret, header, `${body} `, { now })).toBe(false);
    expect(verifyWebhookSignature(tenantWebhookSecret(MASTER, 'beta'), header, body, { now })).toBe(false);
    expect(verifyWebhookSignature(secret, header, body, { now: 1_700_000_301 })).toBe(false);
    expect(verifyWebhookSignature(secret, header, body, { now: 1_700_000_301, toleranceSeconds: 600 })).toBe(
      true,
    );
  });

  it('refuses malformed headers', () => {
    expect(verifyWebhookSignature('s', '', 'b')).toBe(false);
    expect(verifyWebhookSignature('s', 'v1=abc', 'b')).toBe(false);
    expect(verifyWebhookSignature('s', 't=now,v1=abc', 'b')).toBe(false);
  });
});
