/**
 * Webhook signatures. Each tenant has its own signing secret, derived from the gateway's master
 * secret, so one tenant cannot forge deliveries to another's receiver.
 *
 * Scheme: header `Quire-Signature: t=<unix seconds>,v1=<hex>` where
 * `hex = HMAC-SHA256(secret, "<t>.<raw request body>")`. A receiver recomputes it over the raw
 * body bytes, compares in constant time and refuses a timestamp too far from its clock.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'quire-signature';
export const WEBHOOK_ID_HEADER = 'quire-webhook-id';
export const WEBHOOK_EVENT_HEADER = 'quire-event';
export const SIGNATURE_SCHEME = 't=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>';

/** The signing secret of one tenant. */
export function tenantWebhookSecret(masterSecret: string, tenant: string): string {
  const derived = createHmac('sha256', masterSecret).update(`quire-webhook-secret\u0000${tenant}`).digest();
  return `whsec_${derived.toString('base64url')}`;
}

/** The `Quire-Signature` header value for `body` sent at `timestamp` (unix seconds). */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

export interface VerifyOptions {
  /** Largest accepted distance between the signature's time and now, in seconds. Default 300. */
  toleranceSeconds?: number;
  /** Current time in unix seconds. Default: the clock. */
  now?: number;
}

/** Checks a `Quire-Signature` header against the raw body: what a receiver does. */
export function verifyWebhookSignature(
  secret: string,
  header: string,
  body: string,
  options: VerifyOptions = {},
): boolean {
  const parts = new Map<string, string[]>();
  for (const item of header.split(',')) {
    const eq = item.indexOf('=');
    if (eq <= 0) continue;
    const name = item.slice(0, eq).trim();
    parts.set(name, [...(parts.get(name) ?? []), item.slice(eq + 1).trim()]);
  }
  const timestamp = Number(parts.get('t')?.[0]);
  if (!Number.isSafeInteger(timestamp)) return false;
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > (options.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex'));
  return (parts.get('v1') ?? []).some((candidate) => {
    const given = Buffer.from(candidate);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
