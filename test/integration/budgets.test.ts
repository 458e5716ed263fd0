/**
 * Budgets that cannot be overspent: many concurrent requests against a budget that covers a few of them.
 * Memory backend here; the Redis suite (two gateway instances sharing counters) runs when
 * QUORUM_TEST_REDIS_URL is set.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLimitBackends } from '../../src/limits/backends.ts';
import type { FakeServer } from '../fakes/harness.ts';
import { startFakeOpenAI } from '../fakes/openai.ts';
import { testClock } from '../unit/limits/clock.ts';
import { pricedUpstream, startGateway, type TestGateway } from './helpers/gateway.ts';
import { deleteKeys, uniquePrefix } from './limits/redis-env.ts';
import { backends } from './store/backends.ts';

const KEY = 'qk-budget-team-0001';
let fake: FakeServer;

const PRICE = { input: 10, output: 40 }; // USD per 1M tokens
const MAX_TOKENS = 100;

function config(url: string, limitUsd: number, extra: Record<string, unknown> = {}) {
  return {
    ...pricedUpstream(url, PRICE),
    teams: [{ id: 'research', budget: { limit_usd: limitUsd, period: 'total' } }],
    keys: [{ key: KEY, team: 'research', name: 'ci' }],
    ...extra,
  };
}

const body = JSON.stringify({
  model: 'priced',
  max_tokens: MAX_TOKENS,
  messages: [{ role: 'user', content: 'count the stars' }],
});

async function call(gw: TestGateway) {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    body,
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as any };
}

async function budget(gw: TestGateway) {
  const res = await fetch(`${gw.url}/v1/budget`, { headers: { authorization: `Bearer ${KEY}` } });
  return (await res.json()) as any;
}

beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.reset();
  // Each answer: 5 prompt + 60 completion tokens, less than the 100 reserved, as real answers are.
  fake.respond({ text: 'many', usage: { input: 5, output: 60 }, latencyMs: 15 });
});

const ACTUAL = (5 * PRICE.input + 60 * PRICE.output) / 1e6;

describe('budgets in memory (one instance)', () => {
  let gw: TestGateway;
  afterEach(async () => {
    await gw.close();
  });

  it('200 concurrent requests never take the team past its limit; refusals are budget_exceeded', async () => {
    // The worst case of one request is its prompt estimate plus 100 output tokens; the limit covers ~20.
    const sqlite = backends()
      .find((b) => b.name === 'sqlite')!
      .make();
    const store = await (await sqlite.fresh()).open();
    gw = await startGateway(config(fake.url, 0.1), { gateway: { ledger: store.ledger } });
    const results = await Promise.all(Array.from({ length: 200 }, () => call(gw)));
    const ok = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status !== 200);
    expect(ok.length).toBeGreaterThanOrEqual(20);
    for (const r of refused) {
      expect(r.status).toBe(429);
      expect(r.json.error).toMatchObject({ type: 'insufficient_quota', code: 'budget_exceeded' });
      expect(r.headers.get('x-should-retry')).toBe('false');
      expect(r.json.error.message).toMatch(/spent \$.* of its \$0\.10 total budget/);
    }
    const charged = ok.reduce((sum, r) => sum + Number(r.headers.get('x-quorum-cost-usd')), 0);
    expect(charged).toBeLessThanOrEqual(0.1);
    expect(charged).toBeCloseTo(ok.length * ACTUAL, 12);
    const b = await budget(gw);
    expect(b).toMatchObject({ team: 'research', period: 'total', limit_usd: 0.1, reserved_usd: 0 });
    expect(b.spent_usd).toBeCloseTo(charged, 12);
    expect(b.spent_usd).toBeLessThanOrEqual(0.1);
    expect(fake.received.length).toBe(ok.length);
    // The SQLite ledger holds one row per upstream call, summing to what was charged.
    await store.ledger.flush();
    const [row] = await store.spend.all({ team: 'research', group_by: 'team' });
    expect(row!.requests).toBe(ok.length);
    expect(row!.cost_usd).toBeCloseTo(charged, 12);
    await sqlite.cleanup();
  });

  it('GET /v1/budget reports spent, remaining and the reset time', async () => {
    gw = await startGateway(
      config(fake.url, 5, { teams: [{ id: 'research', budget: { limit_usd: 5, period: 'monthly' } }] }),
    );
    await call(gw);
    const b = await budget(gw);
    expect(b.period).toBe('monthly');
    expect(b.spent_usd).toBeCloseTo(ACTUAL, 12);
    expect(b.remaining_usd).toBeCloseTo(5 - ACTUAL, 12);
    expect(new Date(b.resets_at).getUTCDate()).toBe(1);
    expect(b.soft_limit_reached).toBe(false);
  });

  it('a soft limit logs once, counts a metric and marks GET /v1/budget, but refuses nothing', async () => {
    gw = await startGateway(
      config(fake.url, 5, {
        teams: [{ id: 'research', budget: { limit_usd: 5, period: 'monthly', soft_limit_usd: 0.001 } }],
      }),
    );
    const metric = async () => {
      const text = await (await fetch(`${gw.url}/metrics`)).text();
      return Number(/quorum_budget_soft_limit_crossings_total\{team="research"\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    const before = await metric();
    expect((await budget(gw)).soft_limit_reached).toBe(false);
    for (let i = 0; i < 3; i++) expect((await call(gw)).status).toBe(200);
    expect((await budget(gw)).soft_limit_reached).toBe(true);
    expect(await metric()).toBe(before + 1);
    expect(gw.logs().match(/crossed its soft budget limit/g)).toHaveLength(1);
  });

  it('GET /metrics counts requests, upstream calls, spend and refusals', async () => {
    gw = await startGateway(config(fake.url, 0.0042));
    expect((await call(gw)).status).toBe(200);
    expect((await call(gw)).status).toBe(429); // spent + its worst case no longer fits
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    expect(text).toMatch(/quorum_requests_total\{route="\/v1\/chat\/completions",status="200"\} \d+/);
    expect(text).toMatch(/quorum_upstream_calls_total\{model="priced",provider="up",status="200"\} \d+/);
    expect(text).toMatch(/quorum_cost_usd_total\{team="research",model="priced"\} [\d.e-]+/);
    expect(text).toMatch(/quorum_refusals_total\{team="research",reason="budget_exceeded"\} [1-9]/);
    expect(text).not.toMatch(/qk-budget/);
  });

  it('a client that disconnects mid-stream is charged for what was generated', async () => {
    gw = await startGateway(config(fake.url, 5));
    fake.respond({ text: Array.from({ length: 100 }, (_, i) => `w${i}`).join(' '), chunkDelayMs: 10 });
    const controller = new AbortController();
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
      body: JSON.stringify({
        model: 'priced',
        stream: true,
        max_tokens: 400,
        messages: [{ role: 'user', content: 'go' }],
      }),
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    for (let i = 0; i < 5; i++) await reader.read();
    controller.abort();
    await fake.received[0]!.done;
    // The settle follows the abort asynchronously: wait for it rather than for a fixed 100 ms.
    await vi.waitFor(async () => expect((await budget(gw)).reserved_usd).toBe(0));
    expect((await budget(gw)).spent_usd).toBeGreaterThan(0);
  });
});

describe('rate limits', () => {
  let gw: TestGateway;
  afterEach(async () => {
    await gw.close();
  });

  it('rpm: the request over the limit gets 429 rate_limit_exceeded with retry-after and x-ratelimit headers', async () => {
    const clock = testClock('2026-11-22T12:00:00.000Z');
    gw = await startGateway(config(fake.url, 5, { teams: [{ id: 'research', limits: { rpm: 3 } }] }), {
      gateway: { limits: createLimitBackends({ now: clock.now }) },
    });
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await call(gw));
    clock.advance(20_000);
    results.push(await call(gw));
    expect(results.slice(0, 3).map((r) => r.status)).toEqual([200, 200, 200]);
    expect(results.map((r) => r.headers.get('x-ratelimit-remaining-requests'))).toEqual(['2', '1', '0', '0']);
    expect(results[0]!.headers.get('x-ratelimit-limit-requests')).toBe('3');
    expect(results[0]!.headers.get('x-ratelimit-reset-requests')).toBe('1m0s'); // counted for a minute
    const refused = results[3]!;
    expect(refused.status).toBe(429);
    expect(refused.json.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded' });
    // The three counted at 0 s leave the sliding minute at 60 s: 40 s after the refusal.
    expect(refused.headers.get('retry-after')).toBe('40');
    expect(refused.headers.get('retry-after-ms')).toBe('40000');
    expect(refused.json.error.message).toContain('Retry after 40 s.');
    expect(fake.received).toHaveLength(3);
  });

  it('a request refused by its rate limit leaves no budget hold behind', async () => {
    gw = await startGateway(
      config(fake.url, 5, {
        teams: [{ id: 'research', budget: { limit_usd: 5, period: 'total' }, limits: { rpm: 1 } }],
      }),
    );
    expect((await call(gw)).status).toBe(200);
    expect((await call(gw)).status).toBe(429);
    const b = await budget(gw);
    expect(b.reserved_usd).toBe(0);
    expect(b.spent_usd).toBeCloseTo(ACTUAL, 12);
  });

  it('tpm counts the estimate before the call, so a request too large for the window is refused', async () => {
    gw = await startGateway(config(fake.url, 5, { teams: [{ id: 'research', limits: { tpm: 500 } }] }));
    const first = await call(gw); // ~10 prompt + 100 max_tokens estimated, 65 actual
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-limit-tokens')).toBe('500');
    const big = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
      body: JSON.stringify({
        model: 'priced',
        max_tokens: 1_000,
        messages: [{ role: 'user', content: 'x' }],
      }),
    });
    expect(big.status).toBe(429);
    const error = ((await big.json()) as any).error;
    expect(error.code).toBe('rate_limit_exceeded');
    // Over the whole tpm: no wait would admit it, so no retry time and no SDK retry.
    expect(error.message).toContain('can never fit');
    expect(big.headers.get('x-should-retry')).toBe('false');
    expect(big.headers.get('retry-after')).toBeNull();
  });

  it('a fan-out reserves its whole worst case: a budget that covers one call refuses a three-way panel', async () => {
    gw = await startGateway(
      config(fake.url, 0.005, {
        ensembles: { panel: { strategy: 'consensus', models: ['priced', 'priced', 'priced'] } },
      }),
    );
    expect((await call(gw)).status).toBe(200);
    const panel = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ model: 'panel', max_tokens: 100, messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(panel.status).toBe(429);
    expect(((await panel.json()) as any).error.code).toBe('budget_exceeded');
    expect(fake.received).toHaveLength(1);
  });
});

describe.runIf(process.env.QUORUM_TEST_REDIS_URL && process.env.QUORUM_TEST_POSTGRES_URL)(
  'two instances sharing Redis and Postgres',
  () => {
    it('stay within the limit together, and the shared ledger holds exactly what was charged', async () => {
      const pg = backends()
        .find((b) => b.name === 'postgres')!
        .make();
      const target = await pg.fresh();
      const prefix = uniquePrefix();
      const instance = async () => {
        const store = await target.open();
        const limits = createLimitBackends({
          redisUrl: process.env.QUORUM_TEST_REDIS_URL!,
          prefix,
          failMode: 'closed',
        });
        const gw = await startGateway(config(fake.url, 0.1), { gateway: { limits, ledger: store.ledger } });
        return { gw, store };
      };
      const [a, b] = [await instance(), await instance()];
      try {
        const results = await Promise.all(Array.from({ length: 200 }, (_, i) => call(i % 2 ? a.gw : b.gw)));
        const ok = results.filter((r) => r.status === 200);
        expect(ok.length).toBeGreaterThanOrEqual(20);
        for (const r of results.filter((x) => x.status !== 200))
          expect(r.json.error.code).toBe('budget_exceeded');
        const charged = ok.reduce((sum, r) => sum + Number(r.headers.get('x-quorum-cost-usd')), 0);
        expect(charged).toBeLessThanOrEqual(0.1);
        const [sa, sb] = [await budget(a.gw), await budget(b.gw)];
        expect(sa.spent_usd).toBeCloseTo(charged, 12);
        expect(sb.spent_usd).toBeCloseTo(charged, 12);
        await a.store.ledger.flush();
        await b.store.ledger.flush();
        const [row] = await a.store.spend.all({ team: 'research', group_by: 'team' });
        expect(row!.requests).toBe(ok.length);
        expect(row!.cost_usd).toBeCloseTo(charged, 12);
      } finally {
        await a.gw.close();
        await b.gw.close();
        await pg.cleanup();
        await deleteKeys(process.env.QUORUM_TEST_REDIS_URL!, prefix);
      }
    });
  },
);
