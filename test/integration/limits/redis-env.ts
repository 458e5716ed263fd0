/** Redis for the limits integration tests: only when QUORUM_TEST_REDIS_URL is set; keys by prefix. */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export const redisUrl = process.env.QUORUM_TEST_REDIS_URL;

/** A prefix no other test file (or run) shares. */
export const uniquePrefix = () => `quorum-test:${randomBytes(6).toString('hex')}:`;

/** SCAN + DEL every key under the prefix. */
export async function deleteKeys(url: string, prefix: string): Promise<number> {
  const redis = new Redis(url);
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
  return deleted;
}
