/**
 * Attribution and `GET /admin/spend` on a real gateway (SQLite; Postgres too with
 * QUORUM_TEST_POSTGRES_URL): real traffic through the fakes on every surface that writes ledger rows —
 * chat, consensus, reviews, responses, messages, embeddings and a workflow run — with end users and
 * tags; every row names its team, key (id and name), end user, tags, surface and workflow run and
 * step; spend grouped by team × model × day equals the ledger; a request tagged `a` and `b` counts
 * once; filters return only their rows; a team key reads no one else's spend; bad parameters are 400s
 * naming them; CSV parses and equals the JSON, page by page.
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/index.ts';
import { type Fakes, fakesConfig, startFakes, startGateway, type TestGateway } from './helpers/gateway.ts';
import { type Backend, backends } from './store/backends.ts';

const MASTER = 'mk-spend-test-master';
const RESEARCH = 'qk-spend-research-0001';
const DAY = 86_400_000;

type Row = Record<string, any>;

const error = (status: number, res: { status: number; json: any }, code: string, param: string | null) => {
  expect(res.status, JSON.stringify(res.json)).toBe(status);
  expect(res.json).toEqual({
    error: { message: expect.any(String), type: expect.any(String), param, code },
  });
};

describe.each(backends())('attribution and /admin/spend on $name', ({ make }) => {
  const backend: Backend = make();
  let fakes: Fakes;
  let store: Store;
  let gw: TestGateway;
  /** A key made through the admin API (team design): its id and its secret. */
  let design: { id: string; key: string };
  let runId: string;
  /** Every ledger row, as stored. */
  let ledger: Row[];

  async function call(method: string, path: string, key: string | null, body?: unknown, headers = {}) {
    const res = await fetch(gw.url + path, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let json: any = null;
    try {
      json = JSON.parse(text);
    } catch {
      // CSV, or nothing
    }
    return { status: res.status, json, text, headers: res.headers };
  }

  const ok = async (method: string, path: string, key: string, body?: unknown, headers = {}) => {
    const res = await call(method, path, key, body, headers);
    expect(res.status, `${path}: ${res.text}`).toBeLessThan(300);
    return res;
  };

  const spend = async (query: string) => {
    const res = await call('GET', `/admin/spend?${query}`, MASTER);
    expect(res.status, res.text).toBe(200);
    return res.json;
  };

  beforeAll(async () => {
    fakes = await startFakes();
    store = await (await backend.fresh()).open({ ledger: { flushIntervalMs: 20 } });
    await store.teams.create({ id: 'design' });
    design = await store.keys.create({ team: 'design', name: 'design-app' });
    const base = fakesConfig(fakes) as { models: Record<string, unknown>[] };
    gw = await startGateway(
      {
        ...base,
        models: [
          ...base.models,
          {
            id: 'oa-embed',
            provider: 'oa',
            upstream: 'embed-up',
            context_window: 8191,
            price: { input: 0.02, output: 0 },
            capabilities: ['embeddings'],
          },
        ],
        teams: [{ id: 'research' }],
        keys: [{ key: RESEARCH, team: 'research', name: 'research-ci' }],
      },
      { masterKey: MASTER, store, workflows: true },
    );

    const chat = (key: string, user: string | undefined, tags: Record<string, string>) =>
      ok('POST', '/v1/chat/completions', key, {
        model: 'oa-model',
        messages: [{ role: 'user', content: 'Hello' }],
        ...(user ? { user } : {}),
        quorum: { tags },
      });
    await chat(RESEARCH, 'alice', { a: 'yes', b: 'yes' }); // the request tagged a and b
    await chat(RESEARCH, 'bob', { a: 'yes' });
    await chat(design.key, undefined, { '=cmd': '=1+1' }); // a value a spreadsheet would run
    await ok('POST', '/v1/consensus', RESEARCH, {
      strategy: 'consensus',
      models: ['oa-model', 'ge-model'],
      judge: 'oa-model',
      messages: [{ role: 'user', content: 'Pick one' }],
      user: 'carol',
      quorum: { tags: { b: 'yes' } },
    });
    await ok('POST', '/v1/embeddings', design.key, { model: 'oa-embed', input: 'hello', user: 'dave' });
    await ok(
      'POST',
      '/v1/messages',
      design.key,
      {
        model: 'an-model',
        max_tokens: 64,
        messages: [{ role: 'user', content: 'Hi' }],
        metadata: { user_id: 'erin' },
      },
      { 'anthropic-version': '2023-06-01' },
    );
    await ok('POST', '/v1/responses', RESEARCH, { model: 'ge-model', input: 'Hi', user: 'frank' });
    fakes.openai.enqueue({ text: JSON.stringify({ verdict: 'accept', score: 9, issues: [] }) });
    await ok('POST', '/v1/reviews', design.key, {
      artifact: 'def f(): pass',
      instructions: 'Review this.',
      reviewers: ['oa-model'],
      user: 'gina',
      quorum: { tags: { project: 'lint' } },
    });
    const wf = await ok('POST', '/v1/workflows', RESEARCH, {
      name: 'attributed',
      steps: {
        draft: { prompt: 'Write a haiku.', model: 'oa-model' },
        polish: { needs: ['draft'], prompt: 'Polish: {{ steps.draft.output }}', model: 'ge-model' },
      },
    });
    const run = await ok('POST', `/v1/workflows/${wf.json.id}/runs?wait=true`, RESEARCH, { inputs: {} });
    expect(run.json.status).toBe('succeeded');
    runId = run.json.id;

    await store.ledger.flush();
    ledger = (await store.db.selectFrom('ledger').selectAll().execute()).map((r) => ({
      ...r,
      cost_nanos: Number(r.cost_nanos),
      created_at: Number(r.created_at),
      tags: r.tags === null ? null : JSON.parse(r.tags),
    }));
  }, 60_000);

  afterAll(async () => {
    await gw?.close();
    await fakes?.close();
    await backend.cleanup();
  });

  it('every ledger row names its team, key, end user, tags, surface, and workflow run and step', () => {
    const seen = (surface: string) => ledger.filter((r) => r.surface === surface);
    const one = (surface: string) => {
      const rows = seen(surface);
      expect(rows.length, surface).toBeGreaterThan(0);
      const fields = (r: Row) => ({
        team_id: r.team_id,
        key_id: r.key_id,
        key_name: r.key_name,
        end_user: r.end_user,
        tags: r.tags,
        workflow_run: r.workflow_run,
        workflow_step: r.workflow_step,
      });
      // Every call of a request says the same.
      expect(new Set(rows.map((r) => JSON.stringify(fields(r)))).size, surface).toBe(1);
      return fields(rows[0]!);
    };
    const researchKey = { team_id: 'research', key_id: 'static:research-ci', key_name: 'research-ci' };
    const designKey = { team_id: 'design', key_id: design.id, key_name: 'design-app' };
    const none = { workflow_run: null, workflow_step: null };

    expect(new Set(ledger.map((r) => r.surface))).toEqual(
      new Set([
        'chat.completions',
        'consensus',
        'embeddings',
        'messages',
        'responses',
        'reviews',
        'workflow',
      ]),
    );
    const chats = seen('chat.completions').map((r) => [r.key_name, r.end_user, r.tags]);
    expect(chats).toEqual([
      ['research-ci', 'alice', { a: 'yes', b: 'yes' }],
      ['research-ci', 'bob', { a: 'yes' }],
      ['design-app', null, { '=cmd': '=1+1' }],
    ]);
    expect(one('consensus')).toEqual({ ...researchKey, end_user: 'carol', tags: { b: 'yes' }, ...none });
    expect(seen('consensus').length).toBeGreaterThanOrEqual(2);
    expect(one('embeddings')).toEqual({ ...designKey, end_user: 'dave', tags: null, ...none });
    expect(one('messages')).toEqual({ ...designKey, end_user: 'erin', tags: null, ...none });
    expect(one('responses')).toEqual({ ...researchKey, end_user: 'frank', tags: null, ...none });
    expect(one('reviews')).toEqual({ ...designKey, end_user: 'gina', tags: { project: 'lint' }, ...none });
    const steps = seen('workflow').map((r) => [r.key_id, r.workflow_run, r.workflow_step, r.tags]);
    expect(steps.sort()).toEqual([
      ['static:research-ci', runId, 'draft', null],
      ['static:research-ci', runId, 'polish', null],
    ]);
  });

  it('spend grouped by team × model × day equals the ledger, and its totals the sum of every row', async () => {
    const page = await spend('group_by=team,model,day');
    expect(page.group_by).toEqual(['team', 'model', 'day']);
    const want = new Map<
      string,
      { requests: Set<string>; calls: number; cost_nanos: number; input: number }
    >();
    for (const r of ledger) {
      const k = `${r.team_id}|${r.model}|${new Date(Math.floor(r.created_at / DAY) * DAY).toISOString().slice(0, 10)}`;
      const g = want.get(k) ?? { requests: new Set(), calls: 0, cost_nanos: 0, input: 0 };
      g.requests.add(r.request_id);
      g.calls++;
      g.cost_nanos += r.cost_nanos;
      g.input += r.input_tokens;
      want.set(k, g);
    }
    expect(
      Object.fromEntries(
        page.data.map((r: Row) => [r.group, [r.requests, r.calls, r.cost_nanos, r.input_tokens, r.cost_usd]]),
      ),
    ).toEqual(
      Object.fromEntries(
        [...want].map(([k, g]) => [k, [g.requests.size, g.calls, g.cost_nanos, g.input, g.cost_nanos / 1e9]]),
      ),
    );
    for (const r of page.data) expect(r.group).toBe(`${r.team}|${r.model}|${r.day}`);
    const total = ledger.reduce((a, r) => a + r.cost_nanos, 0);
    expect(total).toBeGreaterThan(0);
    expect(page.totals).toMatchObject({
      requests: new Set(ledger.map((r) => r.request_id)).size,
      calls: ledger.length,
      cost_nanos: total,
    });
  });

  it('a request tagged a and b counts once in the total; by tag, each of its tags gets half', async () => {
    const ab = ledger.find((r) => r.end_user === 'alice')!;
    const byTag = await spend('group_by=tag&surface=chat.completions&team=research');
    expect(byTag.data.map((r: Row) => [r.tag, r.requests, r.cost_nanos])).toEqual([
      ['a:yes', 2, Math.ceil(ab.cost_nanos / 2) + ledger.find((r) => r.end_user === 'bob')!.cost_nanos],
      ['b:yes', 1, Math.floor(ab.cost_nanos / 2)],
    ]);
    expect(byTag.totals.requests).toBe(2);
    expect(byTag.data.reduce((a: number, r: Row) => a + r.cost_nanos, 0)).toBe(byTag.totals.cost_nanos);
    // Across every surface: the tag groups add up to the total, each request once in it.
    const all = await spend('group_by=tag');
    expect(all.data.reduce((a: number, r: Row) => a + r.cost_nanos, 0)).toBe(all.totals.cost_nanos);
    expect(all.totals.requests).toBe(new Set(ledger.map((r) => r.request_id)).size);
  });

  it.each([
    ['user=alice', (r: Row) => r.end_user === 'alice'],
    ['user=erin', (r: Row) => r.end_user === 'erin'],
    ['tag=a', (r: Row) => r.tags?.a !== undefined],
    ['tag=project:lint', (r: Row) => r.tags?.project === 'lint'],
    ['surface=messages', (r: Row) => r.surface === 'messages'],
    ['surface=workflow', (r: Row) => r.surface === 'workflow'],
    ['run=RUN', (r: Row) => r.workflow_run !== null],
    ['run=RUN&step=polish', (r: Row) => r.workflow_step === 'polish'],
    ['key=KEY', (r: Row) => r.team_id === 'design'],
    ['team=research&model=ge-model', (r: Row) => r.team_id === 'research' && r.model === 'ge-model'],
  ])('?%s returns only those rows', async (filter, keep) => {
    const query = filter.replace('RUN', runId).replace('KEY', design.id);
    const page = await spend(`${query}&group_by=surface,user,key`);
    const wanted = ledger.filter(keep);
    expect(wanted.length).toBeGreaterThan(0);
    expect(page.totals.calls).toBe(wanted.length);
    expect(page.totals.cost_nanos).toBe(wanted.reduce((a, r) => a + r.cost_nanos, 0));
    const groups = new Set(wanted.map((r) => `${r.surface}|${r.end_user ?? ''}|${r.key_id ?? ''}`));
    expect(new Set(page.data.map((r: Row) => r.group))).toEqual(groups);
    for (const r of page.data) if (r.key !== null) expect(r.key_name).toMatch(/^(research-ci|design-app)$/);
  });

  it('a team key reads no other team: /admin/spend is refused, and /v1/usage stays within its team', async () => {
    for (const query of ['', 'team=design', `key=${design.id}`, 'user=erin', 'group_by=team', 'format=csv']) {
      error(403, await call('GET', `/admin/spend?${query}`, RESEARCH), 'admin_only', null);
      error(403, await call('GET', `/admin/spend?${query}`, design.key), 'admin_only', null);
    }
    // Filters naming another team's end user, key or tag find nothing for a team key.
    for (const filter of ['user=erin', `key=${design.id}`, 'tag=project:lint', 'group_by=user']) {
      const res = await call('GET', `/v1/usage?${filter}`, RESEARCH);
      expect(res.status).toBe(200);
      expect(res.json.filters.team).toBe('research');
      if (filter !== 'group_by=user') expect(res.json.totals.calls).toBe(0);
      else expect(res.json.groups.map((g: Row) => g.group)).not.toContain('erin');
    }
    error(404, await call('GET', '/v1/usage?team=design', RESEARCH), 'not_found', 'team');
  });

  it('reconciles with /v1/usage for the new filters', async () => {
    for (const filter of ['user=alice', 'surface=workflow', `run=${runId}`, 'tag=a', 'tag=b:yes']) {
      const usage = await call('GET', `/v1/usage?${filter}&group_by=team`, MASTER);
      const s = await spend(`${filter}&group_by=team`);
      expect(usage.json.totals).toEqual(s.totals);
      expect(usage.json.groups.map((g: Row) => [g.group, g.cost_nanos])).toEqual(
        s.data.map((r: Row) => [r.group, r.cost_nanos]),
      );
    }
  });

  it.each([
    ['group_by=week', 'group_by'],
    ['group_by=team,team', 'group_by'],
    ['group_by=tag:a"b', 'group_by'],
    ['group_by=', 'group_by'],
    ['tag=a"b', 'tag'],
    ['user=', 'user'],
    ['limit=0', 'limit'],
    ['limit=ten', 'limit'],
    ['limit=10001', 'limit'],
    ['cursor=garbage', 'cursor'],
    ['format=xml', 'format'],
    ['from=yesterday', 'from'],
    ['from=2026-05-02&to=2026-05-01', 'to'],
    ['users=alice', 'users'],
  ])('?%s is a 400 naming %s', async (query, param) => {
    error(400, await call('GET', `/admin/spend?${query}`, MASTER), 'invalid_body', param);
  });

  it("refuses another grouping's cursor", async () => {
    const first = await spend('group_by=team&limit=1');
    expect(first.has_more).toBe(true);
    const res = await call('GET', `/admin/spend?group_by=model&cursor=${first.next_cursor}`, MASTER);
    error(400, res, 'invalid_body', 'cursor');
  });

  it('pages by cursor: every group once, in order, totals on the first page', async () => {
    const all = await spend('group_by=surface,user&limit=10000');
    expect(all.has_more).toBe(false);
    expect(all.next_cursor).toBeNull();
    const seen: Row[] = [];
    let cursor: string | null = null;
    do {
      const page = await spend(`group_by=surface,user&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.totals === null).toBe(cursor !== null);
      seen.push(...page.data);
      cursor = page.next_cursor;
      expect(page.has_more).toBe(cursor !== null);
    } while (cursor);
    expect(seen).toEqual(all.data);
  });

  it('CSV (format=csv or Accept: text/csv) parses and equals the JSON, page by page', async () => {
    const query = 'group_by=team,key,surface,tag&limit=4';
    const json = await spend(query);
    const asCsv = await call('GET', `/admin/spend?${query}&format=csv`, MASTER);
    const accepted = await call('GET', `/admin/spend?${query}`, MASTER, undefined, { accept: 'text/csv' });
    expect(asCsv.status).toBe(200);
    expect(asCsv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(accepted.text).toBe(asCsv.text);
    // A JSON client that also takes anything else still gets JSON.
    expect((await call('GET', `/admin/spend?${query}`, MASTER, undefined, { accept: '*/*' })).json).toEqual(
      json,
    );

    const records: Row[] = parseCsv(asCsv.text, { columns: true });
    expect(Object.keys(records[0]!)).toEqual([
      'team',
      'key',
      'key_name',
      'surface',
      'tag',
      'requests',
      'calls',
      'input_tokens',
      'output_tokens',
      'cached_tokens',
      'cost_nanos',
      'cost_usd',
    ]);
    const fromJson = (r: Row) =>
      Object.fromEntries(
        Object.keys(records[0]!).map((c) => {
          const v = r[c];
          return [c, v === null ? '' : c === 'tag' && v.startsWith('=') ? `'${v}` : String(v)];
        }),
      );
    expect(records.map((r) => ({ ...r, cost_usd: String(Number(r.cost_usd)) }))).toEqual(
      json.data.map(fromJson),
    );

    // The next page by the header's cursor; each page is a CSV document with its header line.
    expect(asCsv.headers.get('x-quorum-next-cursor')).toBe(json.next_cursor);
    expect(asCsv.headers.get('link')).toBe(
      `</admin/spend?group_by=team%2Ckey%2Csurface%2Ctag&limit=4&format=csv&cursor=${json.next_cursor}>; rel="next"`,
    );
    const next = await call('GET', `/admin/spend?${query}&format=csv&cursor=${json.next_cursor}`, MASTER);
    const nextJson = await spend(`${query}&cursor=${json.next_cursor}`);
    expect(parseCsv(next.text, { columns: true }) as Row[]).toHaveLength(nextJson.data.length);
  });

  it('writes a value a spreadsheet would run as a formula as text', async () => {
    const res = await call('GET', '/admin/spend?group_by=tag&tag==cmd&format=csv', MASTER);
    expect((parseCsv(res.text, { columns: true }) as Row[]).map((r) => r.tag)).toEqual(["'=cmd:=1+1"]);
    const json = await spend('group_by=tag&tag==cmd');
    expect(json.data.map((r: Row) => r.tag)).toEqual(['=cmd:=1+1']);
  });

  it('documents the parameters in /openapi.json', async () => {
    const doc = (await (await fetch(`${gw.url}/openapi.json`)).json()) as any;
    expect(doc.paths['/admin/spend'].get.parameters.map((p: Row) => p.name)).toEqual([
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
    expect(Object.keys(doc.paths['/admin/spend'].get.responses['200'].content)).toEqual([
      'application/json',
      'text/csv',
    ]);
  });
});
