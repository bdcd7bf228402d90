/**
 * API keys. Keys are configured as SHA-256 digests only (a leaked configuration leaks no key) and
 * each maps to one tenant: the tenant of a request always comes from its key, never from its body.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '@quire/core';
import { TenantSchema } from '@quire/jobs';
import { z } from 'zod';

export interface ApiKeyEntry {
  tenant: string;
  /** SHA-256 digest of the key (32 bytes). */
  digest: Buffer;
}

const HEX_DIGEST = /^[0-9a-fA-F]{64}$/;

/** SHA-256 of a key, as configured: lower-case hex. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * Parses `tenant:sha256hex,tenant:sha256hex` or JSON `{"tenant": "sha256hex" | ["sha256hex", …]}`.
 * Several keys per tenant allow rotation. `name` is the variable named in errors; the digests
 * themselves never appear in a message.
 */
export function parseApiKeys(text: string, name: string): ApiKeyEntry[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  const pairs: [string, string][] = trimmed.startsWith('{')
    ? jsonPairs(trimmed, name)
    : textPairs(trimmed, name);
  const seen = new Set<string>();
  return pairs.map(([tenant, hex], index) => {
    const parsedTenant = TenantSchema.safeParse(tenant);
    if (!parsedTenant.success) {
      throw new ConfigError(
        `invalid configuration:\n${name}: entry ${index + 1}: ${parsedTenant.error.issues[0]?.message}`,
      );
    }
    if (!HEX_DIGEST.test(hex)) {
      throw new ConfigError(
        `invalid configuration:\n${name}: entry ${index + 1} (tenant ${tenant}): the key must be given as 64 hexadecimal digits (its SHA-256 digest), not as the key itself`,
      );
    }
    const lower = hex.toLowerCase();
    if (seen.has(lower)) {
      throw new ConfigError(
        `invalid configuration:\n${name}: entry ${index + 1} (tenant ${tenant}) repeats a key`,
      );
    }
    seen.add(lower);
    return { tenant, digest: Buffer.from(lower, 'hex') };
  });
}

const JsonKeysSchema = z.record(z.string(), z.union([z.string(), z.array(z.string()).min(1)]));

function jsonPairs(text: string, name: string): [string, string][] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ConfigError(`invalid configuration:\n${name}: not valid JSON`);
  }
  const parsed = JsonKeysSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      `invalid configuration:\n${name}: expected {"tenant": "sha256hex" | ["sha256hex", …]}`,
    );
  }
  return Object.entries(parsed.data).flatMap(([tenant, value]) =>
    (Array.isArray(value) ? value : [value]).map((hex): [string, string] => [tenant, hex]),
  );
}

function textPairs(text: string, name: string): [string, string][] {
  return text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry, index) => {
      const colon = entry.lastIndexOf(':');
      if (colon <= 0) {
        throw new ConfigError(`invalid configuration:\n${name}: entry ${index + 1} is not tenant:sha256hex`);
      }
      return [entry.slice(0, colon), entry.slice(colon + 1)];
    });
}

/**
 * Finds the tenant of a presented key. Every configured digest is compared, in constant time and
 * without stopping at a match, so the time taken says nothing about which entry matched.
 */
export function tenantForKey(keys: readonly ApiKeyEntry[], presented: string): string | null {
  const digest = createHash('sha256').update(presented, 'utf8').digest();
  let tenant: string | null = null;
  for (const entry of keys) {
    if (timingSafeEqual(entry.digest, digest) && tenant === null) tenant = entry.tenant;
  }
  return tenant;
}

/** Whether `presented` hashes to `digestHex`, compared in constant time. */
export function keyMatches(digestHex: string, presented: string): boolean {
  const digest = createHash('sha256').update(presented, 'utf8').digest();
  return timingSafeEqual(Buffer.from(digestHex, 'hex'), digest);
}

export interface PresentedKeyOptions {
  /** Also accept HTTP Basic credentials (the password is the key), so a browser can prompt for it. */
  basic?: boolean;
}

/** The key a request presents: `Authorization: Bearer <key>`, `X-API-Key: <key>`, or Basic when allowed. */
export function presentedKey(
  headers: Record<string, string | string[] | undefined>,
  options: PresentedKeyOptions = {},
): string | null {
  const header = headers['x-api-key'];
  const apiKey = Array.isArray(header) ? header[0] : header;
  if (apiKey !== undefined && apiKey.trim() !== '') return apiKey.trim();
  const authorization = headers.authorization;
  const value = Array.isArray(authorization) ? authorization[0] : authorization;
  if (value === undefined) return null;
  const space = value.indexOf(' ');
  if (space <= 0) return null;
  const scheme = value.slice(0, space).toLowerCase();
  const credentials = value.slice(space + 1).trim();
  if (scheme === 'bearer' && credentials !== '') return credentials;
  if (scheme === 'basic' && options.basic) {
    const decoded = Buffer.from(credentials, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const password = colon < 0 ? '' : decoded.slice(colon + 1);
    return password === '' ? null : password;
  }
  return null;
}
