/**
 * The one Redis connection factory of every Quire process, by role (BullMQ's own rule):
 *
 * - `blocking`: consumers that wait on Redis — BullMQ `Worker`s and `QueueEvents` readers. Their
 *   commands block for seconds by design (BZPOPMIN, XREAD BLOCK), so they get no command timeout,
 *   queue commands while offline and retry forever (`maxRetriesPerRequest: null`, which BullMQ
 *   requires of them).
 * - `request`: clients on a request path — queues and producers, rate limiters, HTTP handlers.
 *   They fail fast while Redis is unreachable (no offline queue, one retry) and time out when it
 *   stops answering, so a caller gets an error in seconds instead of hanging.
 *
 * Never hand a request-path client to a Worker or a QueueEvents reader: its command timeout would
 * cut every blocking wait short (an idle worker then errors every few seconds and, worse, can stop
 * picking up jobs). `duplicateRedis()` turns a client of either role into one of the other.
 */
import { Redis, type RedisOptions } from 'ioredis';

/** A Redis URL, ioredis options, or a live client (shared, not closed by us). */
export type RedisConnection = string | RedisOptions | Redis;

export type RedisRole = 'blocking' | 'request';

export interface RedisRoleOptions {
  /**
   * For `request` clients: how long a command may wait for its reply before it fails, in ms.
   * @defaultValue 5_000
   */
  commandTimeoutMs?: number;
  /**
   * For `request` clients: how long the first connection may take, in ms.
   * @defaultValue 2_000
   */
  connectTimeoutMs?: number;
}

/** Default reply timeout of a request-path command, in ms. */
export const DEFAULT_REQUEST_COMMAND_TIMEOUT_MS = 5_000;
/** Default connect timeout of a request-path client, in ms. */
export const DEFAULT_REQUEST_CONNECT_TIMEOUT_MS = 2_000;

/** The ioredis options a role imposes; they override whatever the caller's options say. */
export function roleOptions(role: RedisRole, options: RedisRoleOptions = {}): RedisOptions {
  if (role === 'blocking') {
    return { maxRetriesPerRequest: null, enableOfflineQueue: true, commandTimeout: undefined };
  }
  return {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: options.connectTimeoutMs ?? DEFAULT_REQUEST_CONNECT_TIMEOUT_MS,
    commandTimeout: options.commandTimeoutMs ?? DEFAULT_REQUEST_COMMAND_TIMEOUT_MS,
  };
}

/**
 * Opens a new client in `role` from a URL or ioredis options. A live client is returned as it is
 * (it belongs to the caller, whose role it keeps); use `duplicateRedis()` to get one in a role.
 */
export function connectRedis(
  connection: RedisConnection,
  role: RedisRole,
  options: RedisRoleOptions = {},
): Redis {
  if (connection instanceof Redis) return connection;
  const forced = roleOptions(role, options);
  if (typeof connection === 'string') return new Redis(connection, forced);
  return new Redis({ ...connection, ...forced });
}

/** A new client to the same server (address, credentials, TLS, db) as `client`, in `role`. */
export function duplicateRedis(client: Redis, role: RedisRole, options: RedisRoleOptions = {}): Redis {
  return client.duplicate(roleOptions(role, options));
}

/**
 * ioredis options for BullMQ classes that open their own blocking connection from options (a
 * `QueueEvents` given a client duplicates it and closes only its copy, leaving ours connected).
 */
export function blockingOptionsOf(client: Redis): RedisOptions {
  return { ...client.options, ...roleOptions('blocking') };
}
