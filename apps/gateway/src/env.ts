/**
 * The gateway's configuration: Quire's shared settings plus the HTTP server's own, read from the
 * environment once at start-up. The only module that reads `process.env`.
 */
import { isAbsolute, resolve } from 'node:path';
import {
  envBoolean,
  envInt,
  envList,
  envOptionalString,
  invalidAddressEntry,
  parseQuireEnv,
  type QuireConfig,
} from '@quire/core';
import { parseEnvWith } from '@quire/runtime';
import { z } from 'zod';
import { type ApiKeyEntry, parseApiKeys } from './auth.js';

const int = envInt;
const optionalString = envOptionalString;
const list = envList;

const GatewayEnvSchema = z.object({
  // --- HTTP server
  /** TCP port to listen on. */
  PORT: int(0, 65_535).default(8080),
  /** Interface to listen on. */
  HOST: z.string().min(1).default('0.0.0.0'),
  /** Trust `X-Forwarded-*` headers (behind a load balancer or ingress). */
  GATEWAY_TRUST_PROXY: envBoolean.default(false),
  /** Largest JSON body accepted, in bytes (base64 documents included). */
  GATEWAY_BODY_LIMIT_BYTES: int(1024, 1024 ** 3).default(2 * 1024 * 1024),
  /** How long SIGTERM waits for open requests before exiting, in ms. */
  SHUTDOWN_GRACE_MS: int(0, 3_600_000).default(10_000),
  /** Interval of keep-alive comments on server-sent event streams, in ms. */
  GATEWAY_SSE_HEARTBEAT_MS: int(100, 600_000).default(15_000),
  /**
   * How long a request path's Redis command may wait for its reply, in ms: past it the request
   * fails (503) instead of hanging. Blocking readers (webhook deliveries, job events) have none.
   */
  GATEWAY_REDIS_COMMAND_TIMEOUT_MS: int(100, 120_000).default(5_000),

  // --- Authentication
  /**
   * Tenants' API keys, stored as SHA-256 hex digests: `tenant:sha256hex,tenant:sha256hex` or JSON
   * `{"tenant": "sha256hex" | ["sha256hex", …]}`.
   */
  QUIRE_API_KEYS: optionalString,
  /** SHA-256 hex digest of the operations key (queue dashboard). Unset: the dashboard is closed. */
  QUIRE_ADMIN_KEY_SHA256: optionalString.pipe(
    z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hexadecimal digits (a SHA-256 digest)')
      .optional(),
  ),

  // --- Uploads
  /** Largest uploaded file, in bytes. Default: QUIRE_MAX_FILE_BYTES. */
  GATEWAY_UPLOAD_MAX_BYTES: int(1, 2 ** 40).optional(),
  /** Uploads up to this size travel in the job itself (base64); larger ones need GATEWAY_UPLOAD_DIR. */
  GATEWAY_INLINE_UPLOAD_MAX_BYTES: int(0, 64 * 1024 * 1024).default(256 * 1024),
  /**
   * Absolute directory, shared with the ingest workers and listed in their QUIRE_FILE_ROOTS, where
   * larger uploads are spooled. Unset: uploads above GATEWAY_INLINE_UPLOAD_MAX_BYTES are refused.
   */
  GATEWAY_UPLOAD_DIR: optionalString.pipe(
    z
      .string()
      .refine((p) => isAbsolute(p), 'must be an absolute path')
      .optional(),
  ),

  // --- Waiting for answers
  /** How long `wait=true` waits for an answer by default, in ms. */
  GATEWAY_WAIT_DEFAULT_MS: int(0, 600_000).default(30_000),
  /** Longest wait a caller may ask for, in ms. */
  GATEWAY_WAIT_MAX_MS: int(0, 600_000).default(120_000),

  // --- Idempotency
  /** How long an Idempotency-Key is remembered, in seconds. */
  GATEWAY_IDEMPOTENCY_TTL_SECONDS: int(60, 30 * 24 * 3600).default(24 * 3600),

  // --- Webhooks
  /** Master secret (at least 32 characters) from which each tenant's signing secret is derived. Unset: webhooks off. */
  GATEWAY_WEBHOOK_SECRET: optionalString.pipe(
    z.string().min(32, 'must be at least 32 characters').optional(),
  ),
  /** Let webhooks reach private, loopback and link-local addresses (metadata addresses stay refused). */
  GATEWAY_WEBHOOK_ALLOW_PRIVATE: envBoolean.default(false),
  /** Non-public addresses or CIDR ranges webhooks may reach anyway, comma-separated. */
  GATEWAY_WEBHOOK_ALLOW_ADDRESSES: list.refine(
    (entries) => invalidAddressEntry(entries) === undefined,
    'every entry must be an IP address or a CIDR range',
  ),
  /** Time limit of one delivery attempt, in ms. */
  GATEWAY_WEBHOOK_TIMEOUT_MS: int(100, 120_000).default(10_000),
  /** Delivery attempts, the first included. */
  GATEWAY_WEBHOOK_ATTEMPTS: int(1, 50).default(10),
  /** First retry delay, in ms; doubled each attempt, with jitter. */
  GATEWAY_WEBHOOK_BACKOFF_MS: int(1, 3_600_000).default(5_000),
  /** Deliveries in flight at once in this process. */
  GATEWAY_WEBHOOK_CONCURRENCY: int(1, 256).default(8),
});

export interface WebhookSettings {
  /** Null when webhooks are off. */
  secret: string | null;
  allowPrivateNetworks: boolean;
  allowAddresses: string[];
  timeoutMs: number;
  attempts: number;
  backoffMs: number;
  concurrency: number;
}

export interface GatewayEnv {
  config: QuireConfig;
  port: number;
  host: string;
  trustProxy: boolean;
  bodyLimitBytes: number;
  shutdownGraceMs: number;
  sseHeartbeatMs: number;
  /** Reply timeout of the request-path Redis client, in ms. */
  redisCommandTimeoutMs: number;
  apiKeys: ApiKeyEntry[];
  /** SHA-256 digest (lower-case hex) of the admin key, or null. */
  adminKeySha256: string | null;
  uploads: { maxBytes: number; inlineMaxBytes: number; dir: string | null };
  wait: { defaultMs: number; maxMs: number };
  idempotencyTtlSeconds: number;
  webhooks: WebhookSettings;
}

export function loadEnv(env: Record<string, string | undefined> = process.env): GatewayEnv {
  const config = parseQuireEnv(env);
  const own = parseEnvWith(GatewayEnvSchema, env);
  return {
    config,
    port: own.PORT,
    host: own.HOST,
    trustProxy: own.GATEWAY_TRUST_PROXY,
    bodyLimitBytes: own.GATEWAY_BODY_LIMIT_BYTES,
    shutdownGraceMs: own.SHUTDOWN_GRACE_MS,
    sseHeartbeatMs: own.GATEWAY_SSE_HEARTBEAT_MS,
    redisCommandTimeoutMs: own.GATEWAY_REDIS_COMMAND_TIMEOUT_MS,
    apiKeys: parseApiKeys(own.QUIRE_API_KEYS ?? '', 'QUIRE_API_KEYS'),
    adminKeySha256: own.QUIRE_ADMIN_KEY_SHA256?.toLowerCase() ?? null,
    uploads: {
      maxBytes: own.GATEWAY_UPLOAD_MAX_BYTES ?? config.ingest.maxFileBytes,
      inlineMaxBytes: own.GATEWAY_INLINE_UPLOAD_MAX_BYTES,
      // Normalised: finished jobs' files are recognised by their directory.
      dir: own.GATEWAY_UPLOAD_DIR === undefined ? null : resolve(own.GATEWAY_UPLOAD_DIR),
    },
    wait: {
      defaultMs: Math.min(own.GATEWAY_WAIT_DEFAULT_MS, own.GATEWAY_WAIT_MAX_MS),
      maxMs: own.GATEWAY_WAIT_MAX_MS,
    },
    idempotencyTtlSeconds: own.GATEWAY_IDEMPOTENCY_TTL_SECONDS,
    webhooks: {
      secret: own.GATEWAY_WEBHOOK_SECRET ?? null,
      allowPrivateNetworks: own.GATEWAY_WEBHOOK_ALLOW_PRIVATE,
      allowAddresses: own.GATEWAY_WEBHOOK_ALLOW_ADDRESSES,
      timeoutMs: own.GATEWAY_WEBHOOK_TIMEOUT_MS,
      attempts: own.GATEWAY_WEBHOOK_ATTEMPTS,
      backoffMs: own.GATEWAY_WEBHOOK_BACKOFF_MS,
      concurrency: own.GATEWAY_WEBHOOK_CONCURRENCY,
    },
  };
}
