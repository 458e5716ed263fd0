/**
 * `GET /v1/usage` and `GET /v1/usage/budgets` on a real gateway with a SQLite store: a hand-made ledger
 * whose every figure is known (a fan-out straddling midnight, several tags per request, keyless calls,
 * rows just outside the range), real traffic through the fakes, reconciliation with `/admin/spend`,
 * team isolation and every bad parameter.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerEntry, Store } from '../../src/store/index.ts';
import {
  type Fakes,
  fakesConfig,
  startFakes,
  startGateway,
  type TestGateway,
  tempStore,
} from './helpers/gateway.ts';

const MASTER = 'mk-usage-test-master';
const RESEARCH = 'qk-usage-research-0001';
const DESIGN = 'qk-usage-design-0002';
const OPS = 'qk-usage-ops-0003';

const HOUR = 3_600_000;
const DAY = 86_400_000;
/** The hand-made rows live in March 2026, far from the real traffic of the test run. */
const T = Date.parse('2026-03-10T00:00:00Z');
const RANGE = 'from=2026-03-10&to=2026-03-12';

const row = (
  request_id: string,
  team_id: string,
  key_id: string | null,
  model: string,
  cost_nanos: number,
  created_at: number,
  tags: Record<string, string> | null,
  tokens: [input: number, output: number, cached: number] = [10, 5, 0],
): LedgerEntry => ({
  request_id,
  team_id,
  key_id,
  model,
  provider: 'fake',
  input_tokens: tokens[0],
  output_tokens: tokens[1],
  cached_tokens: tokens[2],
  cost_nanos,
  latency_ms: 5,
  status: 200,
  tags,
  created_at,
});

/**
 * r3 is a fan-out whose first call is one second before midnight: one request, counted on both days
 * and once in the totals. r0 and r7 lie just outside [2026-03-10, 2026-03-13).
 */
const ROWS: LedgerEntry[] = [
  row('r0', 'research', 'key_r1', 'm-a', 1_000_000, T - 1, { project: 'apollo' }),
  row('r1', 'research', 'key_r1', 'm-a', 1000, T + HOUR, { project: 'apollo', env: 'prod' }, [100, 50, 10]),
  row('r2', 'research', 'key_r1', 'm-b', 2500, T + 2 * HOUR, { project: 'apollo' }, [200, 20, 0]),
  row('r3', 'research', 'key_r2', 'm-a', 300, T + DAY - 1000, { env: 'dev' }),
  row('r3', 'research', 'key_r2', 'm-b', 400, T + DAY + 1000, { env: 'dev' }),
  row('r3', 'research', 'key_r2', 'm-c', 500, T + DAY + 2000, { env: 'dev' }),
  row('r4', 'design', 'key_d1', 'm-a', 7000, T + DAY + 3 * HOUR, null, [50, 5, 0]),
  row('r5', 'design', null, 'm-c', 9, T + 2 * DAY + HOUR / 2, { project: 'zeus' }, [5, 5, 5]),
  row('r6', 'ops', 'static:ops-ci', 'm-b', 100, T + 2 * DAY + 5 * HOUR, null),
  row('r7', 'research', 'key_r1', 'm-a', 1_000_000, T + 3 * DAY, { project: 'apollo' }),
];

let temp: Awaited<ReturnType<typeof tempStore>> | undefined;
let fakes: Fakes;
let store: Store;
let gw: TestGateway;

beforeAll(async () => {
  fakes = await startFakes();
  temp = await tempStore('quorum-usage-');
  store = temp.store;
  for (const r of ROWS) store.ledger.append(r);
  await store.ledger.flush();
  gw = await startGateway(
    fakesConfig(fakes, {
      teams: [
        { id: 'research', budget: { limit_usd: 25, period: 'monthly', soft_limit_usd: 20 } },
        { id: 'design', budget: { limit_usd: 10, period: 'weekly' } },
        { id: 'ops' },
      ],
      keys: [
        { key: RESEARCH, team: 'research', name: 'research-ci' },
        { key: DESIGN, team: 'design', name: 'design-ci' },
        { key: OPS, team: 'ops', name: 'ops-ci' },
      ],
    }),
    { masterKey: MASTER, gateway: { ledger: store.ledger }, app: () => ({ store }) },
  );
});
afterAll(async () => {
  await gw?.close();
  await fakes?.close();
  await temp?.close();
});

async function get(path: string, key: string | null = MASTER) {
  const res = await fetch(gw.url + path, key ? { headers: { authorization: `Bearer ${key}` } } : {});
  return { status: res.status, json: (await res.json()) as any };
}

async function usage(query: string, key: string | null = MASTER) {
  const { status, json } = await get(`/v1/usage?${query}`, key);
  expect(status, JSON.stringify(json)).toBe(200);
  return json;
}

const figures = (requests: number, calls: number, cost_nanos: number) => ({
  requests,
  calls,
  cost_nanos,
  cost_usd: cost_nanos / 1e9,
});

/** group → the figures the test checks, in the order the API gave them. */
const byGroup = (groups: any[]) =>
  groups.map((g) => [g.other ? '(other)' : g.group, figures(g.requests, g.calls, g.cost_nanos)]);

describe('series and groups from a known ledger', () => {
  it('by day: every bucket listed, a fan-out across midnight is one request on each day and once in total', async () => {
    const u = await usage(RANGE);
    expect(u).toMatchObject({
      object: 'usage',
      from: '2026-03-10T00:00:00.000Z',
      to: '2026-03-13T00:00:00.000Z',
      bucket: 'day',
      group_by: 'none',
      filters: { team: null, key: null, model: null, tag: null },
      buckets: ['2026-03-10T00:00:00.000Z', '2026-03-11T00:00:00.000Z', '2026-03-12T00:00:00.000Z'],
    });
    expect(u.totals).toEqual({
      ...figures(6, 8, 11_809),
      input_tokens: 100 + 200 + 30 + 50 + 5 + 10,
      output_tokens: 50 + 20 + 15 + 5 + 5 + 5,
      cached_tokens: 15,
    });
    expect(u.groups).toEqual([{ group: null, other: false, ...u.totals }]);
    expect(
      u.series.map((p: any) => [p.start.slice(0, 10), figures(p.requests, p.calls, p.cost_nanos)]),
    ).toEqual([
      ['2026-03-10', figures(3, 3, 3800)],
      ['2026-03-11', figures(2, 3, 7900)],
      ['2026-03-12', figures(2, 2, 109)],
    ]);
  });

  it('by hour: 24 buckets, points only where there was usage', async () => {
    const u = await usage('from=2026-03-10T00:00:00Z&to=2026-03-11T00:00:00Z&bucket=hour');
    expect(u.buckets).toHaveLength(24);
    expect(u.buckets[23]).toBe('2026-03-10T23:00:00.000Z');
    expect(u.series.map((p: any) => [p.start, p.cost_nanos])).toEqual([
      ['2026-03-10T01:00:00.000Z', 1000],
      ['2026-03-10T02:00:00.000Z', 2500],
      ['2026-03-10T23:00:00.000Z', 300],
    ]);
    expect(u.totals).toMatchObject(figures(3, 3, 3800));
  });

  it('by team, key and model, costliest first; null is the keyless group', async () => {
    expect(byGroup((await usage(`${RANGE}&group_by=team`)).groups)).toEqual([
      ['design', figures(2, 2, 7009)],
      ['research', figures(3, 5, 4700)],
      ['ops', figures(1, 1, 100)],
    ]);
    expect(byGroup((await usage(`${RANGE}&group_by=key`)).groups)).toEqual([
      ['key_d1', figures(1, 1, 7000)],
      ['key_r1', figures(2, 2, 3500)],
      ['key_r2', figures(1, 3, 1200)],
      ['static:ops-ci', figures(1, 1, 100)],
      [null, figures(1, 1, 9)],
    ]);
    const models = await usage(`${RANGE}&group_by=model`);
    expect(byGroup(models.groups)).toEqual([
      ['m-a', figures(3, 3, 8300)],
      ['m-b', figures(3, 3, 3000)],
      ['m-c', figures(2, 2, 509)],
    ]);
    // A fan-out uses several models: requests per model add up to more than the requests made.
    expect(models.totals).toMatchObject(figures(6, 8, 11_809));
  });

  it('series points come per bucket, in the order of the groups', async () => {
    const u = await usage(`${RANGE}&group_by=team`);
    expect(u.series.map((p: any) => [p.start.slice(0, 10), p.group, p.requests, p.cost_nanos])).toEqual([
      ['2026-03-10', 'research', 3, 3800],
      ['2026-03-11', 'design', 1, 7000],
      ['2026-03-11', 'research', 1, 900],
      ['2026-03-12', 'design', 1, 9],
      ['2026-03-12', 'ops', 1, 100],
    ]);
  });

  it('group_by=tag:<name> puts each request in exactly one group, so tag totals add up', async () => {
    for (const [name, expected] of [
      [
        'project',
        [
          [null, figures(3, 5, 8300)],
          ['apollo', figures(2, 2, 3500)],
          ['zeus', figures(1, 1, 9)],
        ],
      ],
      [
        'env',
        [
          [null, figures(4, 4, 9609)],
          ['dev', figures(1, 3, 1200)],
          ['prod', figures(1, 1, 1000)],
        ],
      ],
    ] as const) {
      const u = await usage(`${RANGE}&group_by=tag:${name}`);
      expect(byGroup(u.groups)).toEqual(expected);
      const sum = (f: string) => u.groups.reduce((a: number, g: any) => a + g[f], 0);
      for (const f of ['requests', 'calls', 'input_tokens', 'output_tokens', 'cached_tokens', 'cost_nanos']) {
        expect(sum(f), f).toBe(u.totals[f]);
      }
      expect(u.totals).toMatchObject(figures(6, 8, 11_809));
    }
  });

  it('past `limit`, the rest is one "other" group whose requests are counted, not added', async () => {
    const keys = await usage(`${RANGE}&group_by=key&limit=2`);
    expect(byGroup(keys.groups)).toEqual([
      ['key_d1', figures(1, 1, 7000)],
      ['key_r1', figures(2, 2, 3500)],
      ['(other)', figures(3, 5, 1309)],
    ]);
    expect(keys.groups[2]).toMatchObject({ group: null, other: true });
    expect(
      keys.series.filter((p: any) => p.other).map((p: any) => [p.start.slice(0, 10), p.cost_nanos]),
    ).toEqual([
      ['2026-03-10', 300],
      ['2026-03-11', 900],
      ['2026-03-12', 109],
    ]);
    // r3 is in m-a (shown) and in m-b and m-c (other): counted once in "other", once in the totals.
    const models = await usage(`${RANGE}&group_by=model&limit=1`);
    expect(byGroup(models.groups)).toEqual([
      ['m-a', figures(3, 3, 8300)],
      ['(other)', figures(4, 5, 3509)],
    ]);
    expect(models.totals).toMatchObject(figures(6, 8, 11_809));
    const otherOnDay2 = models.series.find((p: any) => p.other && p.start.startsWith('2026-03-11'));
    expect(otherOnDay2).toMatchObject(figures(1, 2, 900));
  });

  it('filters by team, key, model and tag', async () => {
    expect((await usage(`${RANGE}&team=research`)).totals).toMatchObject(figures(3, 5, 4700));
    expect((await usage(`${RANGE}&key=key_r2`)).totals).toMatchObject(figures(1, 3, 1200));
    expect((await usage(`${RANGE}&key=static:ops-ci`)).totals).toMatchObject(figures(1, 1, 100));
    expect((await usage(`${RANGE}&model=m-b&group_by=team`)).groups.map((g: any) => g.group)).toEqual([
      'research',
      'ops',
    ]);
    expect((await usage(`${RANGE}&tag=project:apollo`)).totals).toMatchObject(figures(2, 2, 3500));
    // A tag by name alone: every request that has it, whatever its value (r1, r2 apollo; r5 zeus).
    expect((await usage(`${RANGE}&tag=project`)).totals).toMatchObject(figures(3, 3, 3509));
    expect((await usage(`${RANGE}&tag=env:dev&group_by=model`)).totals).toMatchObject(figures(1, 3, 1200));
    const none = await usage(`${RANGE}&tag=project:nobody&group_by=key`);
    expect(none.totals).toMatchObject(figures(0, 0, 0));
    expect(none).toMatchObject({ groups: [], series: [] });
    expect(none.buckets).toHaveLength(3);
  });

  it('`from` is inclusive, `to` exclusive (a bare date includes its day)', async () => {
    expect((await usage('from=2026-03-09T23:59:59.999Z&to=2026-03-10')).totals.cost_nanos).toBe(
      1_000_000 + 3800,
    );
    expect((await usage(`from=${T + 3 * DAY - 1}&to=${T + 3 * DAY}`)).totals.calls).toBe(0);
    expect((await usage(`from=${T + 3 * DAY}&to=${T + 3 * DAY + 1}`)).totals.calls).toBe(1);
  });
});

describe('reconciles with /admin/spend', () => {
  const spend = async (query: string) => {
    const { status, json } = await get(`/admin/spend?${query}`);
    expect(status).toBe(200);
    return json.data as any[];
  };
  const pick = (r: any) => ({
    requests: r.requests,
    calls: r.calls,
    input_tokens: r.input_tokens,
    output_tokens: r.output_tokens,
    cost_usd: r.cost_usd,
  });

  const FILTERS = [
    '',
    '&team=research',
    '&team=design',
    '&key=key_r2',
    '&model=m-b',
    '&team=research&model=m-a',
  ];

  it.each(FILTERS)('every group and the totals, for filters "%s"', async (filters) => {
    for (const by of ['team', 'key', 'model'] as const) {
      const u = await usage(`${RANGE}${filters}&group_by=${by}&limit=50`);
      const s = await spend(`${RANGE}${filters}&group_by=${by}`);
      const mine = Object.fromEntries(u.groups.map((g: any) => [String(g.group), pick(g)]));
      expect(mine, by).toEqual(Object.fromEntries(s.map((r) => [String(r.group), pick(r)])));
    }
    const days = await usage(`${RANGE}${filters}`);
    const sDays = await spend(`${RANGE}${filters}&group_by=day`);
    expect(days.series.map((p: any) => [p.start.slice(0, 10), pick(p)])).toEqual(
      sDays.map((r) => [r.group, pick(r)]),
    );
    const teams = await spend(`${RANGE}${filters}&group_by=team`);
    const total = (f: string) => teams.reduce((a, r) => a + r[f], 0);
    expect(days.totals).toMatchObject({
      requests: total('requests'),
      calls: total('calls'),
      input_tokens: total('input_tokens'),
      output_tokens: total('output_tokens'),
    });
    expect(days.totals.cost_nanos).toBe(Math.round(total('cost_usd') * 1e9));
  });

  it('with real traffic, over the default range (the last 30 days)', async () => {
    const chat = (key: string, model: string, tags?: Record<string, string>) =>
      fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          model,
          messages: [{ role: 'user', content: 'hello there' }],
          ...(tags ? { quorum: { tags } } : {}),
        }),
      });
    for (const res of [
      await chat(RESEARCH, 'oa-model', { project: 'apollo', env: 'prod' }),
      await chat(RESEARCH, 'an-model', { project: 'apollo' }),
      await chat(DESIGN, 'ge-model'),
    ]) {
      expect(res.status).toBe(200);
    }
    const fan = await fetch(`${gw.url}/v1/consensus`, {
      method: 'POST',
      headers: { authorization: `Bearer ${RESEARCH}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        strategy: 'consensus',
        models: ['oa-model', 'an-model', 'ge-model'],
        messages: [{ role: 'user', content: 'what is 2 + 2?' }],
        quorum: { tags: { project: 'hermes' } },
      }),
    });
    expect(fan.status).toBe(200);

    const u = await usage('group_by=team');
    expect(u.buckets).toHaveLength(30);
    expect(u.buckets[29]).toBe(`${new Date().toISOString().slice(0, 10)}T00:00:00.000Z`);
    const range = `from=${encodeURIComponent(u.from)}&to=${encodeURIComponent(u.to)}`;
    const s = await spend(`${range}&group_by=team`);
    expect(Object.fromEntries(u.groups.map((g: any) => [g.group, pick(g)]))).toEqual(
      Object.fromEntries(s.map((r) => [r.group, pick(r)])),
    );
    expect(u.totals.requests).toBe(4);
    expect(u.totals.cost_nanos).toBeGreaterThan(0);
    const research = u.groups.find((g: any) => g.group === 'research');
    expect(research.requests).toBe(3);
    expect(research.calls).toBeGreaterThanOrEqual(5); // the consensus made at least 3 calls

    const tags = await usage('group_by=tag:project&team=research');
    expect(Object.fromEntries(tags.groups.map((g: any) => [g.group, g.requests]))).toEqual({
      apollo: 2,
      hermes: 1,
    });
    const keys = await usage('group_by=key&team=research');
    expect(keys.groups.map((g: any) => g.group)).toEqual(['static:research-ci']);
  });
});

describe('team isolation', () => {
  it('a team key sees only its own team, whatever it groups by', async () => {
    const u = await usage(`${RANGE}&group_by=team`, RESEARCH);
    expect(u.filters.team).toBe('research');
    expect(u.groups.map((g: any) => g.group)).toEqual(['research']);
    expect(u.totals).toMatchObject(figures(3, 5, 4700));
    const keys = await usage(`${RANGE}&group_by=key`, RESEARCH);
    expect(keys.groups.map((g: any) => g.group).sort()).toEqual(['key_r1', 'key_r2']);
    const tags = await usage(`${RANGE}&group_by=tag:project`, DESIGN);
    expect(byGroup(tags.groups)).toEqual([
      [null, figures(1, 1, 7000)],
      ['zeus', figures(1, 1, 9)],
    ]);
  });

  it("naming its own team is allowed; another team's is 404 and no figures", async () => {
    expect((await usage(`${RANGE}&team=research`, RESEARCH)).totals.cost_nanos).toBe(4700);
    for (const team of ['design', 'nobody', '@master']) {
      const { status, json } = await get(`/v1/usage?${RANGE}&team=${encodeURIComponent(team)}`, RESEARCH);
      expect(status).toBe(404);
      expect(json.error).toMatchObject({ type: 'invalid_request_error', code: 'not_found', param: 'team' });
      expect(JSON.stringify(json)).not.toMatch(/cost|7000|7009/);
    }
  });

  it("another team's key or model filter finds nothing of that team", async () => {
    const u = await usage(`${RANGE}&key=key_d1`, RESEARCH);
    expect(u.totals).toMatchObject(figures(0, 0, 0));
    expect(u.groups).toEqual([]);
    const ops = await usage(`${RANGE}&group_by=model`, OPS);
    expect(byGroup(ops.groups)).toEqual([['m-b', figures(1, 1, 100)]]);
  });

  it('without a key: 401', async () => {
    for (const path of ['/v1/usage', '/v1/usage/budgets']) {
      const { status, json } = await get(path, null);
      expect(status).toBe(401);
      expect(json.error.code).toBe('invalid_api_key');
    }
  });
});

describe('budget gauges', () => {
  it('the master key gets every team with a budget; a team key its own, or none', async () => {
    const all = await get('/v1/usage/budgets');
    expect(all.status).toBe(200);
    expect(all.json.object).toBe('list');
    expect(all.json.data.map((b: any) => b.team)).toEqual(['design', 'research']);
    const research = all.json.data[1];
    expect(research).toEqual({
      team: 'research',
      period: 'monthly',
      limit_usd: 25,
      soft_limit_usd: 20,
      spent_usd: expect.any(Number),
      reserved_usd: 0,
      remaining_usd: expect.any(Number),
      resets_at: expect.stringMatching(/^\d{4}-\d{2}-01T00:00:00\.000Z$/),
      soft_limit_reached: false,
    });
    expect(research.remaining_usd).toBeCloseTo(25 - research.spent_usd, 9);
    expect(all.json.data[0]).toMatchObject({ team: 'design', period: 'weekly', soft_limit_usd: null });

    const own = await get('/v1/usage/budgets', RESEARCH);
    expect(own.json.data).toEqual([research]);
    expect((await get('/v1/usage/budgets', DESIGN)).json.data.map((b: any) => b.team)).toEqual(['design']);
    expect((await get('/v1/usage/budgets', OPS)).json).toEqual({ object: 'list', data: [] });
  });

  it('/v1/budget shows the soft limit too', async () => {
    const { json } = await get('/v1/budget', RESEARCH);
    expect(json).toMatchObject({ team: 'research', limit_usd: 25, soft_limit_usd: 20 });
    expect((await get('/v1/budget', OPS)).json).toMatchObject({
      team: 'ops',
      limit_usd: null,
      soft_limit_usd: null,
    });
  });

  it('a team made through the admin API appears with its budget', async () => {
    const res = await fetch(`${gw.url}/admin/teams`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'api-team', budget: { limit_usd: 3, period: 'daily', soft_limit_usd: 1 } }),
    });
    expect(res.status).toBe(201);
    const all = await get('/v1/usage/budgets');
    expect(all.json.data.find((b: any) => b.team === 'api-team')).toMatchObject({
      period: 'daily',
      limit_usd: 3,
      soft_limit_usd: 1,
      spent_usd: 0,
      remaining_usd: 3,
    });
  });
});

describe('bad parameters: 400 in the OpenAI shape, naming the parameter', () => {
  it.each([
    ['bucket=week', 'bucket'],
    ['group_by=provider', 'group_by'],
    ['group_by=tag:', 'group_by'],
    ['group_by=tag:a%22b', 'group_by'],
    ['from=yesterday', 'from'],
    ['to=2026-02-30T25:00:00Z', 'to'],
    ['from=99999999999999999', 'from'],
    ['from=2026-03-12&to=2026-03-10', 'to'],
    ['from=2026-03-10T00:00:00Z&to=2026-03-10T00:00:00Z', 'to'],
    ['from=2026-01-01&to=2026-04-03T00:00:01Z', 'from'],
    ['from=2026-03-01&to=2026-03-15T00:00:01Z&bucket=hour', 'from'],
    ['limit=0', 'limit'],
    ['limit=51', 'limit'],
    ['limit=ten', 'limit'],
    ['limit=-1', 'limit'],
    ['tag=:apollo', 'tag'],
    ['tag=a%22b', 'tag'],
    ['groupby=team', 'groupby'],
    ['team=', 'team'],
  ])('%s', async (query, param) => {
    const { status, json } = await get(`/v1/usage?${query}`);
    expect(status, JSON.stringify(json)).toBe(400);
    expect(json).toEqual({
      error: { message: expect.any(String), type: 'invalid_request_error', param, code: 'invalid_body' },
    });
    expect(json.error.message).toContain(param);
  });

  it('the longest spans are accepted: 92 days by day, 14 days by hour', async () => {
    expect((await usage('from=2026-01-01&to=2026-04-02T23:59:59Z')).buckets).toHaveLength(92);
    expect((await usage('from=2026-03-01&to=2026-03-15T00:00:00Z&bucket=hour')).buckets).toHaveLength(336);
  });

  it('the span error says what the bound is', async () => {
    const { json } = await get('/v1/usage?from=2026-01-01&to=2026-06-01');
    expect(json.error.message).toMatch(/at most 92 days/);
  });
});

it('/openapi.json lists both routes', async () => {
  const { json } = await get('/openapi.json');
  expect(Object.keys(json.paths)).toEqual(expect.arrayContaining(['/v1/usage', '/v1/usage/budgets']));
  expect(json.paths['/v1/usage'].get.parameters.map((p: any) => p.name)).toEqual(
    expect.arrayContaining(['from', 'to', 'bucket', 'group_by', 'team', 'key', 'model', 'tag', 'limit']),
  );
});
