import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { createLimitBackends } from '../../../src/limits/backends.ts';
import type { FailoverRateLimit } from '../../../src/limits/failover.ts';
import { rateSuite } from '../../unit/limits/rate-suite.ts';
import { deleteKeys, redisUrl, uniquePrefix } from './redis-env.ts';

const prefix = uniquePrefix();

describe.skipIf(!redisUrl)('Redis', () => {
  afterAll(async () => {
    await deleteKeys(redisUrl!, prefix);
  });

  // Two gateway instances: two clients, one key prefix.
  rateSuite('redis (two instances)', async (clock) => {
    const instances = [1, 2].map(() => createLimitBackends({ redisUrl, prefix, now: clock.now }));
    await Promise.all(instances.map((i) => i.ready()));
    const rates = instances.map((i) => i.rates as FailoverRateLimit);
    return {
      instances: [rates[0]!, rates[1]!],
      close: async () => {
        await Promise.all(instances.map((i) => i.close()));
      },
    };
  });

  describe('on Redis’s own clock (no injected clock, as in production)', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('instances whose clocks disagree by minutes still share one window and a wait of at most a minute', async () => {
      // Only Date is faked, before the instances exist: if they timed the window by their own clock,
      // the second would see the request as long gone (10 min ahead) or as counting for 11 more
      // minutes (10 min behind).
      vi.useFakeTimers({ toFake: ['Date'] });
      const start = Date.now();
      const [a, b] = [1, 2].map(() => createLimitBackends({ redisUrl, prefix }));
      try {
        expect(await a!.ready()).toBe(true);
        expect(await b!.ready()).toBe(true);
        const subject = `key:time-${process.pid}`;
        expect((await a!.rates.admit(subject, { rpm: 1 }, 0)).ok).toBe(true);
        for (const skew of [10 * 60_000, -10 * 60_000]) {
          vi.setSystemTime(start + skew);
          const refused = await b!.rates.admit(subject, { rpm: 1 }, 0);
          expect(refused.ok).toBe(false);
          expect(refused.retryAfterMs).toBeGreaterThan(0);
          expect(refused.retryAfterMs).toBeLessThanOrEqual(60_000);
          expect(refused.retryAfterSeconds).toBe(Math.ceil(refused.retryAfterMs! / 1000));
        }
      } finally {
        await Promise.all([a!.close(), b!.close()]);
      }
    });

    it('keeps a subject’s log in one key that expires once all of it has left the window', async () => {
      const limits = createLimitBackends({ redisUrl, prefix });
      const redis = new Redis(redisUrl!);
      try {
        expect(await limits.ready()).toBe(true);
        const subject = `team:ttl-${process.pid}`;
        await limits.rates.admit(subject, { rpm: 5, tpm: 1000 }, 10);
        const key = `${prefix}ratelog:${subject}`;
        const ttl = await redis.pttl(key);
        expect(ttl).toBeGreaterThan(60_000);
        expect(ttl).toBeLessThanOrEqual(120_000);
        // One entry: this second's requests and tokens, and the ms of the latest (Redis TIME).
        const [field, value] = Object.entries(await redis.hgetall(key))[0]!;
        const [seconds] = await redis.time();
        const [requests, tokens, at] = value.split(':').map(Number);
        expect([requests, tokens]).toEqual([1, 10]);
        expect(Number(field)).toBe(Math.floor(at! / 1000));
        expect(Math.floor(at! / 1000)).toBeLessThanOrEqual(Number(seconds));
      } finally {
        await redis.quit();
        await limits.close();
      }
    });
  });
});
