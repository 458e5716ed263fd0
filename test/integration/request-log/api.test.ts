/**
 * The request log's read API on a real gateway: team scoping (a team key never sees another team's
 * record, by list, by id or in the live tail), the live tail itself, filters, paging, the bounds on
 * every query, and bad parameters answered as OpenAI-shaped 400s.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FAIL,
  get,
  type LogGateway,
  MASTER,
  OPS,
  openTail,
  post,
  RESEARCH,
  startLogGateway,
} from './helpers.ts';

let t: LogGateway;
let url: string;

beforeAll(async () => {
  t = await startLogGateway();
  url = t.gw.url;
});
afterAll(async () => {
  await t.close();
});

const ask = (key: string, content: string, extra: Record<string, unknown> = {}) =>
  post(
    url,
    '/v1/chat/completions',
    { model: 'demo-fast', messages: [{ role: 'user', content }], ...extra },
    key,
  );

/** Every id a key's list holds (all pages). */
async function idsOf(key: string, query = ''): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const sep = query ? '&' : '';
    const page = await get(
      url,
      `/v1/requests?${query}${sep}limit=200${cursor ? `&cursor=${cursor}` : ''}`,
      key,
    );
    expect(page.status).toBe(200);
    ids.push(...page.json.data.map((r: any) => r.id));
    cursor = page.json.next_cursor;
  } while (cursor);
  return ids;
}

describe('team scoping', () => {
  let research: string;
  let ops: string;

  beforeAll(async () => {
    research = (await ask(RESEARCH, 'research question')).id;
    ops = (await ask(OPS, 'ops question')).id;
  });

  it("a team key lists its own team's requests and never another team's", async () => {
    const mine = await idsOf(RESEARCH);
    expect(mine).toContain(research);
    expect(mine).not.toContain(ops);
    const page = await get(url, '/v1/requests', RESEARCH);
    expect(page.json.data.every((r: any) => r.team === 'research')).toBe(true);
  });

  it("a team key cannot read another team's request by id: 404, as an unknown one", async () => {
    const theirs = await get(url, `/v1/requests/${ops}`, RESEARCH);
    expect(theirs.status).toBe(404);
    expect(theirs.json.error).toMatchObject({
      type: 'invalid_request_error',
      code: 'not_found',
      param: 'id',
    });
    expect((await get(url, `/v1/requests/${research}`, RESEARCH)).status).toBe(200);
  });

  it('a team key naming another team gets a 404, never its records; naming its own is fine', async () => {
    const other = await get(url, '/v1/requests?team=ops', RESEARCH);
    expect(other.status).toBe(404);
    expect(other.json.error).toMatchObject({ code: 'not_found', param: 'team' });
    expect(await idsOf(RESEARCH, 'team=research')).toContain(research);
  });

  it("the master key sees every team's, and may narrow to one", async () => {
    const all = await idsOf(MASTER);
    expect(all).toEqual(expect.arrayContaining([research, ops]));
    const onlyOps = await idsOf(MASTER, 'team=ops');
    expect(onlyOps).toContain(ops);
    expect(onlyOps).not.toContain(research);
  });

  it("a team key's live tail carries only its team's requests", async () => {
    const tail = await openTail(url, RESEARCH);
    try {
      const theirs = await ask(OPS, 'ops, while research watches');
      const mine = await ask(RESEARCH, 'research, watching');
      await tail.until(() => tail.records.some((r) => r.id === mine.id));
      // Requests finish in order here: the ops one would have arrived first.
      expect(tail.records.map((r) => r.id)).not.toContain(theirs.id);
      expect(tail.records.every((r) => r.team === 'research')).toBe(true);
    } finally {
      tail.close();
    }
  });

  it('a team key cannot tail another team', async () => {
    const res = await fetch(`${url}/v1/requests/stream?team=ops`, {
      headers: { authorization: `Bearer ${RESEARCH}` },
    });
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error.param).toBe('team');
  });

  it('without a key: 401', async () => {
    for (const path of ['/v1/requests', `/v1/requests/${research}`, '/v1/requests/stream']) {
      const res = await fetch(url + path);
      expect(res.status).toBe(401);
      expect(((await res.json()) as any).error.code).toBe('invalid_api_key');
    }
  });
});

describe('the live tail', () => {
  it('delivers a request made after subscribing, as the list shows it', async () => {
    const tail = await openTail(url, MASTER);
    try {
      const r = await ask(OPS, 'tail me', { stream: true });
      await tail.until(() => tail.records.some((x) => x.id === r.id));
      const live = tail.records.find((x) => x.id === r.id);
      const listed = (await get(url, '/v1/requests?team=ops&limit=5', MASTER)).json.data.find(
        (x: any) => x.id === r.id,
      );
      expect(live).toEqual(listed);
      expect(live).toMatchObject({ team: 'ops', stream: true, status: 200, models: ['demo-fast'] });
      expect(live.route).toBeUndefined(); // the tail carries summaries; GET /v1/requests/{id} has the rest
    } finally {
      tail.close();
    }
  });

  it('applies the same filters as the list', async () => {
    const tail = await openTail(url, MASTER, '?status=5xx&surface=chat.completions');
    try {
      const ok = await ask(OPS, 'fine');
      const failed = await ask(OPS, `${FAIL} now`, { model: 'oa-model', quorum: { fallbacks: [] } });
      expect(failed.status).toBe(502);
      await tail.until(() => tail.records.some((x) => x.id === failed.id));
      expect(tail.records.map((x) => x.id)).not.toContain(ok.id);
    } finally {
      tail.close();
    }
  });

  it('lets go of its subscription when the client goes', async () => {
    const hub = t.gw.booted.requestLog!.hub;
    const settled = async (n: number) => {
      for (let i = 0; i < 100 && hub.size !== n; i++) await new Promise((r) => setTimeout(r, 20));
      expect(hub.size).toBe(n);
    };
    // The tails of the tests before, closed by their clients, are gone.
    await settled(0);
    const tail = await openTail(url, MASTER);
    expect(hub.size).toBe(1);
    tail.close();
    await settled(0);
  });
});

describe('filters', () => {
  let tagged: string;
  let failed: string;
  let embedded: string;

  beforeAll(async () => {
    tagged = (await ask(RESEARCH, 'tagged', { quorum: { tags: { feature: 'search', tier: 'gold' } } })).id;
    failed = (await ask(RESEARCH, `${FAIL} filter`, { model: 'oa-model', quorum: { fallbacks: [] } })).id;
    embedded = (await post(url, '/v1/embeddings', { model: 'embed-model', input: 'x' }, RESEARCH)).id;
  });

  it('status class and code', async () => {
    const fivexx = await idsOf(RESEARCH, 'status=5xx');
    expect(fivexx).toContain(failed);
    expect(fivexx).not.toContain(tagged);
    expect(await idsOf(RESEARCH, 'status=502')).toContain(failed);
    const ok = await idsOf(RESEARCH, 'status=2xx,3xx');
    expect(ok).toEqual(expect.arrayContaining([tagged, embedded]));
    expect(ok).not.toContain(failed);
  });

  it('surface, model (asked or answered), key and tag', async () => {
    expect(await idsOf(RESEARCH, 'surface=embeddings')).toEqual([embedded]);
    const oa = await idsOf(RESEARCH, 'model=oa-model');
    expect(oa).toContain(failed);
    expect(oa).not.toContain(tagged);
    expect(await idsOf(RESEARCH, 'model=embed-model')).toEqual([embedded]);
    expect(await idsOf(MASTER, 'key=ops-bot')).not.toContain(tagged);
    expect(await idsOf(MASTER, 'key=static:research-ci')).toContain(tagged);
    expect(await idsOf(RESEARCH, 'tag=feature:search')).toEqual([tagged]);
    expect(await idsOf(RESEARCH, 'tag=tier')).toEqual([tagged]);
    expect(await idsOf(RESEARCH, 'tag=feature:other')).toEqual([]);
  });

  it('text search over the request id, the models and the error, case-insensitive', async () => {
    expect(await idsOf(RESEARCH, `q=${tagged.slice(4, 14).toUpperCase()}`)).toEqual([tagged]);
    expect(await idsOf(RESEARCH, 'q=EXPLODED')).toContain(failed);
    expect(await idsOf(RESEARCH, 'q=embed-mod')).toEqual([embedded]);
    // LIKE's wildcards are taken literally.
    expect(await idsOf(RESEARCH, 'q=%25')).toEqual([]);
  });
});

describe('paging and bounds', () => {
  it('pages newest first with a cursor, each request once', async () => {
    const made: string[] = [];
    for (let i = 0; i < 7; i++)
      made.push((await ask(OPS, `page ${i}`, { quorum: { tags: { batch: 'paging' } } })).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { json: any } = await get(
        url,
        `/v1/requests?tag=batch:paging&limit=3${cursor ? `&cursor=${cursor}` : ''}`,
        OPS,
      );
      expect(page.json.data.length).toBeLessThanOrEqual(3);
      seen.push(...page.json.data.map((r: any) => r.id));
      expect(page.json.has_more).toBe(page.json.next_cursor !== null);
      cursor = page.json.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...made].reverse());
    const times = (await get(url, '/v1/requests?tag=batch:paging', OPS)).json.data.map(
      (r: any) => r.created_at,
    );
    expect([...times].sort().reverse()).toEqual(times);
  });

  it('covers the last day by default, and any range up to 31 days', async () => {
    const page = (await get(url, '/v1/requests?limit=1', OPS)).json;
    expect(Date.parse(page.to) - Date.parse(page.from)).toBe(86_400_000);
    const old = await get(url, '/v1/requests?from=2020-01-01T00:00:00Z&to=2020-01-31T00:00:00Z', OPS);
    expect(old.status).toBe(200);
    expect(old.json.data).toEqual([]);
    const future = Date.now() + 60_000;
    const recent = await get(url, `/v1/requests?from=${future - 3_600_000}&to=${future}`, OPS);
    expect(recent.json.data.length).toBeGreaterThan(0);
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=201', 'limit'],
    ['limit=ten', 'limit'],
    ['limit=1.5', 'limit'],
    ['cursor=not-a-cursor', 'cursor'],
    [`cursor=${Buffer.from('{"a":1}').toString('base64url')}`, 'cursor'],
    ['from=yesterday', 'from'],
    ['to=-5', 'to'],
    ['from=2024-01-02T00:00:00Z&to=2024-01-01T00:00:00Z', 'from'],
    ['from=2024-01-01T00:00:00Z&to=2024-03-01T00:00:00Z', 'from'],
    ['status=2xy', 'status'],
    ['status=', 'status'],
    ['status=600', 'status'],
    ['surface=chat', 'surface'],
    ['q=', 'q'],
    [`q=${'x'.repeat(201)}`, 'q'],
    ['model=', 'model'],
  ])('?%s is a 400 naming %s', async (query, param) => {
    const res = await get(url, `/v1/requests?${query}`, OPS);
    expect(res.status).toBe(400);
    expect(res.json).toEqual({
      error: {
        message: expect.stringContaining(param),
        type: 'invalid_request_error',
        param,
        code: 'invalid_body',
      },
    });
  });

  it('the tail refuses a bad filter the same way', async () => {
    const res = await fetch(`${url}/v1/requests/stream?status=bad`, {
      headers: { authorization: `Bearer ${OPS}` },
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error).toMatchObject({ code: 'invalid_body', param: 'status' });
  });

  it('an unknown id is a 404', async () => {
    const res = await get(url, '/v1/requests/0123456789abcdef', MASTER);
    expect(res.status).toBe(404);
    expect(res.json.error).toMatchObject({ code: 'not_found', type: 'invalid_request_error' });
  });
});

describe('the OpenAPI document', () => {
  it('lists the three endpoints', async () => {
    const doc = (await (await fetch(`${url}/openapi.json`)).json()) as any;
    expect(doc.paths['/v1/requests'].get).toBeDefined();
    expect(doc.paths['/v1/requests/{id}'].get).toBeDefined();
    expect(doc.paths['/v1/requests/stream'].get).toBeDefined();
  });
});
