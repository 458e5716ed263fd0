/**
 * The ioredis client the limits share, tuned to fail fast: with the offline queue off, a command sent
 * while Redis is unreachable rejects at once instead of queueing until the request has timed out, so
 * the fail-closed/fail-open choice (backends.ts) is made within milliseconds.
 */
import { once } from 'node:events';
import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';

/** ioredis is loaded on the first Redis client only: a gateway without QUORUM_REDIS_URL never pays for it. */
const load = () => (createRequire(import.meta.url)('ioredis') as typeof import('ioredis')).Redis;

export interface RedisClientOptions {
  /** Per-command timeout (default 1000 ms): a hung Redis is treated like an unreachable one. */
  commandTimeoutMs?: number;
  onError?: (err: Error) => void;
}

export function createRedisClient(url: string, options: RedisClientOptions = {}): Redis {
  const RedisClient = load();
  const redis = new RedisClient(url, {
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: options.commandTimeoutMs ?? 1000,
    // Keep trying to reconnect for as long as the gateway runs, at most every 2 s.
    retryStrategy: (times) => Math.min(times * 100, 2000),
  });
  // Without a listener ioredis prints every failed reconnect; the owner decides what to log.
  redis.on('error', (err: Error) => options.onError?.(err));
  return redis;
}

/** Status values in which a connection is being made (worth a short wait). */
const STARTING = new Set(['wait', 'connecting', 'connect']);

/** One shared wait per client, so a burst of requests at start-up adds one set of listeners, not N. */
const waits = new WeakMap<Redis, Promise<void>>();

/**
 * Undefined when the client can take commands now (the hot path: no await); otherwise a promise that
 * waits up to `maxWaitMs` for a connection in progress (a gateway serving its first request right after
 * start-up) and rejects when Redis is down or reconnecting.
 */
export function whenUsable(redis: Redis, maxWaitMs = 500): Promise<void> | undefined {
  if (redis.status === 'ready') return undefined;
  if (!STARTING.has(redis.status)) return Promise.reject(new Error(`Redis connection is ${redis.status}`));
  let wait = waits.get(redis);
  if (!wait) {
    if (redis.status === 'wait') redis.connect().catch(() => {});
    wait = settleOnce(redis, maxWaitMs).finally(() => waits.delete(redis));
    waits.set(redis, wait);
  }
  return wait;
}

function settleOnce(redis: Redis, maxWaitMs: number): Promise<void> {
  const done = new AbortController();
  const timer = setTimeout(() => done.abort(), maxWaitMs);
  // Aborting drops the listeners that did not fire; their rejections are expected and swallowed.
  const events = ['ready', 'close', 'end', 'reconnecting'].map((event) =>
    once(redis, event, { signal: done.signal }).catch(() => {}),
  );
  return Promise.race(events).then(() => {
    clearTimeout(timer);
    done.abort();
    if (redis.status !== 'ready') throw new Error(`Redis connection is ${redis.status}`);
  });
}

/** Closes a client whatever its state (quit needs a live connection; disconnect does not). */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status === 'ready') {
    try {
      await redis.quit();
      return;
    } catch {
      // fall through to a hard disconnect
    }
  }
  redis.disconnect();
}
