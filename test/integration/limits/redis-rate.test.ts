import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { createLimitBackends } from '../../../src/limits/backends.ts';
import type { FailoverRateLimit } from '../../../src/limits/failover.ts';
import { MemoryRateLimit } from '../../../src/limits/memory-rate.ts';
import { testClock } from '../../unit/limits/clock.ts';
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

  it('decides exactly as the memory backend for any traffic: admissions, waits, headers, corrections', async () => {
    const clock = testClock();
    const redis = createLimitBackends({ redisUrl, prefix, now: clock.now });
    const memory = new MemoryRateLimit({ now: clock.now });
    expect(await redis.ready()).toBe(true);
    let run = 0;
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('admit' as const),
        dt: fc.oneof(
          fc.constant(0),
          fc.integer({ min: 1, max: 2_500 }),
          fc.integer({ min: 10_000, max: 70_000 }),
        ),
        tokens: fc.integer({ min: 0, max: 600 }),
      }),
      fc.record({
        kind: fc.constant('adjust' as const),
        dt: fc.integer({ min: 0, max: 1_500 }),
        delta: fc.integer({ min: -700, max: 300 }),
        team: fc.boolean(),
      }),
      // What a failed call's settle does: take back exactly the estimate just counted, on both.
      fc.record({ kind: fc.constant('undo' as const), dt: fc.integer({ min: 0, max: 1_500 }) }),
    );
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.record({ rpm: fc.integer({ min: 1, max: 8 }), tpm: fc.integer({ min: 300, max: 2_000 }) }),
          fc.record({ rpm: fc.integer({ min: 1, max: 12 }), tpm: fc.integer({ min: 300, max: 3_000 }) }),
          fc.array(op, { minLength: 1, maxLength: 40 }),
          async (keyLimits, teamLimits, ops) => {
            run++;
            const subjects = [
              { subject: `key:diff-${process.pid}-${run}`, limits: keyLimits },
              { subject: `team:diff-${process.pid}-${run}`, limits: teamLimits },
            ];
            let last = 0;
            for (const o of ops) {
              clock.advance(o.dt);
              if (o.kind === 'undo') {
                for (const { subject } of subjects) {
                  await memory.adjust(subject, -last);
                  await redis.rates.adjust(subject, -last);
                }
              } else if (o.kind === 'admit') {
                last = o.tokens;
                const [m, r] = [
                  await memory.admitMany(subjects, o.tokens),
                  await redis.rates.admitMany!(subjects, o.tokens),
                ];
                expect(r).toEqual(m);
              } else {
                const subject = subjects[o.team ? 1 : 0]!.subject;
                await memory.adjust(subject, o.delta);
                await redis.rates.adjust(subject, o.delta);
              }
            }
          },
        ),
        { numRuns: 150 },
      );
    } finally {
      await redis.close();
    }
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
        // One entry (this second's requests, tokens, and the ms of the latest, on Redis TIME) and the
        // summary an admission reads instead of every entry.
        const hash = await redis.hgetall(key);
        const entries = Object.entries(hash).filter(([field]) => /^\d+$/.test(field));
        expect(entries).toHaveLength(1);
        const [field, value] = entries[0]!;
        const [seconds] = await redis.time();
        const [requests, tokens, at] = value.split(':').map(Number);
        expect([requests, tokens]).toEqual([1, 10]);
        expect(Number(field)).toBe(Math.floor(at! / 1000));
        expect(Math.floor(at! / 1000)).toBeLessThanOrEqual(Number(seconds));
        expect(hash).toMatchObject({
          R: '1',
          T: '10',
          LR: String(at),
          LT: String(at),
          F: String(at),
          N: field,
        });
      } finally {
        await redis.quit();
        await limits.close();
      }
    });
  });
});
