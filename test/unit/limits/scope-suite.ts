/**
 * The multi-window contract (reserveMany / settleMany / releaseMany), run against both backends like
 * budget-suite.ts: a request held in several scopes' windows is held in all of them or in none, and two
 * instances racing never take any window past its limit.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BudgetBackend, BudgetPolicy } from '../../../src/limits/types.ts';
import type { BudgetHarness } from './budget-suite.ts';
import { type TestClock, testClock } from './clock.ts';

let subjects = 0;
const subject = (kind: string) => `${kind}/scopes-${process.pid}/${++subjects}`;
const nanos = (usd: number) => Math.round(usd * 1e9);

export function scopeSuite(name: string, make: (clock: TestClock) => Promise<BudgetHarness>) {
  describe(`${name} multi-window budget`, () => {
    let clock: TestClock;
    let harness: BudgetHarness;
    let a: BudgetBackend;
    let b: BudgetBackend;
    beforeEach(async () => {
      clock = testClock();
      harness = await make(clock);
      [a, b] = harness.instances;
    });
    afterEach(async () => {
      await harness.close();
    });

    it('holds in every window or in none, and names the window that refused', async () => {
      const team: BudgetPolicy = {
        team: `scopes-team-${process.pid}-${++subjects}`,
        limitUsd: 1,
        period: 'monthly',
      };
      const user: BudgetPolicy = { team: subject('user'), limitUsd: 0.5, period: 'daily' };
      const first = await a.reserveMany([team, user], 0.4, 60_000);
      expect(first.ok).toBe(true);
      const refused = await b.reserveMany([team, user], 0.2, 60_000);
      expect(refused).toMatchObject({ ok: false, index: 1, status: { limitUsd: 0.5, reservedUsd: 0.4 } });
      // The team window took nothing for the refused request.
      expect((await a.status(team)).reservedUsd).toBe(0.4);
      if (!first.ok) throw new Error('unreachable');
      await b.settleMany(first.reservation, 0.3);
      await a.settleMany(first.reservation, 0.3); // a repeat is a no-op
      expect(await a.status(team)).toMatchObject({ spentUsd: 0.3, reservedUsd: 0 });
      expect(await b.status(user)).toMatchObject({ spentUsd: 0.3, reservedUsd: 0 });
      const released = await a.reserveMany([team, user], 0.2, 60_000);
      if (!released.ok) throw new Error('expected 0.2 to fit');
      await b.releaseMany(released.reservation);
      expect(await a.status(user)).toMatchObject({ spentUsd: 0.3, reservedUsd: 0 });
    });

    it('never takes any window past its limit when two instances race', async () => {
      const key: BudgetPolicy = { team: subject('key'), limitUsd: 0.7, period: 'monthly' };
      const daily: BudgetPolicy = { team: subject('team'), limitUsd: 1, period: 'daily' };
      const monthly: BudgetPolicy = { ...daily, limitUsd: 1.5, period: 'monthly' };
      const users = [0, 1, 2].map(() => ({
        team: subject('user'),
        limitUsd: 0.45,
        period: 'daily' as const,
      }));
      const results = await Promise.all(
        Array.from({ length: 120 }, (_, i) => {
          const policies = [daily, monthly, users[i % 3]!, ...(i % 2 ? [key] : [])];
          return (i % 2 ? a : b).reserveMany(policies, 0.05, 60_000).then((r) => ({ r, policies }));
        }),
      );
      const admitted = results.filter((x) => x.r.ok);
      for (const w of [key, daily, monthly, ...users]) {
        const held = admitted.filter((x) => x.policies.includes(w)).length;
        expect(nanos(held * 0.05)).toBeLessThanOrEqual(nanos(w.limitUsd));
        expect(nanos((await a.status(w)).reservedUsd)).toBe(nanos(held * 0.05));
      }
      // The tightest windows bind: every user is full (3 × 0.45 = 1.35 > the daily 1, so the daily binds).
      expect(admitted).toHaveLength(20);
      for (const x of results.filter((x) => !x.r.ok)) {
        const r = x.r as { ok: false; index: number };
        const tripped = x.policies[r.index]!;
        const held = admitted.filter((y) => y.policies.includes(tripped)).length;
        expect(nanos((held + 1) * 0.05)).toBeGreaterThan(nanos(tripped.limitUsd));
      }
    });

    it('resets a daily window at UTC midnight while the monthly one keeps counting; a late settle charges the hold’s day', async () => {
      const daily: BudgetPolicy = { team: subject('tag'), limitUsd: 1, period: 'daily' };
      const monthly: BudgetPolicy = { ...daily, limitUsd: 5, period: 'monthly' };
      clock.set('2026-11-22T23:59:00.000Z');
      const held = await a.reserveMany([daily, monthly], 0.9, 600_000);
      if (!held.ok) throw new Error('expected a hold');
      expect((await b.reserveMany([daily, monthly], 0.2, 60_000)).ok).toBe(false);
      clock.set('2026-11-23T00:01:00.000Z');
      await b.settleMany(held.reservation, 0.8);
      expect(await a.status(daily)).toMatchObject({ periodKey: '2026-11-23', spentUsd: 0, reservedUsd: 0 });
      expect(await a.status(monthly)).toMatchObject({ spentUsd: 0.8 });
      const next = await b.reserveMany([daily, monthly], 0.95, 60_000);
      expect(next.ok).toBe(true);
    });

    it('holds two windows of one period on one scope once, within the tighter limit', async () => {
      const s = subject('key');
      const loose: BudgetPolicy = { team: s, limitUsd: 2, period: 'monthly' };
      const tight: BudgetPolicy = { team: s, limitUsd: 1, period: 'monthly' };
      const first = await a.reserveMany([loose, tight], 0.6, 60_000);
      expect(first.ok).toBe(true);
      expect((await b.status(loose)).reservedUsd).toBe(0.6);
      expect(await b.reserveMany([loose, tight], 0.6, 60_000)).toMatchObject({ ok: false, index: 1 });
    });
  });
}
