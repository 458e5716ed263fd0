/**
 * The budget contract, written once and run against every backend (memory-budget.test.ts and the Redis
 * integration test). `instances` are two gateway instances sharing one budget: the same object twice
 * for memory, two Redis clients with one key prefix for Redis.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BudgetBackend, BudgetPolicy, Reservation } from '../../../src/limits/types.ts';
import { type TestClock, testClock } from './clock.ts';

export interface BudgetHarness {
  instances: [BudgetBackend, BudgetBackend];
  close(): Promise<void>;
}

/** Exact nanos of a status figure (they are integer nanos / 1e9). */
const nanos = (usd: number) => Math.round(usd * 1e9);
const usd = (n: number) => n / 1e9;

let teams = 0;
/** Fresh team names per test, so Redis tests sharing a prefix never see each other's counters. */
const team = () => `team-${process.pid}-${++teams}`;

/** Deterministic pseudo-random integers (LCG), so a failing run can be replayed. */
function lcg(seed: number) {
  let s = seed;
  return (n: number) => {
    s = (s * 1_103_515_245 + 12_345) % 2_147_483_648;
    return s % n;
  };
}

export function budgetSuite(name: string, make: (clock: TestClock) => Promise<BudgetHarness>) {
  describe(`${name} budget`, () => {
    let clock: TestClock;
    let harness: BudgetHarness;
    let a: BudgetBackend;
    let b: BudgetBackend;
    const monthly = (limitUsd: number, extra: Partial<BudgetPolicy> = {}): BudgetPolicy => ({
      team: team(),
      limitUsd,
      period: 'monthly',
      ...extra,
    });
    const reserved = async (backend: BudgetBackend, policy: BudgetPolicy, amount: number, ttl = 60_000) => {
      const result = await backend.reserve(policy, amount, ttl);
      if (!result.ok) throw new Error(`expected ${amount} to be admitted: ${JSON.stringify(result.status)}`);
      return result.reservation;
    };

    beforeEach(async () => {
      clock = testClock();
      harness = await make(clock);
      [a, b] = harness.instances;
    });
    afterEach(async () => {
      await harness.close();
    });

    it('holds, settles and releases in exact nano-dollars', async () => {
      const policy = monthly(1);
      const r1 = await reserved(a, policy, 0.3);
      expect(r1).toMatchObject({ team: policy.team, period: '2026-11', nanos: 300_000_000 });
      expect(r1.expiresAt).toBe(clock.now() + 60_000);
      const r2 = await reserved(b, policy, 0.2);
      let st = await a.status(policy);
      expect([nanos(st.spentUsd), nanos(st.reservedUsd), nanos(st.remainingUsd)]).toEqual([0, 5e8, 5e8]);

      await b.settle(r1, 0.123456789);
      st = await b.status(policy);
      expect([nanos(st.spentUsd), nanos(st.reservedUsd)]).toEqual([123_456_789, 2e8]);

      await a.release(r2);
      st = await a.status(policy);
      expect([nanos(st.spentUsd), nanos(st.reservedUsd), nanos(st.remainingUsd)]).toEqual([
        123_456_789, 0, 876_543_211,
      ]);
    });

    it('charges the actual cost, but never more than the hold', async () => {
      const policy = monthly(1);
      await a.settle(await reserved(a, policy, 0.1), 0.3);
      let st = await a.status(policy);
      expect([nanos(st.spentUsd), nanos(st.reservedUsd)]).toEqual([1e8, 0]);
      // An absurd report (10^12 tokens' worth) is charged the hold, and the team can go on spending.
      await b.settle(await reserved(b, policy, 0.2), 2_000_000);
      st = await b.status(policy);
      expect([nanos(st.spentUsd), nanos(st.reservedUsd), nanos(st.remainingUsd)]).toEqual([3e8, 0, 7e8]);
      await reserved(a, policy, 0.7);
    });

    it('refuses when spent + reserved + amount > limit, naming spent, limit and reset', async () => {
      const policy = monthly(1);
      await a.settle(await reserved(a, policy, 0.5), 0.5);
      await reserved(b, policy, 0.4);
      await reserved(a, policy, 0.1); // exactly at the limit is allowed
      const refused = await b.reserve(policy, 0.000000001, 60_000);
      expect(refused).toEqual({
        ok: false,
        status: {
          team: policy.team,
          period: 'monthly',
          periodKey: '2026-11',
          limitUsd: 1,
          spentUsd: 0.5,
          reservedUsd: 0.5,
          remainingUsd: 0,
          resetsAt: '2026-12-01T00:00:00.000Z',
          softLimitReached: false,
        },
      });
      // A refusal holds nothing.
      expect(nanos((await a.status(policy)).reservedUsd)).toBe(5e8);
    });

    it('makes settle and release idempotent', async () => {
      const policy = monthly(1);
      const r = await reserved(a, policy, 0.2);
      await a.settle(r, 0.15);
      await b.settle(r, 0.15);
      await a.release(r);
      await Promise.all([a.settle(r, 0.15), b.settle(r, 0.15)]);
      let st = await a.status(policy);
      expect([nanos(st.spentUsd), nanos(st.reservedUsd)]).toEqual([1.5e8, 0]);

      const released = await reserved(b, policy, 0.3);
      await b.release(released);
      await a.release(released);
      await a.settle(released, 0.3);
      st = await a.status(policy);
      expect([nanos(st.spentUsd), nanos(st.reservedUsd)]).toEqual([1.5e8, 0]);
    });

    it('lets holds lapse after their ttl, and a late settle still charges without double-subtracting', async () => {
      const policy = monthly(1);
      const lapsed = await reserved(a, policy, 1, 30_000);
      expect((await b.reserve(policy, 0.01, 30_000)).ok).toBe(false);
      clock.advance(29_999);
      expect((await b.reserve(policy, 0.01, 30_000)).ok).toBe(false);
      clock.advance(1);
      const fresh = await reserved(b, policy, 0.4); // the lapsed hold was purged before the check
      let st = await a.status(policy);
      expect([nanos(st.spentUsd), nanos(st.reservedUsd)]).toEqual([0, 4e8]);

      await a.settle(lapsed, 0.25); // purged already: charge only
      st = await b.status(policy);
      expect([nanos(st.spentUsd), nanos(st.reservedUsd)]).toEqual([2.5e8, 4e8]);
      await a.settle(lapsed, 0.25);
      expect(nanos((await b.status(policy)).spentUsd)).toBe(2.5e8);

      // Lapsed but not yet purged by any check: subtracted once, by the settle itself.
      clock.advance(120_000);
      await b.settle(fresh, 0.1);
      st = await a.status(policy);
      expect([nanos(st.spentUsd), nanos(st.reservedUsd)]).toEqual([3.5e8, 0]);
    });

    it('starts a new period from zero, and charges a late settle to the period of its hold', async () => {
      const policy = monthly(1);
      clock.set('2026-11-30T23:59:00.000Z');
      await a.settle(await reserved(a, policy, 0.9), 0.9);
      const late = await reserved(b, policy, 0.1);
      expect((await a.reserve(policy, 0.01, 60_000)).ok).toBe(false);

      clock.set('2026-12-01T00:00:00.000Z');
      let st = await a.status(policy);
      expect(st).toMatchObject({ periodKey: '2026-12', spentUsd: 0, reservedUsd: 0, remainingUsd: 1 });
      expect(st.resetsAt).toBe('2027-01-01T00:00:00.000Z');
      await b.settle(late, 0.05);
      await reserved(a, policy, 1);
      expect(nanos((await b.status(policy)).spentUsd)).toBe(0);

      clock.set('2026-11-30T23:59:30.000Z');
      st = await a.status(policy);
      expect([st.periodKey, nanos(st.spentUsd), nanos(st.reservedUsd)]).toEqual(['2026-11', 9.5e8, 0]);
    });

    it.each([
      ['daily', '2026-11-22', '2026-11-23T00:00:00.000Z'],
      ['weekly', '2026-W47', '2026-11-23T00:00:00.000Z'],
      ['total', 'total', null],
    ] as const)('keys %s budgets by %s', async (period, periodKey, resetsAt) => {
      const policy = monthly(1, { period });
      const r = await reserved(a, policy, 0.5);
      expect(r.period).toBe(periodKey);
      await b.settle(r, 0.5);
      expect(await a.status(policy)).toMatchObject({ period, periodKey, resetsAt, spentUsd: 0.5 });
    });

    it('seeds spent totals, only ever raising them', async () => {
      const policy = monthly(1);
      await a.seed(policy.team, '2026-11', 0.7);
      await b.seed(policy.team, '2026-11', 0.5);
      expect(nanos((await a.status(policy)).spentUsd)).toBe(7e8);
      expect((await b.reserve(policy, 0.300000001, 60_000)).ok).toBe(false);
      await reserved(b, policy, 0.3);
      await a.seed(policy.team, '2026-10', 5); // another period: untouched here
      expect(nanos((await a.status(policy)).spentUsd)).toBe(7e8);
    });

    it('reports the soft limit once spent reaches it, without refusing', async () => {
      const policy = monthly(1, { softLimitUsd: 0.5 });
      await a.settle(await reserved(a, policy, 0.49), 0.49);
      expect((await a.status(policy)).softLimitReached).toBe(false);
      await a.settle(await reserved(b, policy, 0.01), 0.01);
      expect((await b.status(policy)).softLimitReached).toBe(true);
      await reserved(a, policy, 0.5);
    });

    it('admits exactly 20 of 200 concurrent $0.10 reserves against $2.00, across instances', async () => {
      const policy = monthly(2);
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).reserve(policy, 0.1, 60_000)),
      );
      const admitted = results.flatMap((r) => (r.ok ? [r.reservation] : []));
      expect(admitted).toHaveLength(20);
      for (const r of results) if (!r.ok) expect(nanos(r.status.spentUsd + r.status.reservedUsd)).toBe(2e9);

      await Promise.all(admitted.map((r, i) => (i % 2 ? b : a).settle(r, usd(r.nanos))));
      const st = await a.status(policy);
      expect([nanos(st.spentUsd), nanos(st.reservedUsd), nanos(st.remainingUsd)]).toEqual([2e9, 0, 0]);
      expect((await b.reserve(policy, 0.000000001, 60_000)).ok).toBe(false);
    });

    it('never lets the settled total pass the limit while settles below the hold admit more', async () => {
      const policy = monthly(2);
      const limit = 2e9;
      const hold = 1e8;
      const random = lcg(7);
      const live: Reservation[] = [];
      let charged = 0;
      let admittedTotal = 0;
      let rounds = 0;
      for (; rounds < 200; rounds++) {
        // Each step: a burst of reserves from both instances while half of the live holds settle.
        const settling = live.splice(0, Math.ceil(live.length / 2));
        const [results] = await Promise.all([
          Promise.all(
            Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).reserve(policy, usd(hold), 60_000)),
          ),
          Promise.all(
            settling.map((r, i) => {
              const actual = 1 + random(hold); // 1 nano … the full hold
              charged += actual;
              return (i % 2 ? b : a).settle(r, usd(actual));
            }),
          ),
        ]);
        const admitted = results.flatMap((r) => (r.ok ? [r.reservation] : []));
        live.push(...admitted);
        admittedTotal += admitted.length;
        const st = await (rounds % 2 ? a : b).status(policy);
        expect(nanos(st.spentUsd)).toBe(charged);
        expect(nanos(st.spentUsd)).toBeLessThanOrEqual(limit);
        expect(nanos(st.spentUsd) + nanos(st.reservedUsd)).toBeLessThanOrEqual(limit);
        expect(nanos(st.reservedUsd)).toBe(live.length * hold);
        // Done when a burst meets a quiescent budget (nothing live, nothing settling) and fits nothing.
        if (admitted.length === 0 && live.length === 0 && settling.length === 0) break;
      }
      expect(rounds).toBeLessThan(200);
      expect(admittedTotal).toBeGreaterThan(20);
      const st = await a.status(policy);
      expect(nanos(st.spentUsd)).toBe(charged);
      expect(limit - charged).toBeLessThan(hold); // it stopped only because the next hold no longer fit
    });
  });
}
