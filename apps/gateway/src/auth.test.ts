import { describe, expect, it } from 'vitest';
import { hashApiKey, keyMatches, parseApiKeys, presentedKey, tenantForKey } from './auth.js';

const A1 = hashApiKey('alpha-key-1');
const A2 = hashApiKey('alpha-key-2');
const B1 = hashApiKey('beta-key-1');

describe('parseApiKeys', () => {
  it('reads tenant:sha256hex pairs, several keys per tenant', () => {
    const keys = parseApiKeys(`alpha:${A1}, alpha:${A2.toUpperCase()},beta:${B1}`, 'QUIRE_API_KEYS');
    expect(keys.map((k) => [k.tenant, k.digest.toString('hex')])).toEqual([
      ['alpha', A1],
      ['alpha', A2],
      ['beta', B1],
    ]);
  });

  it('reads JSON with one digest or a list per tenant', () => {
    const keys = parseApiKeys(JSON.stringify({ alpha: [A1, A2], beta: B1 }), 'QUIRE_API_KEYS');
    expect(keys.map((k) => k.tenant)).toEqual(['alpha', 'alpha', 'beta']);
  });

  it('is empty for an empty value', () => {
    expect(parseApiKeys('  ', 'QUIRE_API_KEYS')).toEqual([]);
  });

  it('refuses a raw key in place of its digest, without repeating it', () => {
    const error = (() => {
      try {
        parseApiKeys('alpha:my-secret-key', 'QUIRE_API_KEYS');
      } catch (e) {
        return e as Error;
      }
      return null;
    })();
    expect(error?.message).toMatch(/QUIRE_API_KEYS: entry 1 \(tenant alpha\).*64 hexadecimal digits/);
    expect(error?.message).not.toContain('my-secret-key');
  });

  it('refuses a bad tenant, a missing colon, bad JSON and a repeated key', () => {
    expect(() => parseApiKeys(`bad tenant:${A1}`, 'K')).toThrow(/K: entry 1: tenant must be/);
    expect(() => parseApiKeys(A1, 'K')).toThrow(/K: entry 1 is not tenant:sha256hex/);
    expect(() => parseApiKeys('{"alpha":', 'K')).toThrow(/K: not valid JSON/);
    expect(() => parseApiKeys('{"alpha": 3}', 'K')).toThrow(/K: expected/);
    expect(() => parseApiKeys(`alpha:${A1},beta:${A1}`, 'K')).toThrow(
      /entry 2 \(tenant beta\) repeats a key/,
    );
  });
});

describe('tenantForKey', () => {
  const keys = parseApiKeys(`alpha:${A1},alpha:${A2},beta:${B1}`, 'K');

  it('finds the tenant of any of its keys', () => {
    expect(tenantForKey(keys, 'alpha-key-1')).toBe('alpha');
    expect(tenantForKey(keys, 'alpha-key-2')).toBe('alpha');
    expect(tenantForKey(keys, 'beta-key-1')).toBe('beta');
  });

  it('finds nothing for an unknown key or a digest presented as the key', () => {
    expect(tenantForKey(keys, 'alpha-key-3')).toBeNull();
    expect(tenantForKey(keys, A1)).toBeNull();
    expect(tenantForKey([], 'alpha-key-1')).toBeNull();
  });
});

describe('keyMatches', () => {
  it('compares a presented key with a configured digest', () => {
    expect(keyMatches(A1, 'alpha-key-1')).toBe(true);
    expect(keyMatches(A1, 'alpha-key-2')).toBe(false);
  });
});

describe('presentedKey', () => {
  it('takes X-API-Key first, then a Bearer token', () => {
    expect(presentedKey({ 'x-api-key': ' k1 ', authorization: 'Bearer k2' })).toBe('k1');
    expect(presentedKey({ authorization: 'Bearer k2' })).toBe('k2');
    expect(presentedKey({ authorization: 'bearer   k3 ' })).toBe('k3');
  });

  it('takes Basic credentials only when allowed, the password being the key', () => {
    const basic = `Basic ${Buffer.from('ops:k4').toString('base64')}`;
    expect(presentedKey({ authorization: basic })).toBeNull();
    expect(presentedKey({ authorization: basic }, { basic: true })).toBe('k4');
    expect(
      presentedKey({ authorization: `Basic ${Buffer.from('ops:').toString('base64')}` }, { basic: true }),
    ).toBeNull();
  });

  it('finds nothing without a usable header', () => {
    expect(presentedKey({})).toBeNull();
    expect(presentedKey({ authorization: 'Bearer' })).toBeNull();
    expect(presentedKey({ authorization: 'Token k5' })).toBeNull();
    expect(presentedKey({ 'x-api-key': '' })).toBeNull();
  });
});
