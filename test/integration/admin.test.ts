/**
 * The admin API on a real server with a SQLite store: master-key auth, teams, keys shown
 * once and stored hashed, revocation, and spend reports from the ledger.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config/index.ts';
import { Gateway } from '../../src/gateway/index.ts';
import { createApp } from '../../src/server/app.ts';
import { registerAdmin } from '../../src/server/routes/admin/index.ts';
import { hashKey, openStore, type Store } from '../../src/store/index.ts';
import { createLogger } from '../../src/telemetry/index.ts';

const MASTER = 'mk-admin-test-master-key';
const TEAM_KEY = 'sk-research-static-key';
const CONFIG = {
  teams: [{ id: 'research', budget: { limit_usd: 25, period: 'monthly' }, models: ['demo-fast'] }],
  keys: [{ key: TEAM_KEY, team: 'research', name: 'research-ci' }],
};

interface Server {
  url: string;
  close(): Promise<void>;
}

const dir = mkdtempSync(join(tmpdir(), 'quorum-admin-'));
let store: Store;
let gateway: Gateway;
let gw: Server;
let closed: Server;

/** Starts the app on a free port; admin routes come from createApp once it wires them, else from here. */
async function start(masterKey: string | undefined): Promise<Server> {
  const logger = createLogger({
    level: 'silent',
    destination: new Writable({ write: (_c, _e, done) => done() }),
  });
  const { app } = createApp({ gateway, logger, store, ...(masterKey ? { masterKey } : {}) });
  if (!app.routes.some((r) => r.path.startsWith('/admin/')))
    registerAdmin(app, { gateway, store, masterKey });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        (server as unknown as { closeAllConnections(): void }).closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function call(method: string, path: string, body?: unknown, key: string | null = MASTER, base = gw) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  const res = await fetch(base.url + path, {
    method,
    headers,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as any };
}

const error = (type: string, code: string, param?: string | null) => ({
  error: expect.objectContaining({ type, code, ...(param === undefined ? {} : { param }) }),
});

beforeAll(async () => {
  const path = join(dir, 'quorum.yaml');
  writeFileSync(path, stringify(CONFIG));
  store = await openStore(`sqlite:${join(dir, 'q.db')}`);
  gateway = await Gateway.create(loadConfig({ path, env: {} }), { ledger: store.ledger });
  gw = await start(MASTER);
  closed = await start(undefined);
});

afterAll(async () => {
  await gw?.close();
  await closed?.close();
  await gateway?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('admin authentication', () => {
  it('refuses a request without a key, or with a wrong one, as 401 invalid_api_key', async () => {
    const none = await call('GET', '/admin/teams', undefined, null);
    expect(none.status).toBe(401);
    expect(none.json).toEqual(error('authentication_error', 'invalid_api_key'));
    expect(none.json.error.message).toContain('QUORUM_MASTER_KEY');

    const wrong = await call('GET', '/admin/teams', undefined, `${MASTER}x`);
    expect(wrong.status).toBe(401);
    expect(wrong.json).toEqual(error('authentication_error', 'invalid_api_key'));
  });

  it('accepts the master key as a bearer token or in x-api-key', async () => {
    expect((await call('GET', '/admin/teams')).status).toBe(200);
    const res = await fetch(`${gw.url}/admin/teams`, { headers: { 'x-api-key': MASTER } });
    expect(res.status).toBe(200);
  });

  it('refuses a team key with 403 admin_only', async () => {
    const res = await call('GET', '/admin/keys', undefined, TEAM_KEY);
    expect(res.status).toBe(403);
    expect(res.json).toEqual(error('permission_error', 'admin_only'));
  });

  it('answers 401 to every admin call, naming QUORUM_MASTER_KEY, when no master key is configured', async () => {
    for (const key of [null, MASTER, TEAM_KEY]) {
      const res = await call('GET', '/admin/teams', undefined, key, closed);
      expect(res.status).toBe(401);
      expect(res.json.error.code).toBe('invalid_api_key');
      expect(res.json.error.message).toMatch(/set QUORUM_MASTER_KEY/);
    }
  });

  it('documents every admin route in /openapi.json', async () => {
    const doc = (await (await fetch(`${gw.url}/openapi.json`)).json()) as any;
    expect(Object.keys(doc.paths['/admin/teams'])).toEqual(['post', 'get']);
    expect(Object.keys(doc.paths['/admin/teams/{id}'])).toEqual(['get', 'patch', 'delete']);
    expect(Object.keys(doc.paths['/admin/keys'])).toEqual(['post', 'get']);
    expect(Object.keys(doc.paths['/admin/keys/{id}'])).toEqual(['delete']);
    expect(doc.paths['/admin/spend'].get.parameters.map((p: any) => p.name)).toEqual([
      'group_by',
      'team',
      'key',
      'model',
      'user',
      'tag',
      'surface',
      'run',
      'step',
      'from',
      'to',
      'limit',
      'cursor',
      'format',
    ]);
  });
});

describe('teams', () => {
  it('creates a team (201) with defaults filled in and its current-period spend', async () => {
    const res = await call('POST', '/admin/teams', {
      id: 'ops',
      budget: { limit_usd: 10 },
      limits: { rpm: 60 },
      models: ['demo-fast', 'auto'],
    });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({
      id: 'ops',
      source: 'api',
      budget: { limit_usd: 10, period: 'monthly' },
      limits: { rpm: 60 },
      models: ['demo-fast', 'auto'],
      spent_usd: 0,
      reserved_usd: 0,
      remaining_usd: 10,
      soft_limit_reached: false,
    });
    expect(res.json.created_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(res.json.resets_at).toMatch(/^\d{4}-\d\d-01T00:00:00/);
  });

  it('refuses a duplicate id, and an id the config file defines, with 409 conflict param id', async () => {
    const dup = await call('POST', '/admin/teams', { id: 'ops' });
    expect(dup.status).toBe(409);
    expect(dup.json).toEqual(error('invalid_request_error', 'conflict', 'id'));
    expect(dup.json.error.message).toContain('already exists');

    const cfg = await call('POST', '/admin/teams', { id: 'research' });
    expect(cfg.status).toBe(409);
    expect(cfg.json).toEqual(error('invalid_request_error', 'conflict', 'id'));
    expect(cfg.json.error.message).toContain('quorum.yaml');
  });

  it.each([
    [{ id: 'x', budget: { limit_usd: -1 } }, 'budget.limit_usd'],
    [{ id: 'x', budget: { limit_usd: 1, period: 'hourly' } }, 'budget.period'],
    [{ id: 'x', budjet: { limit_usd: 1 } }, 'budjet'],
    [{ id: 'x', limits: { rpm: 1.5 } }, 'limits.rpm'],
    [{ id: 'x', models: ['demo-fast', 'gpt-9'] }, 'models[1]'],
    [{ id: 'a b' }, 'id'],
    [{}, 'id'],
  ])('refuses an invalid team %j with 400 naming %s', async (body, param) => {
    const res = await call('POST', '/admin/teams', body);
    expect(res.status).toBe(400);
    expect(res.json).toEqual(error('invalid_request_error', 'invalid_body', param));
    expect((await call('GET', '/admin/teams/x')).status).toBe(404);
  });

  it('refuses malformed JSON with 400 and a null param', async () => {
    const res = await call('POST', '/admin/teams', '{"id": ');
    expect(res.status).toBe(400);
    expect(res.json).toEqual(error('invalid_request_error', 'invalid_body', null));
  });

  it('lists config-file and API teams by id, each with its source and spend', async () => {
    const res = await call('GET', '/admin/teams');
    expect(res.status).toBe(200);
    expect(res.json.object).toBe('list');
    const byId = new Map(res.json.data.map((t: any) => [t.id, t]));
    expect(res.json.data.map((t: any) => t.id)).toEqual([...byId.keys()].sort());
    expect(byId.get('research')).toMatchObject({
      source: 'config',
      budget: { limit_usd: 25, period: 'monthly' },
      models: ['demo-fast'],
      spent_usd: 0,
      remaining_usd: 25,
    });
    expect(byId.get('ops')).toMatchObject({ source: 'api', spent_usd: 0 });
  });

  it('gets one team, and 404s an unknown one', async () => {
    expect(await call('GET', '/admin/teams/ops')).toMatchObject({ status: 200, json: { id: 'ops' } });
    const missing = await call('GET', '/admin/teams/nope');
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual(error('invalid_request_error', 'not_found', 'id'));
  });

  it('patches a team as a merge patch: changed fields change, null removes, the rest stays', async () => {
    const res = await call('PATCH', '/admin/teams/ops', { budget: { limit_usd: 20 }, limits: null });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ budget: { limit_usd: 20, period: 'monthly' }, remaining_usd: 20 });
    expect(res.json.limits).toBeUndefined();
    expect(res.json.models).toEqual(['demo-fast', 'auto']);
    expect((await call('GET', '/admin/teams/ops')).json.budget.limit_usd).toBe(20);

    const bad = await call('PATCH', '/admin/teams/ops', { budget: { period: 'yearly' } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.param).toBe('budget.period');
  });

  it("keeps a budget's alert thresholds ascending, patches and removes them, and refuses bad ones", async () => {
    const set = await call('PATCH', '/admin/teams/ops', { budget: { alerts: [95, 50, 80, 50] } });
    expect(set.status).toBe(200);
    expect(set.json.budget).toMatchObject({ limit_usd: 20, alerts: [50, 80, 95] });
    const kept = await call('PATCH', '/admin/teams/ops', { budget: { limit_usd: 30 } });
    expect(kept.json.budget.alerts).toEqual([50, 80, 95]);
    const removed = await call('PATCH', '/admin/teams/ops', { budget: { alerts: null } });
    expect(removed.json.budget).toEqual({ limit_usd: 30, period: 'monthly' });
    for (const alerts of [[0], [101], [-5], ['50'], Array.from({ length: 11 }, (_, i) => i + 1)]) {
      const bad = await call('PATCH', '/admin/teams/ops', { budget: { alerts } });
      expect(bad.status).toBe(400);
      expect(bad.json.error.param).toMatch(/^budget\.alerts/);
    }
    expect((await call('PATCH', '/admin/teams/ops', { budget: { limit_usd: 20 } })).status).toBe(200);
  });

  it('counts what a team already spent this period once it is given a budget', async () => {
    await call('POST', '/admin/teams', { id: 'late' });
    store.ledger.append({
      request_id: 'req-late',
      team_id: 'late',
      model: 'demo-fast',
      provider: 'demo',
      input_tokens: 10,
      output_tokens: 10,
      cost_nanos: 500_000_000,
      latency_ms: 5,
      status: 200,
    });
    await store.ledger.flush();
    const res = await call('PATCH', '/admin/teams/late', { budget: { limit_usd: 2, period: 'daily' } });
    expect(res.json).toMatchObject({ spent_usd: 0.5, remaining_usd: 1.5 });
    await call('DELETE', '/admin/teams/late');
  });

  it('keeps config-file teams read-only: PATCH and DELETE are 409 conflict naming the file', async () => {
    for (const method of ['PATCH', 'DELETE']) {
      const res = await call(
        method,
        '/admin/teams/research',
        method === 'PATCH' ? { models: null } : undefined,
      );
      expect(res.status).toBe(409);
      expect(res.json.error.code).toBe('conflict');
      expect(res.json.error.message).toMatch(/quorum\.yaml/);
    }
    expect((await call('GET', '/admin/teams/research')).json.models).toEqual(['demo-fast']);
  });

  it('404s a PATCH or DELETE of an unknown team', async () => {
    expect((await call('PATCH', '/admin/teams/nope', { models: null })).status).toBe(404);
    expect((await call('DELETE', '/admin/teams/nope')).status).toBe(404);
  });

  it('refuses to delete a team with active keys until they are revoked', async () => {
    await call('POST', '/admin/teams', { id: 'temp' });
    const key = (await call('POST', '/admin/keys', { team: 'temp', name: 'k' })).json;

    const refused = await call('DELETE', '/admin/teams/temp');
    expect(refused.status).toBe(409);
    expect(refused.json.error.code).toBe('conflict');
    expect(refused.json.error.message).toMatch(/1 active key; revoke it/);

    expect((await call('DELETE', `/admin/keys/${key.id}`)).status).toBe(200);
    const deleted = await call('DELETE', '/admin/teams/temp');
    expect(deleted).toEqual({ status: 200, json: { id: 'temp', object: 'team', deleted: true } });
    expect((await call('GET', '/admin/teams/temp')).status).toBe(404);
  });
});

describe('keys', () => {
  it('creates a key (201) shown once and stored only as a hash', async () => {
    const res = await call('POST', '/admin/keys', { team: 'ops', name: 'ci', limits: { rpm: 5 } });
    expect(res.status).toBe(201);
    const created = res.json;
    expect(created).toMatchObject({
      team: 'ops',
      name: 'ci',
      status: 'active',
      expires_at: null,
      revoked_at: null,
      limits: { rpm: 5 },
    });
    expect(created.key).toMatch(/^qk-[A-Za-z0-9_-]{43}$/);
    expect(created.prefix).toBe(created.key.slice(0, 10));

    const listed = await call('GET', '/admin/keys?team=ops');
    expect(listed.json.data.find((k: any) => k.id === created.id)).toMatchObject({ prefix: created.prefix });
    expect(JSON.stringify(listed.json)).not.toContain(created.key.slice(10));
    expect(listed.json.data.every((k: any) => !('key' in k))).toBe(true);

    const row = await store.db
      .selectFrom('keys')
      .selectAll()
      .where('id', '=', created.id)
      .executeTakeFirstOrThrow();
    expect(row.key_hash).toBe(hashKey(store.pepper, created.key));
    expect(Object.values(row)).not.toContain(created.key);
  });

  it('lets a new key call the API at once, but never the admin API', async () => {
    const { key } = (await call('POST', '/admin/keys', { team: 'ops', name: 'app' })).json;
    const models = await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    expect(models.status).toBe(200);
    const admin = await call('GET', '/admin/teams', undefined, key);
    expect(admin.status).toBe(403);
    expect(admin.json.error.code).toBe('admin_only');
  });

  it('creates keys for a config-file team', async () => {
    const res = await call('POST', '/admin/keys', { team: 'research', name: 'notebook' });
    expect(res.status).toBe(201);
    expect(res.json.team).toBe('research');
  });

  it('revokes a key (404 for an unknown id); the key stops working on the next request', async () => {
    const { id, key } = (await call('POST', '/admin/keys', { team: 'ops', name: 'leaked' })).json;
    const revoked = await call('DELETE', `/admin/keys/${id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.json).toMatchObject({ id, status: 'revoked', revoked_at: expect.any(String) });
    expect(revoked.json.key).toBeUndefined();

    const models = await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    expect(models.status).toBe(401);
    expect((await call('GET', '/admin/teams', undefined, key)).status).toBe(401);
    expect((await call('GET', '/admin/keys?team=ops')).json.data.find((k: any) => k.id === id).status).toBe(
      'revoked',
    );

    const unknown = await call('DELETE', '/admin/keys/key_nope');
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual(error('invalid_request_error', 'not_found', 'id'));
  });

  it('lists expired keys with their expires_at, as expired, and refuses them', async () => {
    const future = new Date(Date.now() + 86_400_000).toISOString();
    const later = (await call('POST', '/admin/keys', { team: 'ops', name: 'later', expires_at: future }))
      .json;
    expect(later.expires_at).toBe(future);
    // A key whose time has come (made through the store: the API refuses past expiry dates).
    const past = Date.now() - 60_000;
    const old = await store.keys.create({ team: 'ops', name: 'old', expires_at: past });

    const keys = (await call('GET', '/admin/keys?team=ops')).json.data;
    expect(keys.find((k: any) => k.id === old.id)).toMatchObject({
      expires_at: new Date(past).toISOString(),
      status: 'expired',
    });
    expect(keys.find((k: any) => k.id === later.id)).toMatchObject({ expires_at: future, status: 'active' });
    expect((await call('GET', '/admin/teams', undefined, old.key)).status).toBe(401);
    const v1 = await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${old.key}` } });
    expect(v1.status).toBe(401);
    expect(((await v1.json()) as any).error).toMatchObject({
      code: 'invalid_api_key',
      message: expect.stringMatching(/valid only until/),
    });
    expect(
      (await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${later.key}` } })).status,
    ).toBe(200);
  });

  it('lists every key without ?team, oldest first', async () => {
    const all = (await call('GET', '/admin/keys')).json.data;
    expect(new Set(all.map((k: any) => k.team))).toEqual(new Set(['ops', 'research']));
    const times = all.map((k: any) => k.created_at);
    expect(times).toEqual([...times].sort());
  });

  it.each([
    [{ team: 'ops' }, 'name'],
    [{ team: 'ops', name: 'x', expires_at: '2001-01-01' }, 'expires_at'],
    [{ team: 'ops', name: 'x', expires_at: 'soon' }, 'expires_at'],
    [{ team: 'ops', name: 'x', limits: { tpm: 0 } }, 'limits.tpm'],
    [{ team: 'ops', name: 'x', secret: 'mine' }, 'secret'],
  ])('refuses an invalid key request %j with 400 naming %s', async (body, param) => {
    const res = await call('POST', '/admin/keys', body);
    expect(res.status).toBe(400);
    expect(res.json).toEqual(error('invalid_request_error', 'invalid_body', param));
  });

  it('404s a key for, or a list of, an unknown team, with param team', async () => {
    for (const res of [
      await call('POST', '/admin/keys', { team: 'nope', name: 'x' }),
      await call('GET', '/admin/keys?team=nope'),
    ]) {
      expect(res.status).toBe(404);
      expect(res.json).toEqual(error('invalid_request_error', 'not_found', 'team'));
    }
  });
});

describe('spend', () => {
  const DAY1 = Date.parse('2020-03-01T10:00:00Z');
  const DAY2 = Date.parse('2020-03-02T10:00:00Z');
  const DAY3 = Date.parse('2020-03-03T10:00:00Z');
  const row = (
    request_id: string,
    team: string,
    key: string | null,
    model: string,
    at: number,
    usd: number,
  ) => ({
    request_id,
    team_id: team,
    key_id: key,
    model,
    provider: 'demo',
    input_tokens: 100,
    output_tokens: 10,
    cost_nanos: Math.round(usd * 1e9),
    latency_ms: 5,
    status: 200,
    created_at: at,
  });

  beforeAll(async () => {
    for (const r of [
      row('s1', 'spend-a', 'key_a', 'demo-fast', DAY1, 0.001),
      row('s2', 'spend-a', 'key_a', 'demo-smart', DAY2, 0.003),
      row('s2', 'spend-a', 'key_a', 'demo-fast', DAY2, 0.0005), // the same request's second call
      row('s3', 'spend-b', null, 'demo-fast', DAY2, 0.002),
      row('s4', 'spend-b', 'key_b', 'demo-smart', DAY3, 0.004),
    ]) {
      store.ledger.append(r);
    }
    await store.ledger.flush();
  });

  const spend = async (query: string) => call('GET', `/admin/spend?from=2020-03-01&to=2020-03-31&${query}`);

  it('groups by day by default, counting a fan-out as one request', async () => {
    const res = await spend('');
    expect(res.status).toBe(200);
    expect(res.json.object).toBe('list');
    expect(res.json.data).toMatchObject([
      { group: '2020-03-01', requests: 1, calls: 1, input_tokens: 100, output_tokens: 10, cost_usd: 0.001 },
      { group: '2020-03-02', requests: 2, calls: 3, input_tokens: 300, output_tokens: 30, cost_usd: 0.0055 },
      { group: '2020-03-03', requests: 1, calls: 1, input_tokens: 100, output_tokens: 10, cost_usd: 0.004 },
    ]);
  });

  it('groups by model, key and team, with filters', async () => {
    const byModel = (await spend('group_by=model&team=spend-a')).json.data;
    expect(byModel.map((r: any) => [r.group, r.requests, r.cost_usd])).toEqual([
      ['demo-fast', 2, 0.0015],
      ['demo-smart', 1, 0.003],
    ]);
    const byKey = (await spend('group_by=key&model=demo-fast')).json.data;
    expect(byKey.map((r: any) => [r.group, r.cost_usd])).toEqual([
      ['key_a', 0.0015],
      [null, 0.002],
    ]);
    const byTeam = (await spend('group_by=team&key=key_b')).json.data;
    expect(byTeam.map((r: any) => [r.group, r.requests])).toEqual([['spend-b', 1]]);
  });

  it('filters by time: from inclusive, a bare to-date includes that whole day', async () => {
    const res = await call('GET', '/admin/spend?group_by=team&from=2020-03-02&to=2020-03-02');
    expect(res.json.data.map((r: any) => [r.group, r.calls])).toEqual([
      ['spend-a', 2],
      ['spend-b', 1],
    ]);
    expect((await call('GET', '/admin/spend?from=2020-04-01&to=2020-04-02')).json.data).toEqual([]);
  });

  it.each([
    ['group_by=week', 'group_by'],
    ['from=yesterday', 'from'],
    ['to=31/03/2020', 'to'],
    ['teams=spend-a', 'teams'],
  ])('refuses ?%s with 400 naming %s', async (query, param) => {
    const res = await call('GET', `/admin/spend?${query}`);
    expect(res.status).toBe(400);
    expect(res.json).toEqual(error('invalid_request_error', 'invalid_body', param));
  });
});
