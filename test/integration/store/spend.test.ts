/**
 * Spend reports on each engine (SQLite; Postgres with QUORUM_TEST_POSTGRES_URL): every grouping and
 * filter against a plain JavaScript count of the ledger's own rows, the tag split (a request tagged
 * `a` and `b` counts once in the total, each tag getting an equal share to the nano-dollar), keyset
 * paging in byte order with nulls last, every bad parameter, and the upgrade of rows written before the
 * attribution columns existed.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerEntry, SpendRow, Store } from '../../../src/store/index.ts';
import { type Backend, backends, undoLedgerAttribution } from './backends.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const T0 = Date.parse('2026-05-04T00:00:00Z');

/** A small deterministic generator, so the ledger below is the same on every run and engine. */
function prng(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2_147_483_648;
    return s / 2_147_483_648;
  };
}

const pick = <T>(rand: () => number, xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;

/** 400 calls of 250 requests over three days: every attribution column varies, nulls included. */
function ledgerRows(): LedgerEntry[] {
  const rand = prng(7);
  const rows: LedgerEntry[] = [];
  for (let r = 0; r < 250; r++) {
    const team = pick(rand, ['research', 'design', 'ops'] as const);
    const key = pick(rand, [`key_${team}_1`, `key_${team}_2`, `static:${team}-ci`, null]);
    const tags = pick(rand, [
      null,
      { project: 'apollo' },
      { project: 'zeus', env: 'prod' },
      { env: 'dev', project: 'apollo', cost_center: 'cc-9' },
      { 'odd name': 'x' },
    ]);
    const workflow = rand() < 0.15;
    const calls = rand() < 0.3 ? 3 : 1;
    const at = T0 + Math.floor(rand() * 3 * DAY);
    for (let c = 0; c < calls; c++) {
      rows.push({
        request_id: `req-${r}`,
        team_id: team,
        key_id: key,
        key_name: key === null ? null : key.replace(/^static:/, ''),
        end_user: workflow ? null : pick(rand, ['alice', 'bob', 'Émile', null]),
        surface: workflow
          ? 'workflow'
          : calls > 1
            ? 'consensus'
            : pick(rand, ['chat.completions', 'messages']),
        workflow_run: workflow ? `run_${r % 4}` : null,
        workflow_step: workflow ? pick(rand, ['draft', 'check']) : null,
        model: pick(rand, ['m-a', 'm-b', 'm-c']),
        provider: 'fake',
        input_tokens: 1 + Math.floor(rand() * 1000),
        cached_tokens: Math.floor(rand() * 3),
        output_tokens: Math.floor(rand() * 500),
        cost_nanos: Math.floor(rand() * 100_000),
        latency_ms: 5,
        status: 200,
        tags: workflow ? null : tags,
        // A fan-out's calls may fall on both sides of an hour (and of midnight).
        created_at: at + c * 20 * 60_000,
      });
    }
  }
  return rows;
}

type Figures = Record<
  'requests' | 'calls' | 'input_tokens' | 'output_tokens' | 'cached_tokens' | 'cost_nanos',
  number
>;

const FIGURES = ['input_tokens', 'output_tokens', 'cached_tokens', 'cost_nanos'] as const;

/** The rule the reports promise, written plainly: n tags share a value, the remainder to the first tags. */
function shares(value: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => Math.floor(value / n) + (i < value % n ? 1 : 0));
}

const DIMENSION: Record<string, (r: LedgerEntry) => string | number | null> = {
  team: (r) => r.team_id,
  key: (r) => r.key_id ?? null,
  model: (r) => r.model,
  day: (r) => new Date(Math.floor(r.created_at! / DAY) * DAY).toISOString().slice(0, 10),
  hour: (r) => new Date(Math.floor(r.created_at! / HOUR) * HOUR).toISOString(),
  user: (r) => r.end_user ?? null,
  surface: (r) => r.surface ?? null,
  run: (r) => r.workflow_run ?? null,
  step: (r) => r.workflow_step ?? null,
  'tag:project': (r) => (r.tags?.project as string | undefined) ?? null,
};

/** Each group's figures, counted in JavaScript from the rows (tags split by `shares`). */
function expected(rows: LedgerEntry[], groupBy: string[]): Map<string, Figures> {
  const groups = new Map<string, { ids: Set<string>; f: Figures }>();
  for (const r of rows) {
    const pairs = r.tags
      ? Object.entries(r.tags)
          .map(([k, v]) => `${k}:${v}`)
          .sort()
      : [];
    const split = groupBy.includes('tag') && pairs.length > 0;
    const parts = split ? pairs.map((p, i) => ({ tag: p, i })) : [{ tag: null as string | null, i: 0 }];
    for (const { tag, i } of parts) {
      const key = JSON.stringify(groupBy.map((d) => (d === 'tag' ? tag : DIMENSION[d]!(r))));
      let g = groups.get(key);
      if (!g) {
        g = {
          ids: new Set(),
          f: { requests: 0, calls: 0, input_tokens: 0, output_tokens: 0, cached_tokens: 0, cost_nanos: 0 },
        };
        groups.set(key, g);
      }
      g.ids.add(r.request_id);
      g.f.calls++;
      for (const c of FIGURES) {
        const v = (r[c] as number | undefined) ?? 0;
        g.f[c] += split ? shares(v, pairs.length)[i]! : v;
      }
    }
  }
  return new Map([...groups].map(([k, g]) => [k, { ...g.f, requests: g.ids.size }]));
}

const figuresOf = (r: SpendRow | Figures): Figures => ({
  requests: r.requests as number,
  calls: r.calls as number,
  input_tokens: r.input_tokens as number,
  output_tokens: r.output_tokens as number,
  cached_tokens: r.cached_tokens as number,
  cost_nanos: r.cost_nanos as number,
});

/** Byte order of UTF-8, nulls last: the order both engines sort groups in. */
function byBytes(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

describe.each(backends())('spend reports on $name', ({ make }) => {
  const backend: Backend = make();
  const rows = ledgerRows();
  let store: Store;

  beforeAll(async () => {
    store = await (await backend.fresh()).open({ ledger: { flushIntervalMs: 60_000 } });
    for (const r of rows) store.ledger.append(r);
    await store.ledger.flush();
  });
  afterAll(() => backend.cleanup());

  it.each([
    ['team', 'model', 'day'],
    ['team'],
    ['key'],
    ['hour'],
    ['user'],
    ['surface'],
    ['run', 'step'],
    ['tag'],
    ['tag', 'team'],
    ['day', 'tag:project'],
    ['model', 'user', 'surface', 'key'],
  ])('group_by=%s equals the ledger, group for group, and adds up to the totals', async (...groupBy) => {
    const page = await store.spend.page({ group_by: groupBy.join(','), limit: 10_000 });
    expect(page.group_by).toEqual(groupBy);
    expect(page.next).toBeNull();
    const got = new Map(
      page.rows.map((r) => [JSON.stringify(groupBy.map((d) => r[d])), figuresOf(r)] as const),
    );
    expect(got).toEqual(expected(rows, groupBy));

    // The totals are the ledger's: every call once, every request once (however it is grouped).
    const sum = (c: (typeof FIGURES)[number]) => rows.reduce((a, r) => a + ((r[c] as number) ?? 0), 0);
    expect(page.totals).toMatchObject({
      requests: new Set(rows.map((r) => r.request_id)).size,
      calls: rows.length,
      cost_nanos: sum('cost_nanos'),
      input_tokens: sum('input_tokens'),
    });
    // Cost and tokens add up exactly to the totals, whatever the grouping (tags included).
    for (const c of FIGURES) {
      expect(
        page.rows.reduce((a, r) => a + (r[c] as number), 0),
        c,
      ).toBe(page.totals![c]);
    }
  });

  it('a request tagged a and b counts once in the total, each tag getting half its cost', async () => {
    const target = await (await backend.fresh()).open({ ledger: { flushIntervalMs: 60_000 } });
    const call = (request_id: string, cost_nanos: number, tags: Record<string, string> | null) =>
      target.ledger.append({
        request_id,
        team_id: 't',
        model: 'm',
        provider: 'p',
        input_tokens: 7,
        output_tokens: 3,
        cost_nanos,
        latency_ms: 1,
        status: 200,
        tags,
        created_at: T0,
      });
    call('ab', 1001, { a: 'yes', b: 'yes' });
    call('a', 500, { a: 'yes' });
    call('none', 10, null);
    await target.ledger.flush();

    const page = await target.spend.page({ group_by: 'tag' });
    expect(page.rows.map((r) => [r.tag, r.requests, r.cost_nanos, r.input_tokens, r.output_tokens])).toEqual([
      ['a:yes', 2, 501 + 500, 4 + 7, 2 + 3],
      ['b:yes', 1, 500, 3, 1],
      [null, 1, 10, 7, 3],
    ]);
    expect(page.totals).toMatchObject({ requests: 3, calls: 3, cost_nanos: 1511, input_tokens: 21 });
    // By one tag's value nothing is split: each request is in exactly one group.
    const byA = await target.spend.page({ group_by: 'tag:a' });
    expect(byA.rows.map((r) => [r['tag:a'], r.requests, r.cost_nanos])).toEqual([
      ['yes', 2, 1501],
      [null, 1, 10],
    ]);
  });

  it.each([
    [{ user: 'alice' }, (r: LedgerEntry) => r.end_user === 'alice'],
    [{ user: 'Émile' }, (r: LedgerEntry) => r.end_user === 'Émile'],
    [{ surface: 'workflow' }, (r: LedgerEntry) => r.surface === 'workflow'],
    [{ run: 'run_2' }, (r: LedgerEntry) => r.workflow_run === 'run_2'],
    [
      { run: 'run_2', step: 'check' },
      (r: LedgerEntry) => r.workflow_run === 'run_2' && r.workflow_step === 'check',
    ],
    [{ tag: 'project' }, (r: LedgerEntry) => r.tags?.project !== undefined],
    [{ tag: 'project:apollo' }, (r: LedgerEntry) => r.tags?.project === 'apollo'],
    [{ tag: 'odd name:x' }, (r: LedgerEntry) => r.tags?.['odd name'] === 'x'],
    [{ key: 'static:ops-ci' }, (r: LedgerEntry) => r.key_id === 'static:ops-ci'],
    [
      { team: 'research', model: 'm-b', user: 'bob', from: '2026-05-05', to: '2026-05-05' },
      (r: LedgerEntry) =>
        r.team_id === 'research' &&
        r.model === 'm-b' &&
        r.end_user === 'bob' &&
        r.created_at! >= T0 + DAY &&
        r.created_at! < T0 + 2 * DAY,
    ],
  ])('filter %j returns only those rows', async (filter, keep) => {
    const groupBy = ['team', 'user', 'tag'];
    const page = await store.spend.page({ ...filter, group_by: groupBy.join(',') });
    const wanted = rows.filter(keep);
    expect(wanted.length).toBeGreaterThan(0);
    expect(new Map(page.rows.map((r) => [JSON.stringify(groupBy.map((d) => r[d])), figuresOf(r)]))).toEqual(
      expected(wanted, groupBy),
    );
    expect(page.totals!.calls).toBe(wanted.length);
  });

  it('pages through every group in byte order, nulls last, each group once', async () => {
    const all = await store.spend.page({ group_by: 'user,team', limit: 10_000 });
    const seen: SpendRow[] = [];
    let after: unknown[] | null = null;
    let pages = 0;
    do {
      const page = await store.spend.page({ group_by: 'user,team', limit: 2, ...(after ? { after } : {}) });
      expect(page.rows.length).toBeLessThanOrEqual(2);
      expect(page.totals === null).toBe(pages > 0);
      seen.push(...page.rows);
      after = page.next;
      pages++;
    } while (after);
    expect(seen).toEqual(all.rows);
    expect(pages).toBe(Math.ceil(all.rows.length / 2));
    const users = [...new Set(all.rows.map((r) => r.user as string | null))];
    expect(users).toEqual(['alice', 'bob', 'Émile', null]);
    const sorted = [...all.rows].sort(
      (a, b) =>
        byBytes(a.user as string | null, b.user as string | null) ||
        byBytes(a.team as string, b.team as string),
    );
    expect(all.rows).toEqual(sorted);
  });

  it('orders text the same way on both engines: bytes of UTF-8, not a locale', async () => {
    const target = await (await backend.fresh()).open({ ledger: { flushIntervalMs: 60_000 } });
    const names = ['b', 'B', 'a', 'Z', 'é', 'e', '日本', '', ' x', 'a b', 'ab'];
    names.forEach((user, i) => {
      target.ledger.append({
        request_id: `r${i}`,
        team_id: 't',
        model: 'm',
        provider: 'p',
        input_tokens: 1,
        output_tokens: 1,
        cost_nanos: 1,
        latency_ms: 1,
        status: 200,
        end_user: user,
        created_at: T0,
      });
    });
    await target.ledger.flush();
    const seen: (string | null)[] = [];
    let after: unknown[] | null = null;
    do {
      const page = await target.spend.page({ group_by: 'user', limit: 3, ...(after ? { after } : {}) });
      seen.push(...page.rows.map((r) => r.user as string | null));
      after = page.next;
    } while (after);
    expect(seen).toEqual([...names].sort(byBytes));
  });

  it.each([
    [{ group_by: 'week' }, 'group_by', /unknown dimension "week"/],
    [{ group_by: 'team,team' }, 'group_by', /named twice/],
    [{ group_by: 'tag:a"b' }, 'group_by', /cannot be queried/],
    [{ group_by: 'tag:' }, 'group_by', /tag name of 1 to 200/],
    [{ group_by: 'team,' }, 'group_by', /unknown dimension ""/],
    [{ tag: 'a\\b:c' }, 'tag', /cannot be queried/],
    [{ limit: 0 }, 'limit', /1 to 10000/],
    [{ limit: 10_001 }, 'limit', /1 to 10000/],
    [{ limit: 1.5 }, 'limit', /1 to 10000/],
    [{ from: 'yesterday' }, 'from', /ISO 8601/],
    [{ from: '2026-05-05', to: '2026-05-04' }, 'to', /after from/],
    [{ after: ['team', 'x'] }, 'cursor', /not a cursor of this report/],
    [{ group_by: 'day', after: ['day', 'x'] }, 'cursor', /not a cursor of this report/],
    [{ group_by: 'team', after: ['team', 5] }, 'cursor', /not a cursor of this report/],
  ])('%j is refused, naming %s', async (query, param, message) => {
    const err = await store.spend.page(query as never).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'StoreError', code: 'invalid', param });
    expect((err as Error).message).toMatch(message);
  });

  it('keeps client text without NUL, so Postgres can store and read it', async () => {
    const target = await (await backend.fresh()).open({ ledger: { flushIntervalMs: 60_000 } });
    target.ledger.append({
      request_id: 'nul',
      team_id: 't',
      model: 'm',
      provider: 'p',
      input_tokens: 1,
      output_tokens: 1,
      cost_nanos: 5,
      latency_ms: 1,
      status: 200,
      end_user: 'ev\0e',
      tags: { 'pro\0ject': 'a\0b' },
      created_at: T0,
    });
    await target.ledger.flush();
    const page = await target.spend.page({ group_by: 'user,tag,tag:project', tag: 'project:ab' });
    expect(page.rows.map((r) => [r.user, r.tag, r['tag:project'], r.cost_nanos])).toEqual([
      ['eve', 'project:ab', 'ab', 5],
    ]);
  });

  it('upgrades rows written before attribution: workflow tags become the run and step, tags split', async () => {
    const target = await backend.fresh();
    const old = await target.open();
    await undoLedgerAttribution(old);
    const row = (request_id: string, tags: Record<string, string> | null, cost: number) => ({
      request_id,
      team_id: 'lab',
      key_id: null,
      model: 'm',
      provider: 'p',
      input_tokens: 10,
      cached_tokens: 0,
      output_tokens: 4,
      cost_nanos: cost,
      latency_ms: 1,
      status: 200,
      tags: tags ? JSON.stringify(tags) : null,
      created_at: T0,
    });
    // What the previous release wrote: a workflow step's calls carried their run and step as tags.
    await sql`insert into ledger ${sql.raw('(request_id, team_id, key_id, model, provider, input_tokens, cached_tokens, output_tokens, cost_nanos, latency_ms, status, tags, created_at)')}
      values ${sql.join(
        [
          row('wf-run_9-draft-1', { workflow_run: 'run_9', workflow_step: 'draft' }, 100),
          row('chat-1', { project: 'apollo', env: 'prod' }, 7),
          row('chat-2', null, 1),
        ].map((r) => sql`(${sql.join(Object.values(r))})`),
      )}`.execute(old.db);
    await old.close();

    const store2 = await target.open();
    const stored = await store2.db
      .selectFrom('ledger')
      .select(['request_id', 'tags', 'tag_pairs', 'surface', 'workflow_run', 'workflow_step'])
      .orderBy('request_id')
      .execute();
    expect(stored.map((r) => ({ ...r, tags: r.tags === null ? null : JSON.parse(r.tags) }))).toEqual([
      {
        request_id: 'chat-1',
        tags: { project: 'apollo', env: 'prod' },
        tag_pairs: expect.any(String),
        surface: null,
        workflow_run: null,
        workflow_step: null,
      },
      {
        request_id: 'chat-2',
        tags: null,
        tag_pairs: null,
        surface: null,
        workflow_run: null,
        workflow_step: null,
      },
      {
        request_id: 'wf-run_9-draft-1',
        tags: null,
        tag_pairs: null,
        surface: 'workflow',
        workflow_run: 'run_9',
        workflow_step: 'draft',
      },
    ]);
    const byTag = await store2.spend.page({ group_by: 'tag' });
    expect(byTag.rows.map((r) => [r.tag, r.cost_nanos])).toEqual([
      ['env:prod', 4],
      ['project:apollo', 3],
      [null, 101],
    ]);
    const byRun = await store2.spend.page({ group_by: 'run,step,surface' });
    expect(byRun.rows.map((r) => [r.run, r.step, r.surface, r.cost_nanos])).toEqual([
      ['run_9', 'draft', 'workflow', 100],
      [null, null, null, 8],
    ]);
  });
});
