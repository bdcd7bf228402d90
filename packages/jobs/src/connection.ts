import { Redis, type RedisOptions } from 'ioredis';

/** A Redis URL, ioredis options, or a live client (shared, not closed by us). */
export type RedisConnection = string | RedisOptions | Redis;

/**
 * Opens a client suitable for BullMQ. `maxRetriesPerRequest: null` is what BullMQ requires for
 * blocking connections; producers that must fail fast when Redis is down pass `failFast`.
 */
export function openRedis(connection: RedisConnection, options: { failFast?: boolean } = {}): Redis {
  if (connection instanceof Redis) return connection;
  const base: RedisOptions = options.failFast
    ? { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000 }
    : { maxRetriesPerRequest: null };
  if (typeof connection === 'string') return new Redis(connection, base);
  return new Redis({ ...connection, ...base });
}
