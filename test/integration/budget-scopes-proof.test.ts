/**
 * The scope guarantee under load: two gateway instances (each its own Redis client and its own Postgres
 * pool, one key prefix, one schema) take 500 concurrent requests spread over keys, end users and tags,
 * chat and streamed, while a key cap, an end-user cap, a tag cap, a team daily and a team monthly cap
 * each bind. No scope ends over its limit, every refusal names a scope that applies to it (and only
 * that scope's figures), and the ledger holds exactly what the fake upstream reported.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedAllScopes } from '../../src/boot/seed-scopes.ts';
import { createLimitBackends, type LimitBackends } from '../../src/limits/backends.ts';
import type { BudgetPolicy } from '../../src/limits/types.ts';
import type { Store } from '../../src/store/index.ts';
import type { FakeServer } from '../fakes/harness.ts';
import { startFakeOpenAI } from '../fakes/openai.ts';
import { pricedUpstream, startGateway, type TestGateway } from './helpers/gateway.ts';
import { deleteKeys, uniquePrefix } from './limits/redis-env.ts';
import { type Backend, backends } from './store/backends.ts';

const REDIS = process.env.QUORUM_TEST_REDIS_URL;
const POSTGRES = process.env.QUORUM_TEST_POSTGRES_URL;

const PRICE = { input: 10, output: 40 }; // USD per 1M tokens
/** Every call reports this usage: 5 × $10 + 60 × $40 per million = $0.00245. */
const CHARGE_NANOS = 2_450_000;
const nanos = (usd: number) => Math.round(usd * 1e9);

const KEYS = { open: 'qk-proof-open-0001', capped: 'qk-proof-capped-01' };
const USERS = Array.from({ length: 8 }, (_, i) => `user-${i}`);
const LIMITS = {
  daily: 0.2,
  /** With $0.5 already spent this month (before today), $0.3 remain: more than one day's 0.2, less than two. */
  monthly: 0.8,
  prior: 0.5,
  key: 0.05,
  user: 0.02,
  tag: 0.06,
};

function config(url: string) {
  return {
    ...pricedUpstream(url, PRICE),
    teams: [
      {
        id: 'proof',
        budgets: [
          { limit_usd: LIMITS.daily, period: 'daily' },
          { limit_usd: LIMITS.monthly, period: 'monthly' },
        ],
        end_users: { budget: { limit_usd: LIMITS.user, period: 'daily' } },
        tags: { 'project:apollo': { budget: { limit_usd: LIMITS.tag, period: 'monthly' } } },
      },
    ],
    keys: [
      { key: KEYS.open, team: 'proof', name: 'open' },
      {
        key: KEYS.capped,
        team: 'proof',
        name: 'capped',
        budget: { limit_usd: LIMITS.key, period: 'monthly' },
      },
    ],
  };
}

interface Sent {
  phase: 'a' | 'b';
  key: keyof typeof KEYS;
  user: string | null;
  apollo: boolean;
  stream: boolean;
  status: number;
  error?: { message: string; param: string | null; code: string };
  scopeHeader: string | null;
}

describe.runIf(REDIS && POSTGRES)('budget scopes: two instances, 500 concurrent requests', () => {
  let fake: FakeServer;
  let pg: Backend;
  const prefix = uniquePrefix();
  /** The limits' clock: the 15th of this month at 10:00 UTC, moved a day on for the second phase. */
  const base = new Date();
  const day15 = Date.UTC(base.getUTCFullYear(), base.getUTCMonth(), 15, 10);
  const realStart = Date.now();
  let dayOffset = 0;
  const now = () => day15 + dayOffset + (Date.now() - realStart);
  const instances: { gw: TestGateway; store: Store; limits: LimitBackends }[] = [];
  const sent: Sent[] = [];

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    fake.respond({ text: 'ok', usage: { input: 5, output: 60 } });
    pg = backends()
      .find((b) => b.name === 'postgres')!
      .make();
    const target = await pg.fresh();
    for (let i = 0; i < 2; i++) {
      const store = await target.open();
      const limits = createLimitBackends({ redisUrl: REDIS!, prefix, failMode: 'closed', now });
      await limits.ready();
      const gw = await startGateway(config(fake.url), { gateway: { limits, ledger: store.ledger } });
      instances.push({ gw, store, limits });
    }
    // Spend earlier this month (the 2nd), in the ledger: the start-up rebuild counts it in the monthly
    // window only, once, however many instances seed it.
    const { store } = instances[0]!;
    store.ledger.append({
      request_id: 'prior',
      team_id: 'proof',
      model: 'priced',
      provider: 'up',
      input_tokens: 0,
      output_tokens: 0,
      cost_nanos: nanos(LIMITS.prior),
      latency_ms: 1,
      status: 200,
      created_at: Date.UTC(base.getUTCFullYear(), base.getUTCMonth(), 2),
    });
    await store.ledger.flush();
    for (const i of instances) await seedAllScopes(i.gw.booted.gateway!.config, i.store, i.limits, now());
  }, 60_000);

  afterAll(async () => {
    for (const i of instances) await i.gw.close();
    for (const i of instances) await i.limits.close();
    await pg?.cleanup();
    await fake?.close();
    await deleteKeys(REDIS!, prefix);
  });

  async function send(n: number, phase: 'a' | 'b', i: number): Promise<Sent> {
    const key: keyof typeof KEYS = n % 4 === 0 ? 'capped' : 'open';
    const user = n % 5 === 4 ? null : USERS[n % USERS.length]!;
    const apollo = n % 3 === 0;
    const stream = n % 4 === 1;
    const gw = instances[i % 2]!.gw;
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS[key]}` },
      body: JSON.stringify({
        model: 'priced',
        max_tokens: 100,
        messages: [{ role: 'user', content: 'count the stars' }],
        ...(user ? { user } : {}),
        ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
        quorum: { tags: apollo ? { project: 'apollo' } : { project: 'zeus' } },
      }),
    });
    const text = await res.text(); // a stream is read to its end: its settle is then under way
    const out: Sent = {
      phase,
      key,
      user,
      apollo,
      stream,
      status: res.status,
      scopeHeader: res.headers.get('x-quorum-budget-scope'),
    };
    if (res.status !== 200) out.error = JSON.parse(text).error;
    else if (stream) expect(text).toContain('data: [DONE]');
    return out;
  }

  async function wave(phase: 'a' | 'b', from: number, count: number) {
    const results = await Promise.all(Array.from({ length: count }, (_, j) => send(from + j, phase, j)));
    sent.push(...results);
  }

  /** The windows every scope has, as the limits see them at the clock's current day. */
  function windows(): { name: string; policy: BudgetPolicy; applies: (s: Sent) => boolean }[] {
    const team = (period: 'daily' | 'monthly', limitUsd: number) => ({
      name: `team ${period}`,
      policy: { team: 'proof', limitUsd, period },
      applies: () => true,
    });
    return [
      team('daily', LIMITS.daily),
      team('monthly', LIMITS.monthly),
      {
        name: 'key',
        policy: { team: 'key/proof/static:capped', limitUsd: LIMITS.key, period: 'monthly' },
        applies: (s) => s.key === 'capped',
      },
      {
        name: 'tag',
        policy: { team: 'tag/proof/project:apollo', limitUsd: LIMITS.tag, period: 'monthly' },
        applies: (s) => s.apollo,
      },
      ...USERS.map((u) => ({
        name: `user ${u}`,
        policy: { team: `user/proof/${u}`, limitUsd: LIMITS.user, period: 'daily' as const },
        applies: (s: Sent) => s.user === u,
      })),
    ];
  }

  it('keeps every scope within its limit, names the scope of each refusal, and the ledger matches the upstream', async () => {
    // Phase A, one day: the team's daily cap, the key's, the tag's and each user's bind.
    await wave('a', 0, 125);
    await wave('a', 125, 125);
    const okA = sent.filter((s) => s.status === 200);
    for (const w of windows()) {
      const admitted = okA.filter(w.applies).length;
      const st = await instances[0]!.limits.budget.status(w.policy);
      const prior = w.name === 'team monthly' ? nanos(LIMITS.prior) : 0;
      expect(nanos(st.spentUsd), w.name).toBe(prior + admitted * CHARGE_NANOS);
      expect(st.reservedUsd, w.name).toBe(0);
      expect(nanos(st.spentUsd), w.name).toBeLessThanOrEqual(nanos(w.policy.limitUsd));
    }

    // Phase B, the next day: the daily windows start again; the month has less left than a day.
    dayOffset = 86_400_000;
    await wave('b', 250, 125);
    await wave('b', 375, 125);
    expect(sent).toHaveLength(500);

    const ok = sent.filter((s) => s.status === 200);
    const okB = ok.filter((s) => s.phase === 'b');
    for (const w of windows()) {
      const counted = w.policy.period === 'daily' ? okB : ok;
      const admitted = counted.filter(w.applies).length;
      const st = await instances[1]!.limits.budget.status(w.policy);
      const prior = w.name === 'team monthly' ? nanos(LIMITS.prior) : 0;
      expect(nanos(st.spentUsd), w.name).toBe(prior + admitted * CHARGE_NANOS);
      expect(nanos(st.spentUsd), w.name).toBeLessThanOrEqual(nanos(w.policy.limitUsd));
    }

    // Every refusal is a budget refusal naming a scope that applies to the request, in its param and
    // header, with that scope's figures only.
    const refused = sent.filter((s) => s.status !== 200);
    const tripped = new Map<string, number>();
    for (const r of refused) {
      expect(r.status).toBe(429);
      expect(r.error!.code).toBe('budget_exceeded');
      const scope = r.error!.param!;
      expect(r.scopeHeader).toBe(scope);
      const message = r.error!.message;
      let label = scope;
      if (scope === 'team') {
        expect(message).toMatch(/^Team `proof` has spent/);
        label = message.includes('daily budget') ? 'team daily' : 'team monthly';
        expect(message).toContain(label === 'team daily' ? '$0.20 daily' : '$0.80 monthly');
      } else if (scope === 'key') {
        expect(r.key).toBe('capped');
        expect(message).toMatch(/^This key has spent .* of its own \$0\.05 monthly budget/);
      } else if (scope === 'user') {
        expect(r.user).not.toBeNull();
        expect(message).toContain(`End user \`${r.user}\` has spent`);
        expect(message).toContain('$0.02 daily');
      } else {
        expect(scope).toBe('tag:project:apollo');
        expect(r.apollo).toBe(true);
        expect(message).toContain('$0.06 monthly');
      }
      // Only the tripped scope's figures: one budget is described, no other scope is named.
      expect(message.match(/ budget, \$[\d.e-]+ remaining;/g)).toHaveLength(1);
      expect(message.match(/Team `|This key|End user `|Requests tagged `/g)).toHaveLength(1);
      tripped.set(`${r.phase} ${label}`, (tripped.get(`${r.phase} ${label}`) ?? 0) + 1);
    }
    // Each cap bound: the daily on day one, the monthly on day two, and the key, users and tag.
    expect(tripped.get('a team daily')).toBeGreaterThan(0);
    expect(tripped.get('b team monthly')).toBeGreaterThan(0);
    const either = (label: string) => (tripped.get(`a ${label}`) ?? 0) + (tripped.get(`b ${label}`) ?? 0);
    expect(either('key')).toBeGreaterThan(0);
    expect(either('user')).toBeGreaterThan(0);
    expect(either('tag:project:apollo')).toBeGreaterThan(0);
    expect(tripped.get('b team daily')).toBeUndefined();

    // The ledger: one row per upstream call, each the upstream's reported usage priced, summing to
    // exactly what the fake was asked for (no call unrecorded, none recorded twice).
    for (const i of instances) await i.store.ledger.flush();
    const calls = fake.received.length;
    expect(calls).toBe(ok.length);
    const [row] = await instances[0]!.store.spend.all({ team: 'proof', group_by: 'team' });
    expect(row!.requests).toBe(ok.length + 1); // and the prior month's row
    expect(nanos(row!.cost_usd)).toBe(calls * CHARGE_NANOS + nanos(LIMITS.prior));
  }, 120_000);
});
