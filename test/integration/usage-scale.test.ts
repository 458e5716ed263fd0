/**
 * `GET /v1/usage` over a ledger of 1,000,000 rows (90 days, 20 teams, 60 keys, 12 models, fan-outs and
 * tags; see helpers/ledger-seed.ts), on SQLite and — with QUORUM_TEST_POSTGRES_URL — on Postgres: every
 * query shape the dashboard uses, and `/admin/spend` grouped by several dimensions, by tag (split) and
 * filtered by end user and workflow run, answers exactly what a plain JavaScript count of the same rows
 * says.
 * Timings are printed, not asserted (`node bench/usage.ts` measures them).
 */
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/index.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { type SeedOptions, seededRow, seededTagPairs, seedLedger } from './helpers/ledger-seed.ts';
import { type Backend, backends } from './store/backends.ts';

const MASTER = 'mk-usage-scale-master';
const TEAM_KEY = 'qk-usage-scale-team05';
const DAY = 86_400_000;
const SEED: SeedOptions = { rows: 1_000_000, startMs: Date.parse('2026-01-01T00:00:00Z'), stepMs: 7776 };
const iso = (ms: number) => new Date(ms).toISOString();

interface Shape {
  name: string;
  query: Record<string, string>;
  key?: string;
}

const D30 = { from: iso(SEED.startMs + 30 * DAY), to: iso(SEED.startMs + 60 * DAY) };
const SHAPES: Shape[] = [
  { name: 'all teams, 30 days by day', query: D30 },
  { name: 'by model, top 5 + other', query: { ...D30, group_by: 'model', limit: '5' } },
  { name: 'by key, top 50 + other', query: { ...D30, group_by: 'key', limit: '50' } },
  { name: 'by team, top 10 + other', query: { ...D30, group_by: 'team' } },
  { name: 'by tag:project', query: { ...D30, group_by: 'tag:project' } },
  {
    name: 'the whole ledger: 92 days by team',
    query: { from: iso(SEED.startMs), to: iso(SEED.startMs + 92 * DAY), group_by: 'team', limit: '50' },
  },
  {
    name: "a team key's 14 days by hour and model",
    query: { from: D30.from, to: iso(SEED.startMs + 44 * DAY), bucket: 'hour', group_by: 'model' },
    key: TEAM_KEY,
  },
  {
    name: 'one team, a tag filter, by tag:env',
    query: { ...D30, team: 'team-00', tag: 'project:p1', group_by: 'tag:env' },
  },
  { name: 'one key and one model, by day', query: { ...D30, key: 'key_03_k1', model: 'model-07' } },
];

type Figures = Record<
  'requests' | 'calls' | 'input_tokens' | 'output_tokens' | 'cached_tokens' | 'cost_nanos',
  number
>;

/** Figures of a set of rows, with its request ids kept to count them distinct. */
class Acc {
  ids = new Set<string>();
  f = { calls: 0, input_tokens: 0, output_tokens: 0, cached_tokens: 0, cost_nanos: 0 };
  add(r: ReturnType<typeof seededRow>) {
    this.ids.add(r.request_id);
    this.f.calls++;
    this.f.input_tokens += r.input_tokens;
    this.f.output_tokens += r.output_tokens;
    this.f.cached_tokens += r.cached_tokens;
    this.f.cost_nanos += r.cost_nanos;
  }
  get figures(): Figures {
    return { requests: this.ids.size, ...this.f };
  }
}

const get = <K, V>(m: Map<K, V>, k: K, make: () => V) => {
  const v = m.get(k);
  if (v !== undefined) return v;
  const made = make();
  m.set(k, made);
  return made;
};

/** What the report must say, counted in JavaScript from the seed's formulas. */
function expected(q: Record<string, string>, team: string | undefined) {
  const bucket = q.bucket === 'hour' ? 3_600_000 : DAY;
  const from = Date.parse(q.from!);
  const to = Date.parse(q.to!);
  const limit = Number(q.limit ?? 10);
  const by = q.group_by ?? 'none';
  const [tagName, tagValue] = q.tag
    ? [q.tag.slice(0, q.tag.indexOf(':')), q.tag.slice(q.tag.indexOf(':') + 1)]
    : [];
  const groupOf = (r: ReturnType<typeof seededRow>): string | null =>
    by === 'team'
      ? r.team_id
      : by === 'key'
        ? r.key_id
        : by === 'model'
          ? r.model
          : by.startsWith('tag:')
            ? (r.tags?.[by.slice(4)] ?? null)
            : null;
  const rows: ReturnType<typeof seededRow>[] = [];
  const first = Math.max(0, Math.ceil((from - SEED.startMs) / SEED.stepMs));
  for (let n = first; n < SEED.rows; n++) {
    const r = seededRow(n, SEED);
    if (r.created_at >= to) break;
    if (team !== undefined && r.team_id !== team) continue;
    if (q.key !== undefined && r.key_id !== q.key) continue;
    if (q.model !== undefined && r.model !== q.model) continue;
    if (tagName !== undefined && r.tags?.[tagName] !== tagValue) continue;
    rows.push(r);
  }
  const totals = new Acc();
  const groups = new Map<string | null, Acc>();
  for (const r of rows) {
    totals.add(r);
    get(groups, groupOf(r), () => new Acc()).add(r);
  }
  const ranked = [...groups.entries()].sort(
    ([ga, a], [gb, b]) =>
      b.f.cost_nanos - a.f.cost_nanos ||
      b.f.calls - a.f.calls ||
      (ga === gb ? 0 : ga === null ? 1 : gb === null ? -1 : ga < gb ? -1 : 1),
  );
  const shown = new Set(ranked.slice(0, limit).map(([g]) => g));
  const other = new Acc();
  const series = new Map<string, Acc>();
  for (const r of rows) {
    const g = groupOf(r);
    const isOther = !shown.has(g);
    if (isOther) other.add(r);
    const start = Math.floor(r.created_at / bucket) * bucket;
    get(series, `${iso(start)}|${isOther ? '(other)' : String(g)}`, () => new Acc()).add(r);
  }
  return {
    totals: totals.figures,
    groups: [
      ...ranked.slice(0, limit).map(([g, a]) => [g, a.figures] as const),
      ...(ranked.length > limit ? [['(other)', other.figures] as const] : []),
    ],
    series: Object.fromEntries([...series.entries()].map(([k, a]) => [k, a.figures])),
  };
}

const figuresOf = (x: any): Figures => ({
  requests: x.requests,
  calls: x.calls,
  input_tokens: x.input_tokens,
  output_tokens: x.output_tokens,
  cached_tokens: x.cached_tokens,
  cost_nanos: x.cost_nanos,
});

/** `/admin/spend` shapes: groupings of several dimensions, the tag split, the new filters. */
const SPEND_SHAPES: { name: string; query: Record<string, string> }[] = [
  { name: 'team × model × day, 30 days', query: { ...D30, group_by: 'team,model,day' } },
  { name: 'by tag (split), 30 days', query: { ...D30, group_by: 'tag' } },
  { name: 'one end user, by model, the whole ledger', query: { user: 'user-17', group_by: 'model' } },
  { name: 'one workflow run, by step', query: { run: 'run_7', group_by: 'step' } },
  {
    name: 'one team by surface and user, 30 days',
    query: { ...D30, team: 'team-03', group_by: 'surface,user' },
  },
];

/** What /admin/spend must say for a shape, counted in JavaScript from the seed's formulas. */
function expectedSpend(q: Record<string, string>) {
  const from = q.from ? Date.parse(q.from) : 0;
  const to = q.to ? Date.parse(q.to) : Number.MAX_SAFE_INTEGER;
  const dims = q.group_by!.split(',');
  const value = (r: ReturnType<typeof seededRow>, d: string): string | null =>
    d === 'team'
      ? r.team_id
      : d === 'model'
        ? r.model
        : d === 'day'
          ? iso(Math.floor(r.created_at / DAY) * DAY).slice(0, 10)
          : d === 'user'
            ? r.end_user
            : d === 'surface'
              ? r.surface
              : d === 'step'
                ? r.workflow_step
                : null;
  const totals = new Acc();
  const groups = new Map<string, { ids: Set<string>; f: Omit<Figures, 'requests'> }>();
  for (let n = 0; n < SEED.rows; n++) {
    const r = seededRow(n, SEED);
    if (r.created_at < from || r.created_at >= to) continue;
    if (q.team !== undefined && r.team_id !== q.team) continue;
    if (q.user !== undefined && r.end_user !== q.user) continue;
    if (q.run !== undefined && r.workflow_run !== q.run) continue;
    totals.add(r);
    const pairs = seededTagPairs(r.tags);
    const split = dims.includes('tag') && pairs.length > 0;
    const parts = split ? pairs : [null];
    parts.forEach((tag, i) => {
      const key = JSON.stringify(dims.map((d) => (d === 'tag' ? tag : value(r, d))));
      let g = groups.get(key);
      if (!g) {
        g = {
          ids: new Set(),
          f: { calls: 0, input_tokens: 0, output_tokens: 0, cached_tokens: 0, cost_nanos: 0 },
        };
        groups.set(key, g);
      }
      g.ids.add(r.request_id);
      g.f.calls++;
      const share = (v: number) =>
        split ? Math.floor(v / parts.length) + (i < v % parts.length ? 1 : 0) : v;
      g.f.input_tokens += share(r.input_tokens);
      g.f.output_tokens += share(r.output_tokens);
      g.f.cached_tokens += share(r.cached_tokens);
      g.f.cost_nanos += share(r.cost_nanos);
    });
  }
  return {
    totals: totals.figures,
    groups: Object.fromEntries([...groups].map(([k, g]) => [k, { requests: g.ids.size, ...g.f }])),
  };
}

/**
 * Counted once, before any request: seconds of JavaScript between two requests would let the server's
 * keep-alive timer close the connection the next request is about to reuse.
 */
let wanted: Map<Shape, ReturnType<typeof expected>> | undefined;
let wantedSpend: Map<(typeof SPEND_SHAPES)[number], ReturnType<typeof expectedSpend>> | undefined;
const want = () => {
  wanted ??= new Map(SHAPES.map((s) => [s, expected(s.query, s.key ? 'team-05' : s.query.team)]));
  wantedSpend ??= new Map(SPEND_SHAPES.map((s) => [s, expectedSpend(s.query)]));
  return wanted;
};

describe.each(backends())('1,000,000 ledger rows on $name', ({ make }) => {
  const backend: Backend = make();
  let store: Store;
  let gw: TestGateway;

  beforeAll(async () => {
    want();
    store = await (await backend.fresh()).open();
    const t = performance.now();
    await seedLedger(store, SEED);
    process.stderr.write(
      `[usage-scale] ${store.engine}: seeded ${SEED.rows} rows in ${Math.round(performance.now() - t)} ms\n`,
    );
    gw = await startGateway(
      { teams: [{ id: 'team-05' }], keys: [{ key: TEAM_KEY, team: 'team-05', name: 'scale' }] },
      { masterKey: MASTER, app: () => ({ store }) },
    );
  }, 180_000);
  afterAll(async () => {
    await gw?.close();
    await backend.cleanup();
  }, 60_000);

  it('holds every row', async () => {
    const row = await store.db
      .selectFrom('ledger')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(row.n)).toBe(SEED.rows);
  });

  it.each(SHAPES)(
    '$name',
    async (shape) => {
      const { query, key } = shape;
      const t = performance.now();
      const res = await fetch(`${gw.url}/v1/usage?${new URLSearchParams(query)}`, {
        headers: { authorization: `Bearer ${key ?? MASTER}` },
      });
      const ms = performance.now() - t;
      const u = (await res.json()) as any;
      expect(res.status, JSON.stringify(u)).toBe(200);
      process.stderr.write(`[usage-scale] ${store.engine}: ${JSON.stringify(query)} ${Math.round(ms)} ms\n`);

      const { totals, groups, series } = want().get(shape)!;
      expect(totals.calls).toBeGreaterThan(0);
      expect(figuresOf(u.totals)).toEqual(totals);
      expect(u.groups.map((g: any) => [g.other ? '(other)' : g.group, figuresOf(g)])).toEqual(groups);
      expect(
        Object.fromEntries(
          u.series.map((p: any) => [`${p.start}|${p.other ? '(other)' : String(p.group)}`, figuresOf(p)]),
        ),
      ).toEqual(series);
      if (!query.group_by || query.group_by === 'team' || query.group_by.startsWith('tag:')) {
        const sum = (f: keyof Figures) => u.groups.reduce((a: number, g: any) => a + g[f], 0);
        expect(sum('requests')).toBe(u.totals.requests);
        expect(sum('cost_nanos')).toBe(u.totals.cost_nanos);
      }
    },
    120_000,
  );

  it('the gateway keeps answering other requests while a report scans the whole ledger', async () => {
    const query = `from=${iso(SEED.startMs)}&to=${iso(SEED.startMs + 92 * DAY)}&group_by=model`;
    let done = false;
    const report = fetch(`${gw.url}/v1/usage?${query}`, { headers: { authorization: `Bearer ${MASTER}` } })
      .then((res) => res.json())
      .finally(() => {
        done = true;
      });
    let answered = 0;
    while (!done) {
      const res = await fetch(`${gw.url}/healthz`);
      await res.arrayBuffer();
      if (!done) answered++;
    }
    expect(((await report) as any).totals.calls).toBe(SEED.rows);
    // The report's queries run beside the event loop (SQLite: in a reader thread; Postgres: in the
    // database), so health checks keep being answered meanwhile, not only between its queries.
    expect(answered).toBeGreaterThan(10);
  }, 120_000);

  it.each(SPEND_SHAPES)(
    '/admin/spend: $name equals the ledger',
    async (shape) => {
      const t = performance.now();
      const res = await fetch(
        `${gw.url}/admin/spend?${new URLSearchParams({ ...shape.query, limit: '10000' })}`,
        {
          headers: { authorization: `Bearer ${MASTER}` },
        },
      );
      const ms = performance.now() - t;
      const page = (await res.json()) as any;
      expect(res.status, JSON.stringify(page)).toBe(200);
      process.stderr.write(
        `[usage-scale] ${store.engine}: spend ${JSON.stringify(shape.query)} ${Math.round(ms)} ms\n`,
      );
      expect(page.has_more).toBe(false);
      const { totals, groups } = wantedSpend!.get(shape)!;
      expect(totals.calls).toBeGreaterThan(0);
      expect(figuresOf(page.totals)).toEqual(totals);
      const dims = page.group_by as string[];
      expect(
        Object.fromEntries(page.data.map((r: any) => [JSON.stringify(dims.map((d) => r[d])), figuresOf(r)])),
      ).toEqual(groups);
      const sum = page.data.reduce((a: number, r: any) => a + r.cost_nanos, 0);
      expect(sum).toBe(page.totals.cost_nanos);
    },
    120_000,
  );

  it('agrees with /admin/spend by team over the whole ledger', async () => {
    const range = `from=${iso(SEED.startMs)}&to=${iso(SEED.startMs + 92 * DAY)}`;
    const headers = { authorization: `Bearer ${MASTER}` };
    const u = (await (
      await fetch(`${gw.url}/v1/usage?${range}&group_by=team&limit=50`, { headers })
    ).json()) as any;
    const s = (await (
      await fetch(`${gw.url}/admin/spend?${range}&group_by=team`, { headers })
    ).json()) as any;
    const pick = (r: any) => [r.requests, r.calls, r.input_tokens, r.output_tokens, r.cost_usd];
    expect(Object.fromEntries(u.groups.map((g: any) => [g.group, pick(g)]))).toEqual(
      Object.fromEntries(s.data.map((r: any) => [r.group, pick(r)])),
    );
    expect(u.totals.calls).toBe(SEED.rows);
  }, 120_000);
});
