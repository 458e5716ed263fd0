/**
 * The rate-limit contract, written once and run against every backend. `instances` are two gateway
 * instances sharing the counters (the same object twice for memory).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RateLimitBackend, RateLimits } from '../../../src/limits/types.ts';
import { type TestClock, testClock } from './clock.ts';

type Backend = RateLimitBackend & Required<Pick<RateLimitBackend, 'admitMany'>>;

export interface RateHarness {
  instances: [Backend, Backend];
  close(): Promise<void>;
}

let subjects = 0;
const subject = (kind = 'key') => `${kind}:${process.pid}-${++subjects}`;

export function rateSuite(name: string, make: (clock: TestClock) => Promise<RateHarness>) {
  describe(`${name} rate limits`, () => {
    let clock: TestClock;
    let harness: RateHarness;
    let a: Backend;
    let b: Backend;

    beforeEach(async () => {
      // Starts exactly on a minute boundary, so window arithmetic is easy to follow.
      clock = testClock('2026-11-22T12:00:00.000Z');
      harness = await make(clock);
      [a, b] = harness.instances;
    });
    afterEach(async () => {
      await harness.close();
    });

    it('admits rpm requests with remaining counting down, then refuses with retry-after', async () => {
      const s = subject();
      const limits: RateLimits = { rpm: 5 };
      for (const left of [4, 3, 2, 1, 0]) {
        const d = await (left % 2 ? a : b).admit(s, limits, 0);
        expect(d).toEqual({
          ok: true,
          headers: {
            'x-ratelimit-limit-requests': '5',
            'x-ratelimit-remaining-requests': String(left),
            // Requests in this window still weigh on the next one: back to zero two windows on.
            'x-ratelimit-reset-requests': '2m0s',
          },
        });
      }
      clock.advance(500);
      const refused = await a.admit(s, limits, 0);
      expect(refused).toEqual({
        ok: false,
        // Next window at 60 s; the 5 then weigh 4 once a fifth of it has passed (12 s): 71.5 s from now.
        retryAfterSeconds: 72,
        limitedBy: 'requests',
        subject: s,
        headers: {
          'x-ratelimit-limit-requests': '5',
          'x-ratelimit-remaining-requests': '0',
          'x-ratelimit-reset-requests': '1m59.5s',
        },
      });
    });

    it('slides the window as the clock advances', async () => {
      const s = subject();
      const limits: RateLimits = { rpm: 5 };
      for (let i = 0; i < 5; i++) expect((await a.admit(s, limits, 0)).ok).toBe(true);
      clock.advance(60_000 + 11_999); // previous window's 5 weigh 5 × 48.001/60 > 4
      const early = await b.admit(s, limits, 0);
      expect(early.ok).toBe(false);
      expect(early.retryAfterSeconds).toBe(1);
      clock.advance(1);
      const now = await b.admit(s, limits, 0);
      expect(now.ok).toBe(true);
      expect(now.headers['x-ratelimit-remaining-requests']).toBe('0');
      expect(now.headers['x-ratelimit-reset-requests']).toBe('1m48s');
      clock.advance(30_000); // 42 s into the window: 5 × 0.3 + 1 = 2.5 → 2 more fit
      expect((await a.admit(s, limits, 0)).headers['x-ratelimit-remaining-requests']).toBe('1');
      expect((await a.admit(s, limits, 0)).headers['x-ratelimit-remaining-requests']).toBe('0');
      expect((await a.admit(s, limits, 0)).ok).toBe(false);
      clock.advance(120_000); // two whole windows later everything has slid away
      expect((await b.admit(s, limits, 0)).headers['x-ratelimit-remaining-requests']).toBe('4');
    });

    it('counts estimated tokens against tpm and corrects them with adjust', async () => {
      const s = subject();
      const limits: RateLimits = { tpm: 1000 };
      const first = await a.admit(s, limits, 600);
      expect(first).toEqual({
        ok: true,
        headers: {
          'x-ratelimit-limit-tokens': '1000',
          'x-ratelimit-remaining-tokens': '400',
          'x-ratelimit-reset-tokens': '2m0s',
        },
      });
      const over = await b.admit(s, limits, 500);
      expect(over).toMatchObject({ ok: false, limitedBy: 'tokens', subject: s });
      expect(over.headers['x-ratelimit-remaining-tokens']).toBe('400');
      // The 600 weigh 500 (leaving room for 500) a sixth into the next window: 60 + 10 s.
      expect(over.retryAfterSeconds).toBe(70);

      await a.adjust(s, -300); // the request used 300, not 600
      const fits = await b.admit(s, limits, 500);
      expect(fits.ok).toBe(true);
      expect(fits.headers['x-ratelimit-remaining-tokens']).toBe('200');

      await b.adjust(s, -10_000); // clamped: never negative
      expect((await a.admit(s, limits, 0)).headers['x-ratelimit-remaining-tokens']).toBe('1000');
      await a.adjust(s, 250); // usage above the estimate counts too
      expect((await a.admit(s, limits, 0)).headers['x-ratelimit-remaining-tokens']).toBe('750');
    });

    it('refuses a request larger than the whole tpm with a one-window retry', async () => {
      const d = await a.admit(subject(), { tpm: 1000 }, 1500);
      expect(d).toMatchObject({ ok: false, retryAfterSeconds: 60, limitedBy: 'tokens' });
    });

    it('sends both header trios when rpm and tpm apply, and counts nothing when refused', async () => {
      const s = subject();
      const limits: RateLimits = { rpm: 10, tpm: 100 };
      const d = await a.admit(s, limits, 40);
      expect(d.headers).toEqual({
        'x-ratelimit-limit-requests': '10',
        'x-ratelimit-remaining-requests': '9',
        'x-ratelimit-reset-requests': '2m0s',
        'x-ratelimit-limit-tokens': '100',
        'x-ratelimit-remaining-tokens': '60',
        'x-ratelimit-reset-tokens': '2m0s',
      });
      expect((await b.admit(s, limits, 61)).ok).toBe(false);
      const after = await b.admit(s, limits, 60);
      expect(after.ok).toBe(true);
      expect(after.headers['x-ratelimit-remaining-requests']).toBe('8'); // the refusal was not counted
      expect(after.headers['x-ratelimit-remaining-tokens']).toBe('0');
    });

    it('keeps subjects independent', async () => {
      const [s1, s2] = [subject(), subject()];
      for (let i = 0; i < 2; i++) expect((await a.admit(s1, { rpm: 2 }, 0)).ok).toBe(true);
      expect((await b.admit(s1, { rpm: 2 }, 0)).ok).toBe(false);
      const other = await b.admit(s2, { rpm: 2 }, 0);
      expect(other.ok).toBe(true);
      expect(other.headers['x-ratelimit-remaining-requests']).toBe('1');
    });

    it('admits a key and its team together or not at all, with the tightest headers', async () => {
      const key = subject('key');
      const team = subject('team');
      const both = [
        { subject: key, limits: { rpm: 10, tpm: 1000 } },
        { subject: team, limits: { rpm: 2, tpm: 5000 } },
      ];
      const first = await a.admitMany(both, 100);
      expect(first.headers).toMatchObject({
        'x-ratelimit-remaining-requests': '1', // the team's
        'x-ratelimit-limit-requests': '2',
        'x-ratelimit-remaining-tokens': '900', // the key's
        'x-ratelimit-limit-tokens': '1000',
      });
      expect((await b.admitMany(both, 100)).ok).toBe(true);
      const refused = await a.admitMany(both, 100);
      expect(refused).toMatchObject({ ok: false, limitedBy: 'requests', subject: team });
      // The team's refusal cost the key nothing: 2 requests and 200 tokens counted, not 3 and 300.
      const keyOnly = await b.admit(key, { rpm: 10, tpm: 1000 }, 0);
      expect(keyOnly.headers['x-ratelimit-remaining-requests']).toBe('7');
      expect(keyOnly.headers['x-ratelimit-remaining-tokens']).toBe('800');
    });

    it('admits exactly rpm of many concurrent requests across instances', async () => {
      const s = subject();
      const results = await Promise.all(
        Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).admit(s, { rpm: 20, tpm: 10_000 }, 10)),
      );
      expect(results.filter((d) => d.ok)).toHaveLength(20);
      const remaining = results.filter((d) => d.ok).map((d) => d.headers['x-ratelimit-remaining-requests']);
      expect(new Set(remaining).size).toBe(20); // each admission saw a distinct count
    });
  });
}
