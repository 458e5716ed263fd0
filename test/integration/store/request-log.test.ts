/**
 * The request log's table on each engine: batched appends, pages newest first with every filter (and
 * the live tail's filter agreeing with the SQL, record by record), a record by id within a team, the
 * retention sweep, and the buffer's bounds while the database refuses writes.
 */
import { sql } from 'kysely';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { matches, type RequestFilter } from '../../../src/request-log/index.ts';
import type { RequestLogRow, Store } from '../../../src/store/index.ts';
import { type Backend, backends } from './backends.ts';

const T0 = Date.parse('2026-11-20T12:00:00Z');
const DAY = 86_400_000;

function row(id: string, over: Partial<RequestLogRow> = {}): RequestLogRow {
  return {
    id,
    created_at: T0,
    team_id: 'research',
    key_id: 'key_a',
    key_name: 'ci',
    surface: 'chat.completions',
    model: 'demo-fast',
    models: 'demo-fast',
    status: 200,
    error_code: null,
    error_message: null,
    stream: 0,
    cache: null,
    tags: null,
    input_tokens: 10,
    output_tokens: 5,
    cost_nanos: 1000,
    latency_ms: 12.5,
    overhead_ms: 0.75,
    detail: '{"attempts":[]}',
    content: null,
    ...over,
  };
}

/** A varied set: teams, keys, models, statuses, surfaces, tags, errors, times. */
const ROWS: RequestLogRow[] = [
  row('a1', { created_at: T0 - 5000 }),
  row('a2', { created_at: T0 - 4000, model: 'panel', models: 'demo-fast,demo-smart,demo-mini' }),
  row('a3', {
    created_at: T0 - 3000,
    status: 502,
    model: 'oa-model',
    models: null,
    error_code: 'upstream_failed',
    error_message: 'Every model in the chain failed: 500 Upstream EXPLODED',
  }),
  row('a4', {
    created_at: T0 - 3000,
    status: 429,
    error_code: 'rate_limit_exceeded',
    error_message: 'slow down',
  }),
  row('b1', { created_at: T0 - 2000, team_id: 'ops', key_id: 'static:ops-bot', key_name: 'ops-bot' }),
  row('b2', {
    created_at: T0 - 1000,
    team_id: 'ops',
    surface: 'embeddings',
    model: 'embed',
    models: 'embed',
  }),
  row('a5', { created_at: T0 - 500, tags: JSON.stringify({ feature: 'search', tier: 'gold' }) }),
  row('a6', { created_at: T0 - 400, tags: JSON.stringify({ feature: 'chat', note: 'a"quoted":"x"' }) }),
  row('a7', { created_at: T0 - 300, model: 'demo_fast%', models: 'demo_fast%' }),
  row('old', { created_at: T0 - 2 * DAY }),
];

const FILTERS: RequestFilter[] = [
  {},
  { team: 'research' },
  { team: 'ops' },
  { key: 'key_a' },
  { key: 'ops-bot' },
  { model: 'demo-smart' },
  { model: 'demo-fast' },
  { model: 'demo' },
  { model: 'demo_fast%' },
  { status: [{ min: 500, max: 599 }] },
  {
    status: [
      { min: 400, max: 499 },
      { min: 200, max: 200 },
    ],
  },
  { surface: ['embeddings'] },
  { surface: ['embeddings', 'chat.completions'], team: 'ops' },
  { tag: { name: 'feature' } },
  { tag: { name: 'feature', value: 'search' } },
  { tag: { name: 'quoted' } },
  { tag: { name: 'tier', value: 'silver' } },
  { q: 'exploded' },
  { q: 'A3' },
  { q: 'upstream_' },
  { q: '_fast%' },
  { q: '%' },
  { q: 'rate limit' },
];

describe.each(backends())('request log on $name', ({ make }) => {
  const backend: Backend = make();
  afterAll(() => backend.cleanup());

  let seeded: Store | undefined;
  /** One store with ROWS, shared by the read tests. */
  async function withRows(): Promise<Store> {
    if (seeded) return seeded;
    seeded = await (await backend.fresh()).open();
    for (const r of ROWS) seeded.requestLog.append({ ...r });
    await seeded.requestLog.flush();
    return seeded;
  }

  const page = (store: Store, filter: RequestFilter, limit = 100) =>
    store.requestLog.list({ ...filter, from: T0 - DAY, to: T0 + 1, limit });

  it('pages newest first (ties by id), within the time range', async () => {
    const store = await withRows();
    const ids = (await page(store, {})).map((r) => r.id);
    expect(ids).toEqual(['a7', 'a6', 'a5', 'b2', 'b1', 'a4', 'a3', 'a2', 'a1']);
    const first = await page(store, {}, 4);
    const next = await store.requestLog.list({
      from: T0 - DAY,
      to: T0 + 1,
      limit: 100,
      before: { created_at: first.at(-1)!.created_at, id: first.at(-1)!.id },
    });
    expect([...first, ...next].map((r) => r.id)).toEqual(ids);
  });

  it('reads numbers back as numbers, and lists without the detail and content', async () => {
    const [r] = await page(await withRows(), { q: 'a1' });
    expect(r).toEqual(
      Object.fromEntries(
        Object.entries(row('a1', { created_at: T0 - 5000 })).filter(
          ([k]) => k !== 'detail' && k !== 'content',
        ),
      ),
    );
  });

  it.each(FILTERS.map((f) => [JSON.stringify(f), f] as const))(
    'filter %s: the SQL and the live tail agree',
    async (_name, filter) => {
      const store = await withRows();
      const listed = (await page(store, filter)).map((r) => r.id).sort();
      const inRange = ROWS.filter((r) => r.created_at >= T0 - DAY);
      const tailed = inRange
        .filter((r) => matches(r, filter))
        .map((r) => r.id)
        .sort();
      expect(listed).toEqual(tailed);
    },
  );

  it('some filters, by hand', async () => {
    const store = await withRows();
    const ids = async (f: RequestFilter) => (await page(store, f)).map((r) => r.id).sort();
    expect(await ids({ model: 'demo-smart' })).toEqual(['a2']);
    expect(await ids({ q: 'exploded' })).toEqual(['a3']);
    expect(await ids({ tag: { name: 'feature', value: 'search' } })).toEqual(['a5']);
    expect(await ids({ tag: { name: 'quoted' } })).toEqual([]);
    expect(await ids({ q: '_fast%' })).toEqual(['a7']);
    expect(await ids({ status: [{ min: 400, max: 499 }] })).toEqual(['a4']);
    expect(await ids({ key: 'ops-bot' })).toEqual(['b1']);
  });

  it('gets one record whole, and only within the team asked for', async () => {
    const store = await withRows();
    expect(await store.requestLog.get('b1')).toMatchObject({ id: 'b1', detail: '{"attempts":[]}' });
    expect(await store.requestLog.get('b1', 'ops')).toMatchObject({ id: 'b1' });
    expect(await store.requestLog.get('b1', 'research')).toBeNull();
    expect(await store.requestLog.get('nope')).toBeNull();
  });

  it('keeps client text with NULs, quotes and astral characters in JSON columns, and a duplicate id does not fail its batch', async () => {
    const store = await (await backend.fresh()).open();
    const content = JSON.stringify({ prompt: 'nul \u0000 "q" 🦓', answer: 'ok' });
    store.requestLog.append(row('dup', { content }));
    store.requestLog.append(row('dup', { content: null }));
    store.requestLog.append(row('other'));
    await store.requestLog.flush();
    expect(JSON.parse((await store.requestLog.get('dup'))!.content!)).toEqual({
      prompt: 'nul \u0000 "q" 🦓',
      answer: 'ok',
    });
    expect(await store.requestLog.get('other')).not.toBeNull();
  });

  it('sweeps: deletes records before one time and erases content before another', async () => {
    const store = await (await backend.fresh()).open();
    const text = JSON.stringify({ prompt: 'p', answer: 'a' });
    for (let i = 0; i < 30; i++) {
      store.requestLog.append(row(`r${i}`, { created_at: T0 - i * DAY, content: text }));
    }
    await store.requestLog.flush();
    const result = await store.requestLog.sweep(T0 - 20 * DAY + 1, T0 - 5 * DAY + 1);
    expect(result).toEqual({ deleted: 10, erased: 15 });
    const left = await store.requestLog.list({ from: T0 - 40 * DAY, to: T0 + 1, limit: 100 });
    expect(left.map((r) => r.id)).toEqual(Array.from({ length: 20 }, (_, i) => `r${i}`));
    expect((await store.requestLog.get('r4'))!.content).toBe(text);
    expect((await store.requestLog.get('r5'))!.content).toBeNull();
    expect(await store.requestLog.sweep(T0 - 20 * DAY + 1, T0 - 5 * DAY + 1)).toEqual({
      deleted: 0,
      erased: 0,
    });
  });

  it('while writes fail, drops text first, then records, past its byte bound — and says so', async () => {
    const onError = vi.fn();
    const store = await (await backend.fresh()).open({
      onError,
      requestLog: { maxBufferedBytes: 10_000, flushIntervalMs: 5 },
    });
    // The table is away: every write fails, as with a database that refuses them.
    await sql`alter table request_log rename to request_log_away`.execute(store.db);
    const text = JSON.stringify({ prompt: 'x'.repeat(3000), answer: null });
    store.requestLog.append(row('full0', { content: text }));
    // The writer has tried, and failed: the record waits in the buffer.
    await vi.waitFor(() =>
      expect(onError).toHaveBeenCalledWith(
        expect.objectContaining({ message: expect.stringMatching(/request_log/) }),
      ),
    );
    expect(store.requestLog.pending).toBe(1);
    for (let i = 1; i < 10; i++) store.requestLog.append(row(`full${i}`, { content: text }));
    expect(store.requestLog.textDropped).toBeGreaterThan(0);
    for (let i = 0; i < 40; i++) store.requestLog.append(row(`more${i}`));
    expect(store.requestLog.dropped).toBeGreaterThan(0);
    expect(onError).toHaveBeenCalledWith(
      expect.objectContaining({ message: expect.stringMatching(/request log buffer over 10000 bytes/) }),
    );
    await sql`alter table request_log_away rename to request_log`.execute(store.db);
    await store.requestLog.flush();
    // The first rows kept their text; the next ones were kept without it; the last ones not at all.
    expect((await store.requestLog.get('full0'))!.content).toBe(text);
    expect((await store.requestLog.get('full2'))!.content).toBeNull();
    expect(await store.requestLog.get('more39')).toBeNull();
  });
});
