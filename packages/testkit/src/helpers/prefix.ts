import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { safeLabel } from './temp-dir.js';

/**
 * A queue/key prefix no other test uses: `qt-<label>-<8 hex digits>`.
 * Pass it as BullMQ's `prefix` (keys become `<prefix>:<queue>:…`) and give it to {@link cleanupPrefix} after.
 */
export function uniquePrefix(label: string): string {
  return `qt-${safeLabel(label)}-${randomBytes(4).toString('hex')}`;
}

/**
 * Deletes the key `prefix` and every key under `prefix:` (SCAN + UNLINK, so a big keyspace is never
 * blocked). Accepts a Redis URL (a connection is opened and closed) or an open ioredis client (left open).
 *
 * @returns how many keys were deleted
 */
export async function cleanupPrefix(redis: string | Redis, prefix: string): Promise<number> {
  if (prefix === '') throw new Error('cleanupPrefix: an empty prefix would delete every key');
  const client =
    typeof redis === 'string' ? new Redis(redis, { lazyConnect: true, maxRetriesPerRequest: 1 }) : redis;
  try {
    if (typeof redis === 'string') await client.connect();
    let deleted = await client.unlink(prefix);
    const pattern = `${escapeGlob(prefix)}:*`;
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) deleted += await client.unlink(...keys);
    } while (cursor !== '0');
    return deleted;
  } finally {
    if (typeof redis === 'string') await client.quit().catch(() => client.disconnect());
  }
}

/** SCAN MATCH treats `* ? [ ] \` as pattern syntax; a prefix is meant literally. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (char) => `\\${char}`);
}
