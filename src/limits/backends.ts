/**
 * Picks the limits backends from configuration: in memory without a Redis URL (one instance), Redis
 * otherwise (several instances share budgets and rate limits), wrapped in the fail mode of failover.ts.
 */
import type { Redis } from 'ioredis';
import { cachedProbe, type StoreProbe } from '../store/index.ts';
import { type FailMode, FailoverBudget, FailoverRateLimit, RedisHealth, type WarnFn } from './failover.ts';
import { MemoryBudget } from './memory-budget.ts';
import { MemoryRateLimit } from './memory-rate.ts';
import { RedisBudget, type SpendLoader } from './redis-budget.ts';
import { closeRedis, createRedisClient } from './redis-client.ts';
import { RedisRateLimit } from './redis-rate.ts';
import type { OverrideBook } from './scopes.ts';
import type { BudgetBackend, RateLimitBackend } from './types.ts';

export interface LimitBackendsOptions {
  /** `QUORUM_REDIS_URL`; absent → in-memory backends. */
  redisUrl?: string;
  /** Key prefix in Redis (default `quorum:`); instances sharing budgets must use the same one. */
  prefix?: string;
  /** What to do when Redis is unreachable (default `closed`); see failover.ts. */
  failMode?: FailMode;
  /**
   * Clock in epoch ms (default Date.now). With Redis, budget scripts are sent it; rate-limit scripts
   * use Redis's own clock (TIME) unless a clock is given here (tests).
   */
  now?: () => number;
  /** Outage start/end and dropped replays (default console.warn). */
  onWarn?: WarnFn;
  /** Per-command Redis timeout (default 1000 ms). */
  commandTimeoutMs?: number;
  /** A team's spend since an instant, from the ledger: re-seeds budget counters Redis has lost. */
  loadSpent?: SpendLoader;
}

export interface LimitBackends {
  kind: 'memory' | 'redis';
  budget: BudgetBackend;
  rates: RateLimitBackend;
  /** Live raises of scopes' limits, set at boot when there is a store (overrides.ts). */
  overrides?: OverrideBook | undefined;
  /** Waits (up to `timeoutMs`) for Redis to be connected; true at once for memory. For start-up logs. */
  ready(timeoutMs?: number): Promise<boolean>;
  /**
   * For /readyz: null while Redis answers a PING (asked at most once a second, however many probes
   * arrive), else a short reason; always null in memory.
   */
  probe: StoreProbe;
  close(): Promise<void>;
}

const defaultWarn: WarnFn = (message, err) =>
  console.warn(`[quorum limits] ${message}${err instanceof Error ? `: ${err.message}` : ''}`);

export function createLimitBackends(options: LimitBackendsOptions = {}): LimitBackends {
  const now = options.now ?? Date.now;
  if (!options.redisUrl) {
    const budget = new MemoryBudget({ now });
    const rates = new MemoryRateLimit({ now });
    return {
      kind: 'memory',
      budget,
      rates,
      ready: async () => true,
      probe: async () => null,
      close: async () => {
        await Promise.all([budget.close(), rates.close()]);
      },
    };
  }

  const onWarn = options.onWarn ?? defaultWarn;
  const failMode = options.failMode ?? 'closed';
  const health = new RedisHealth(failMode, onWarn);
  const redis = createRedisClient(options.redisUrl, {
    commandTimeoutMs: options.commandTimeoutMs,
    onError: (err) => health.failed(err),
  });
  const shared = { redis, prefix: options.prefix ?? 'quorum:' };
  const failover = { failMode, health, onWarn, now };
  const budget = new FailoverBudget(
    new RedisBudget({ ...shared, now, ...(options.loadSpent ? { loadSpent: options.loadSpent } : {}) }),
    failover,
  );
  const rates = new FailoverRateLimit(
    new RedisRateLimit({ ...shared, ...(options.now ? { now: options.now } : {}) }),
    failover,
  );
  // Back after an outage: say so, and replay the settles and releases that could not be sent.
  redis.on('ready', () => {
    health.ok();
    void budget.flush();
  });
  return {
    kind: 'redis',
    budget,
    rates,
    ready: (timeoutMs = 2000) => connected(redis, timeoutMs),
    probe: cachedProbe(() => ping(redis)),
    close: async () => {
      await Promise.all([budget.close(), rates.close()]);
      await closeRedis(redis);
    },
  };
}

/** A PING; a client that is not connected fails at once, naming its state (`reconnecting`, …). */
async function ping(redis: Redis): Promise<void> {
  if (redis.status !== 'ready')
    throw Object.assign(new Error(`Redis is ${redis.status}`), { code: redis.status });
  await redis.ping();
}

function connected(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      resolve(ok);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    redis.on('ready', onReady);
  });
}
