/**
 * Budget scopes through the real gateway (memory backend, a SQLite store, the admin API): each scope's
 * refusal names it (param and x-quorum-budget-scope) with its own figures only, on chat, streaming,
 * fan-out and embeddings; created keys get budgets over the admin API; GET /admin/budgets lists every
 * window; overrides raise a limit until they expire or are deleted, audited; start-up rebuilds each
 * scope's window from the ledger.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { openStore, type Store } from '../../src/store/index.ts';
import type { FakeServer } from '../fakes/harness.ts';
import { startFakeOpenAI } from '../fakes/openai.ts';
import { pricedUpstream, startGateway, type TestGateway } from './helpers/gateway.ts';

const MASTER = 'mk-budget-scopes-master';
const KEY = 'qk-scopes-team-0001';
const CAPPED = 'qk-scopes-capped-01';
/** Every call reports 5 prompt and 60 completion tokens: $0.00245 at these prices. */
const PRICE = { input: 10, output: 40 };

let fake: FakeServer;
let gw: TestGateway;
let dir: string;

function config(url: string, team: Record<string, unknown> = {}) {
  const up = pricedUpstream(url, PRICE);
  return {
    providers: up.providers,
    models: [
      ...up.models,
      {
        id: 'embed',
        provider: 'up',
        upstream: 'embed-up',
        context_window: 8191,
        price: { input: 100, output: 0 },
        capabilities: ['embeddings'],
      },
    ],
    ensembles: { panel: { strategy: 'consensus', models: ['priced', 'priced', 'priced'] } },
    teams: [
      {
        id: 'acme',
        budgets: [
          { limit_usd: 1, period: 'daily' },
          { limit_usd: 10, period: 'monthly' },
        ],
        end_users: { budget: { limit_usd: 0.006, period: 'daily' } },
        tags: { 'project:apollo': { budget: { limit_usd: 0.005, period: 'total' } } },
        ...team,
      },
    ],
    keys: [
      { key: KEY, team: 'acme', name: 'main' },
      { key: CAPPED, team: 'acme', name: 'capped', budgets: [{ limit_usd: 0.005, period: 'monthly' }] },
    ],
  };
}

async function chat(key: string, extra: Record<string, unknown> = {}) {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({
      model: 'priced',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'count the stars' }],
      ...extra,
    }),
  });
  const text = await res.text();
  return {
    status: res.status,
    scope: res.headers.get('x-quorum-budget-scope'),
    text,
    error: res.status === 200 ? undefined : (JSON.parse(text).error as Record<string, string>),
  };
}

async function admin(method: string, path: string, body?: unknown) {
  const res = await fetch(`${gw.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${MASTER}` },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as any };
}

async function boot(team: Record<string, unknown> = {}) {
  gw = await startGateway(config(fake.url, team), {
    store: 'open',
    masterKey: MASTER,
    env: { QUORUM_DATABASE_URL: `sqlite:${join(dir, 'q.db')}` },
  });
}

beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await fake.close();
});
afterEach(async () => {
  await gw?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A ledger row of team acme on `priced`, as an earlier request would have left it. */
function ledgerRow(store: Store, request_id: string, cost_nanos: number, extra: Record<string, unknown>) {
  store.ledger.append({
    request_id,
    team_id: 'acme',
    model: 'priced',
    provider: 'up',
    input_tokens: 1,
    output_tokens: 1,
    cost_nanos,
    latency_ms: 1,
    status: 200,
    ...extra,
  });
}

describe('budget scopes (memory)', () => {
  beforeAll(() => {
    fake.respond({ text: 'ok', usage: { input: 5, output: 60 } });
  });

  it('names the key, the end user and the tag that refuse, with that scope’s figures only', async () => {
    dir = mkdtempSync(join(tmpdir(), 'quorum-scopes-'));
    await boot();
    // Key: $0.005 a month holds one request's worst case (~$0.0042), not two at once.
    expect((await chat(CAPPED)).status).toBe(200);
    const key = await chat(CAPPED);
    expect(key.status).toBe(429);
    expect(key.error).toMatchObject({ code: 'budget_exceeded', type: 'insufficient_quota', param: 'key' });
    expect(key.scope).toBe('key');
    expect(key.error!.message).toMatch(
      /^This key has spent \$0\.00245 \(\$0\.00 reserved\) of its own \$0\.00500 monthly budget/,
    );
    expect(key.error!.message).not.toContain('$1.00'); // the team's daily limit is not this scope's
    // The other key of the team is not affected.
    expect((await chat(KEY)).status).toBe(200);

    // End user: $0.006 a day each; alice's second request would pass it, bob is untouched.
    expect((await chat(KEY, { user: 'alice' })).status).toBe(200);
    const user = await chat(KEY, { user: 'alice', stream: true, stream_options: { include_usage: true } });
    expect(user.status).toBe(429);
    expect([user.error!.param, user.scope]).toEqual(['user', 'user']);
    expect(user.error!.message).toContain('End user `alice` has spent $0.00245');
    expect(user.error!.message).toContain('The budget resets at');
    const bob = await chat(KEY, { user: 'bob', stream: true, stream_options: { include_usage: true } });
    expect(bob.status).toBe(200);
    expect(bob.text).toContain('data: [DONE]');

    // Tag: a fan-out's whole worst case (three calls) against the tag's $0.005.
    const panel = await chat(KEY, { model: 'panel', quorum: { tags: { project: 'apollo' } } });
    expect([panel.status, panel.error!.param, panel.scope]).toEqual([
      429,
      'tag:project:apollo',
      'tag:project:apollo',
    ]);
    expect(panel.error!.message).toMatch(/^Requests tagged `project:apollo` have spent \$0\.00 /);
    // Another value of the tag is another scope (none here).
    expect((await chat(KEY, { quorum: { tags: { project: 'zeus' } } })).status).toBe(200);

    // GET /admin/budgets: every scope's windows, with what each spent.
    const list = await admin('GET', '/admin/budgets?team=acme');
    expect(list.status).toBe(200);
    const find = (scope: string, id: string, period: string) =>
      list.json.data.find((w: any) => w.scope === scope && w.id === id && w.period === period);
    expect(find('team', 'acme', 'daily')).toMatchObject({ limit_usd: 1, reserved_usd: 0 });
    expect(find('team', 'acme', 'daily').spent_usd).toBeCloseTo(5 * 0.00245, 9);
    expect(find('team', 'acme', 'monthly').spent_usd).toBeCloseTo(5 * 0.00245, 9);
    expect(find('key', 'static:capped', 'monthly')).toMatchObject({ spent_usd: 0.00245, limit_usd: 0.005 });
    expect(find('user', 'alice', 'daily')).toMatchObject({ spent_usd: 0.00245 });
    expect(find('user', 'bob', 'daily')).toMatchObject({ spent_usd: 0.00245 });
    expect(find('tag:project:apollo', 'project:apollo', 'total')).toMatchObject({ spent_usd: 0 });
  });

  it('refuses embeddings by their tag budget too', async () => {
    dir = mkdtempSync(join(tmpdir(), 'quorum-scopes-'));
    await boot({ tags: { 'project:apollo': { budget: { limit_usd: 0.000001, period: 'daily' } } } });
    const res = await fetch(`${gw.url}/v1/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
      body: JSON.stringify({
        model: 'embed',
        input: 'a long enough sentence',
        quorum: { tags: { project: 'apollo' } },
      }),
    });
    expect(res.status).toBe(429);
    expect(res.headers.get('x-quorum-budget-scope')).toBe('tag:project:apollo');
  });

  it('sets a created key’s budgets over the admin API, and audits it', async () => {
    dir = mkdtempSync(join(tmpdir(), 'quorum-scopes-'));
    await boot();
    const created = await admin('POST', '/admin/keys', { team: 'acme', name: 'bot' });
    expect(created.status).toBe(201);
    expect((await chat(created.json.key)).status).toBe(200);
    const put = await admin('PUT', `/admin/keys/${created.json.id}/budgets`, {
      budgets: [{ limit_usd: 0.005, period: 'daily' }],
    });
    expect(put.status).toBe(200);
    // The window counts what the key already spent today (rebuilt from the ledger), so one more
    // worst case does not fit.
    expect(put.json.data[0]).toMatchObject({ scope: 'key', period: 'daily', spent_usd: 0.00245 });
    const refused = await chat(created.json.key);
    expect([refused.status, refused.error!.param]).toEqual([429, 'key']);
    expect((await admin('GET', `/admin/keys?team=acme`)).json.data[0].budgets).toEqual([
      { limit_usd: 0.005, period: 'daily' },
    ]);
    const audit = await admin('GET', '/admin/audit?action=key.budgets');
    expect(audit.json.data[0]).toMatchObject({ target: `key:${created.json.id}`, actor: 'master_key' });
    expect(JSON.stringify(audit.json.data[0])).not.toContain(created.json.key);
    expect((await admin('PUT', '/admin/keys/key_nope/budgets', { budgets: [] })).status).toBe(404);
    expect((await admin('PUT', '/admin/keys/static:capped/budgets', { budgets: [] })).status).toBe(409);
  });

  it('an override raises a scope’s limit until it expires or is deleted, audited', async () => {
    dir = mkdtempSync(join(tmpdir(), 'quorum-scopes-'));
    await boot();
    expect((await chat(KEY, { user: 'carol' })).status).toBe(200);
    expect((await chat(KEY, { user: 'carol' })).error?.param).toBe('user');

    const bad = await admin('POST', '/admin/overrides', {
      scope: 'user',
      team: 'acme',
      limit_usd: 1,
      expires_at: Date.now() + 60_000,
      reason: 'x',
    });
    expect([bad.status, bad.json.error.param]).toEqual([400, 'id']);
    const past = await admin('POST', '/admin/overrides', {
      scope: 'user',
      team: 'acme',
      id: 'carol',
      limit_usd: 1,
      expires_at: '2020-01-01',
      reason: 'x',
    });
    expect([past.status, past.json.error.param]).toEqual([400, 'expires_at']);

    const made = await admin('POST', '/admin/overrides', {
      scope: 'user',
      team: 'acme',
      id: 'carol',
      period: 'daily',
      limit_usd: 0.02,
      expires_at: new Date(Date.now() + 3_600_000).toISOString(),
      reason: 'demo day',
    });
    expect(made.status).toBe(201);
    expect(made.json).toMatchObject({
      scope: 'user',
      scope_id: 'carol',
      limit_usd: 0.02,
      reason: 'demo day',
    });
    expect((await chat(KEY, { user: 'carol' })).status).toBe(200);
    // Only carol's window: dave keeps the team default.
    expect((await chat(KEY, { user: 'dave' })).status).toBe(200);
    expect((await chat(KEY, { user: 'dave' })).error?.param).toBe('user');
    const listed = await admin('GET', '/admin/overrides');
    expect(listed.json.data.map((o: any) => o.id)).toEqual([made.json.id]);
    const budgets = await admin('GET', '/admin/budgets?team=acme');
    expect(budgets.json.data.find((w: any) => w.id === 'carol')).toMatchObject({
      limit_usd: 0.02,
      configured_limit_usd: 0.006,
    });

    const ended = await admin('DELETE', `/admin/overrides/${made.json.id}`);
    expect(ended.status).toBe(200);
    expect(ended.json.revoked_at).not.toBeNull();
    expect((await chat(KEY, { user: 'carol' })).error?.param).toBe('user');
    expect((await admin('GET', '/admin/overrides')).json.data).toEqual([]);
    expect((await admin('DELETE', '/admin/overrides/ovr_nope')).status).toBe(404);

    // One that expires by itself, with no request or reload to end it.
    const brief = await admin('POST', '/admin/overrides', {
      scope: 'team',
      team: 'acme',
      limit_usd: 50,
      expires_at: Date.now() + 1_500,
      reason: 'brief',
    });
    expect(brief.status).toBe(201);
    expect((await admin('GET', '/admin/budgets?team=acme')).json.data[0].limit_usd).toBe(50);
    await vi.waitFor(
      async () => {
        expect((await admin('GET', '/admin/budgets?team=acme')).json.data[0].limit_usd).toBe(1);
      },
      { timeout: 5_000, interval: 200 },
    );

    const audit = await admin('GET', '/admin/audit');
    const actions = audit.json.data.map((e: any) => e.action);
    expect(actions.filter((a: string) => a.startsWith('budget_override.'))).toEqual([
      'budget_override.create',
      'budget_override.delete',
      'budget_override.create',
    ]);
    const entry = audit.json.data.find((e: any) => e.target === `budget_override:${made.json.id}`);
    expect(entry.details).toMatchObject({ reason: 'demo day', limit_usd: 0.02, scope: 'user' });
  });

  it('holds the end user on the Messages and Responses surfaces too, and names the scope there', async () => {
    dir = mkdtempSync(join(tmpdir(), 'quorum-scopes-'));
    await boot();
    const before = fake.received.length;
    // alice spends $0.00245 of her $0.006 today through chat; another worst case (~$0.0042) does not fit.
    expect((await chat(KEY, { user: 'alice' })).status).toBe(200);
    const post = async (path: string, body: Record<string, unknown>) => {
      const res = await fetch(`${gw.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
        body: JSON.stringify(body),
      });
      return {
        status: res.status,
        scope: res.headers.get('x-quorum-budget-scope'),
        json: (await res.json()) as any,
      };
    };
    const message = (user: string) =>
      post('/v1/messages', {
        model: 'priced',
        max_tokens: 100,
        metadata: { user_id: user },
        messages: [{ role: 'user', content: 'count the stars' }],
      });
    const refused = await message('alice');
    expect([refused.status, refused.scope]).toEqual([429, 'user']);
    expect(JSON.stringify(refused.json)).toContain('End user `alice` has spent $0.00245');
    expect((await message('bob')).status).toBe(200);

    const response = await post('/v1/responses', {
      model: 'priced',
      max_output_tokens: 100,
      user: 'alice',
      input: 'count the stars',
    });
    expect([response.status, response.scope, response.json.error?.param]).toEqual([429, 'user', 'user']);
    // Nothing refused reached the upstream: one chat for alice, one message for bob.
    expect(fake.received.length - before).toBe(2);
  });

  it('start-up rebuilds each scope’s windows from the ledger: a user, a key and a tag that spent before', async () => {
    dir = mkdtempSync(join(tmpdir(), 'quorum-scopes-'));
    const store = await openStore(`sqlite:${join(dir, 'q.db')}`);
    const row = (request_id: string, extra: Record<string, unknown>, cost_nanos = 5_000_000) =>
      ledgerRow(store, request_id, cost_nanos, extra);
    row('r1', { end_user: 'erin' }); // $0.005 of erin's $0.006 today
    row('r2', { key_id: 'static:capped' }); // $0.005: the key's whole month
    row('r3', { tags: { project: 'apollo' } }, 4_000_000);
    row('r4', { end_user: 'frank', created_at: Date.now() - 3 * 86_400_000 }); // another day: not today's
    await store.close();

    await boot();
    expect((await chat(KEY, { user: 'erin' })).error?.param).toBe('user');
    expect((await chat(CAPPED)).error?.param).toBe('key');
    expect((await chat(KEY, { quorum: { tags: { project: 'apollo' } } })).error?.param).toBe(
      'tag:project:apollo',
    );
    expect((await chat(KEY, { user: 'frank' })).status).toBe(200);
    const budgets = await admin('GET', '/admin/budgets?team=acme');
    const team = budgets.json.data.filter((w: any) => w.scope === 'team');
    // The team's windows count every row once: $0.019 before, plus frank's request today.
    expect(team.find((w: any) => w.period === 'daily').spent_usd).toBeCloseTo(0.014 + 0.00245, 9);
  });

  it('fires alert thresholds per scope and window: an end user’s daily and a tag’s total', async () => {
    dir = mkdtempSync(join(tmpdir(), 'quorum-scopes-'));
    await boot({
      end_users: { budget: { limit_usd: 0.006, period: 'daily', alerts: [40], soft_limit_usd: 0.002 } },
      tags: { 'project:apollo': { budgets: [{ limit_usd: 0.01, period: 'total', alerts: [20, 90] }] } },
    });
    expect((await chat(KEY, { user: 'gina', quorum: { tags: { project: 'apollo' } } })).status).toBe(200);
    await vi.waitFor(
      async () => {
        const alerts = (await admin('GET', '/admin/alerts')).json.data;
        const seen = alerts.map((a: any) => `${a.scope}:${a.scope_id}|${a.window}|${a.threshold_percent}`);
        expect(seen.sort()).toEqual([
          'tag:project:apollo|total|20',
          'user:gina|daily|40',
          'user:gina|daily|null',
        ]);
      },
      { timeout: 10_000, interval: 100 },
    );
  });

  it('rate-limits each end user and tag on its own, and GET /v1/budget lists the caller’s scopes', async () => {
    dir = mkdtempSync(join(tmpdir(), 'quorum-scopes-'));
    await boot({
      end_users: { budget: { limit_usd: 0.006, period: 'daily' }, limits: { rpm: 1 } },
      tags: {
        team: { limits: { rpm: 2 } },
        'project:apollo': { budget: { limit_usd: 0.005, period: 'total' } },
      },
    });
    expect((await chat(KEY, { user: 'hal' })).status).toBe(200);
    const limited = await chat(KEY, { user: 'hal' });
    expect([limited.status, limited.error!.code]).toEqual([429, 'rate_limit_exceeded']);
    expect(limited.error!.message).toContain('Rate limit reached for end user `hal`');
    expect((await chat(KEY, { user: 'ivy' })).status).toBe(200);
    // `team` with any value: one counter for every request carrying the tag.
    expect((await chat(KEY, { quorum: { tags: { team: 'a' } } })).status).toBe(200);
    expect((await chat(KEY, { quorum: { tags: { team: 'b' } } })).status).toBe(200);
    const tagged = await chat(KEY, { quorum: { tags: { team: 'c' } } });
    expect(tagged.error!.message).toContain('Rate limit reached for requests tagged `team`');

    const res = await fetch(`${gw.url}/v1/budget?user=hal`, {
      headers: { authorization: `Bearer ${CAPPED}` },
    });
    const body = (await res.json()) as any;
    expect(body).toMatchObject({ team: 'acme', period: 'daily', limit_usd: 1 });
    expect(body.scopes.map((s: any) => `${s.scope} ${s.id} ${s.period}`)).toEqual([
      'team acme daily',
      'team acme monthly',
      'key static:capped monthly',
      'user hal daily',
      'tag:project:apollo project:apollo total',
    ]);
    expect(body.scopes.find((s: any) => s.scope === 'user')).toMatchObject({
      spent_usd: 0.00245,
      limit_usd: 0.006,
      soft_limit_usd: null,
      soft_limit_reached: false,
    });
  });

  it('releases every window on a failed call, and charges every window for a stream the client dropped', async () => {
    dir = mkdtempSync(join(tmpdir(), 'quorum-scopes-'));
    await boot();
    fake.enqueue({ error: { status: 400, message: 'bad request upstream' } });
    const failed = await chat(CAPPED, { user: 'jo', quorum: { tags: { project: 'apollo' } } });
    expect(failed.status).toBe(400);
    const windows = async () =>
      ((await admin('GET', '/admin/budgets?team=acme')).json.data as any[]).filter(
        (w) => w.id === 'jo' || w.id === 'static:capped' || w.id === 'project:apollo' || w.id === 'acme',
      );
    for (const w of await windows()) expect([w.id, w.spent_usd, w.reserved_usd]).toEqual([w.id, 0, 0]);

    // A stream cut off by the upstream after two chunks: charged (its prompt and what came) in every
    // window it was held in, never left held.
    fake.enqueue({ text: 'one two three four five six', chunkDelayMs: 5, dropAfterChunks: 2 });
    await chat(CAPPED, {
      user: 'jo',
      stream: true,
      stream_options: { include_usage: true },
      quorum: { tags: { project: 'apollo' } },
    });
    await vi.waitFor(async () => {
      const all = await windows();
      expect(all).toHaveLength(5);
      const spent = new Set(all.map((w) => w.spent_usd));
      expect(spent.size).toBe(1);
      expect([...spent][0]).toBeGreaterThan(0);
      for (const w of all) expect(w.reserved_usd).toBe(0);
    });
  });

  it('a window whose period changed in the config is rebuilt from the ledger rows of its new period', async () => {
    dir = mkdtempSync(join(tmpdir(), 'quorum-scopes-'));
    const now = new Date();
    const store = await openStore(`sqlite:${join(dir, 'q.db')}`);
    const row = (request_id: string, created_at: number, cost_nanos: number) =>
      ledgerRow(store, request_id, cost_nanos, { created_at });
    row('today', Date.now() - 1000, 3_000_000);
    row('last-year', Date.UTC(now.getUTCFullYear() - 1, 0, 1), 7_000_000);
    await store.close();
    const spent = async () =>
      (await admin('GET', '/admin/budgets?team=acme')).json.data.find((w: any) => w.scope === 'team')
        .spent_usd;

    await boot({ budgets: [{ limit_usd: 1, period: 'daily' }] });
    expect(await spent()).toBe(0.003);
    await gw.close();
    await boot({ budgets: [{ limit_usd: 1, period: 'total' }] });
    expect(await spent()).toBe(0.01);
    await gw.close();
    // Back to daily, restarted twice: today's rows, counted once.
    await boot({ budgets: [{ limit_usd: 1, period: 'daily' }] });
    expect(await spent()).toBe(0.003);
  });

  it('a team made over the admin API takes several windows, end-user and tag budgets too', async () => {
    dir = mkdtempSync(join(tmpdir(), 'quorum-scopes-'));
    await boot();
    const made = await admin('POST', '/admin/teams', {
      id: 'api-team',
      budget: { limit_usd: 10, period: 'monthly' },
      budgets: [{ limit_usd: 0.008, period: 'daily' }],
      end_users: { budget: { limit_usd: 0.005, period: 'daily' } },
      tags: { 'project:x': { budget: { limit_usd: 0.001, period: 'total' } } },
    });
    expect(made.status).toBe(201);
    expect(made.json.budgets).toEqual([{ limit_usd: 0.008, period: 'daily' }]);
    const { json: key } = await admin('POST', '/admin/keys', { team: 'api-team', name: 'k' });
    expect((await chat(key.key, { quorum: { tags: { project: 'x' } } })).error?.param).toBe('tag:project:x');
    expect((await chat(key.key, { user: 'kim' })).status).toBe(200);
    expect((await chat(key.key, { user: 'kim' })).error?.param).toBe('user');
    expect((await chat(key.key)).status).toBe(200);
    const daily = await chat(key.key);
    expect([daily.error?.param, daily.error?.message?.includes('$0.00800 daily budget')]).toEqual([
      'team',
      true,
    ]);

    const patched = await admin('PATCH', '/admin/teams/api-team', { budgets: null, end_users: null });
    expect(patched.status).toBe(200);
    expect(patched.json.budgets).toBeUndefined();
    // Team settings read from the store are reused for up to 2 s.
    await vi.waitFor(async () => expect((await chat(key.key, { user: 'kim' })).status).toBe(200), {
      timeout: 5_000,
      interval: 100,
    });
    const listed = (await admin('GET', '/admin/budgets?team=api-team')).json.data;
    expect(listed.map((w: any) => `${w.scope} ${w.period}`)).toEqual(['team monthly', 'tag:project:x total']);
    const audit = await admin('GET', '/admin/audit?action=team.update');
    expect(audit.json.data[0].details.before.budgets).toEqual([{ limit_usd: 0.008, period: 'daily' }]);
    const bad = await admin('POST', '/admin/teams', {
      id: 'bad',
      tags: { 'a"b': { budget: { limit_usd: 1 } } },
    });
    expect(bad.status).toBe(400);
  });
});
