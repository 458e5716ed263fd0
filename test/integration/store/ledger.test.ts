import { sql } from 'kysely';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { LedgerEntry, Store } from '../../../src/store/index.ts';
import { type Backend, backends } from './backends.ts';

const DAY = 86_400_000;
const T0 = Date.parse('2026-11-20T00:00:00Z');

function entry(over: Partial<LedgerEntry> = {}): LedgerEntry {
  return {
    request_id: 'req',
    team_id: 'research',
    key_id: 'key_a',
    model: 'gpt-4o-mini',
    provider: 'openai',
    input_tokens: 100,
    cached_tokens: 0,
    output_tokens: 50,
    cost_nanos: 1000,
    latency_ms: 20,
    status: 200,
    created_at: T0,
    ...over,
  };
}

async function count(store: Store): Promise<number> {
  const row = await store.db
    .selectFrom('ledger')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe.each(backends())('ledger on $name', ({ make }) => {
  const backend: Backend = make();
  afterAll(() => backend.cleanup());

  const open = async (ledger: { flushIntervalMs?: number; batchSize?: number } = {}, onError = vi.fn()) =>
    (await backend.fresh()).open({ ledger, onError });

  it('append is synchronous and leaves the database alone until a flush', async () => {
    const store = await open({ flushIntervalMs: 60_000 });
    const result = store.ledger.append(entry({ tags: { project: 'apollo' } })) as unknown;
    expect(result).toBeUndefined();
    expect(store.ledger.pending).toBe(1);
    expect(await count(store)).toBe(0);

    await store.ledger.flush();
    expect(store.ledger.pending).toBe(0);
    const rows = await store.db.selectFrom('ledger').selectAll().execute();
    expect(rows).toEqual([
      {
        id: expect.any(Number),
        ...entry(),
        tags: '{"project":"apollo"}',
        tag_pairs: '["project:apollo"]',
        key_name: null,
        end_user: null,
        surface: null,
        workflow_run: null,
        workflow_step: null,
      },
    ]);
  });

  it('writes on its own within the flush interval', async () => {
    const store = await open({ flushIntervalMs: 20 });
    store.ledger.append(entry());
    // The writer thread commits before its reply reaches the ledger, so the row can be readable a moment
    // before the buffer lets go of it: both must happen within the wait.
    await vi.waitFor(
      async () => {
        expect(await count(store)).toBe(1);
        expect(store.ledger.pending).toBe(0);
      },
      { timeout: 2000, interval: 10 },
    );
  });

  it('stamps created_at at append time when not given', async () => {
    let clock = T0 + 12_345;
    const store = await (await backend.fresh()).open({
      now: () => clock,
      ledger: { flushIntervalMs: 60_000 },
    });
    store.ledger.append(entry({ created_at: undefined }));
    clock += 10_000;
    await store.ledger.flush();
    const row = await store.db.selectFrom('ledger').select('created_at').executeTakeFirstOrThrow();
    expect(row.created_at).toBe(T0 + 12_345);
  });

  it('takes 1,000 rows in one synchronous burst and writes them all in batches', async () => {
    const store = await open({ flushIntervalMs: 60_000 });
    for (let i = 0; i < 1000; i++) store.ledger.append(entry({ request_id: `r${i}`, cost_nanos: i }));
    // Appending only buffers: nothing is written until a flush.
    expect(store.ledger.pending).toBe(1000);
    expect(await count(store)).toBe(0);

    await store.ledger.flush();
    expect(store.ledger.pending).toBe(0);
    expect(await count(store)).toBe(1000);
    expect(await store.ledger.spentSince('research', 0)).toBe((999 * 1000) / 2);
    const ids = await store.db.selectFrom('ledger').select('request_id').orderBy('id').execute();
    expect(ids.map((r) => r.request_id)).toEqual(Array.from({ length: 1000 }, (_, i) => `r${i}`));
  });

  it('keeps rows through a failed write and writes them once the database is back', async () => {
    const onError = vi.fn();
    const store = await open({ flushIntervalMs: 60_000 }, onError);
    store.ledger.append(entry({ request_id: 'first' }));
    await store.ledger.flush();

    await sql`alter table ledger rename to ledger_away`.execute(store.db);
    store.ledger.append(entry({ request_id: 'during-outage' }));
    await expect(store.ledger.flush()).rejects.toThrow();
    expect(store.ledger.pending).toBe(1);

    await sql`alter table ledger_away rename to ledger`.execute(store.db);
    store.ledger.append(entry({ request_id: 'after' }));
    await store.ledger.flush();
    const ids = await store.db.selectFrom('ledger').select('request_id').orderBy('id').execute();
    expect(ids.map((r) => r.request_id)).toEqual(['first', 'during-outage', 'after']);
  });

  it('writes a batch whole or not at all: a row the database refuses keeps the whole batch queued', async () => {
    const onError = vi.fn();
    const store = await open({ flushIntervalMs: 60_000 }, onError);
    store.ledger.append(entry({ request_id: 'before' }));
    await store.ledger.flush();
    // A check the third row breaks: the first two must not be committed without it.
    await (store.engine === 'postgres'
      ? sql`alter table ledger add constraint no_bad check (request_id <> 'bad')`
      : sql`create trigger no_bad before insert on ledger when new.request_id = 'bad' begin select raise(abort, 'refused'); end`
    ).execute(store.db);
    for (const id of ['one', 'two', 'bad', 'four']) store.ledger.append(entry({ request_id: id }));
    await expect(store.ledger.flush()).rejects.toThrow();
    expect(store.ledger.pending).toBe(4);
    const ids = await store.db.selectFrom('ledger').select('request_id').orderBy('id').execute();
    expect(ids.map((r) => r.request_id)).toEqual(['before']);
  });

  it('a batch written while another transaction is open on the store neither joins nor breaks it', async () => {
    const store = await open({ flushIntervalMs: 60_000 });
    await store.teams.create({ id: 'kept' });
    let inside!: () => void;
    const opened = new Promise<void>((resolve) => {
      inside = resolve;
    });
    const rolledBack = store.db
      .transaction()
      .execute(async (trx) => {
        await trx.updateTable('teams').set({ models: '["changed"]' }).where('id', '=', 'kept').execute();
        inside();
        await new Promise((resolve) => setTimeout(resolve, 50));
        throw new Error('roll back');
      })
      .catch((err: Error) => err.message);
    await opened;
    store.ledger.append(entry({ request_id: 'during' }));
    const flushed = store.ledger.flush();
    expect(await rolledBack).toBe('roll back');
    await flushed;
    // The batch was written after the transaction, outside it: the rollback took only its own change.
    const ids = await store.db.selectFrom('ledger').select('request_id').execute();
    expect(ids.map((r) => r.request_id)).toEqual(['during']);
    const team = await store.teams.get('kept');
    expect(team?.id).toBe('kept');
    expect(team?.models).toBeUndefined();
  });

  it('sums spend exactly in nano-dollars, per team, from an inclusive start', async () => {
    const store = await open({ flushIntervalMs: 60_000 });
    const costs = [1, 999_999_999, 123_456_789_012, 4_000_000_000_000_001];
    for (const [i, cost_nanos] of costs.entries()) {
      store.ledger.append(entry({ request_id: `s${i}`, cost_nanos, created_at: T0 + i }));
    }
    store.ledger.append(entry({ team_id: 'other', cost_nanos: 5, created_at: T0 }));
    store.ledger.append(entry({ cost_nanos: 777, created_at: T0 - 1 })); // before the period
    // No explicit flush: spentSince writes what is buffered first.
    expect(await store.ledger.spentSince('research', T0)).toBe(4_000_124_456_789_013);
    expect(await store.ledger.spentSince('research', T0 + 3)).toBe(4_000_000_000_000_001);
    expect(await store.ledger.spentSince('research', T0 - 1)).toBe(4_000_124_456_789_013 + 777);
    expect(await store.ledger.spentSince('other', T0)).toBe(5);
    expect(await store.ledger.spentSince('nobody', 0)).toBe(0);
  });

  describe('spend report', () => {
    let store: Store;
    // Three days; two teams; a fan-out request (two calls, one request id); a keyless call.
    const rows: LedgerEntry[] = [
      entry({ request_id: 'a', created_at: T0 + 1000, model: 'gpt-4o-mini', cost_nanos: 150 }),
      entry({
        request_id: 'b',
        created_at: T0 + DAY - 1,
        model: 'claude-haiku',
        key_id: 'key_b',
        cost_nanos: 250,
      }),
      entry({
        request_id: 'c',
        created_at: T0 + DAY,
        model: 'gpt-4o-mini',
        input_tokens: 10,
        cost_nanos: 1_000_000_000,
      }),
      entry({
        request_id: 'c',
        created_at: T0 + DAY + 5,
        model: 'claude-haiku',
        output_tokens: 7,
        cost_nanos: 3,
      }),
      entry({ request_id: 'd', created_at: T0 + 2 * DAY, team_id: 'ops', key_id: null, cost_nanos: 40 }),
    ];

    it('groups by day, model, key and team, ordered by group', async () => {
      store = await open({ flushIntervalMs: 60_000 });
      for (const row of rows) store.ledger.append(row);

      expect(await store.spend.all({ group_by: 'day' })).toMatchObject([
        {
          group: '2026-11-20',
          requests: 2,
          calls: 2,
          input_tokens: 200,
          output_tokens: 100,
          cost_usd: 400e-9,
        },
        {
          group: '2026-11-21',
          requests: 1,
          calls: 2,
          input_tokens: 110,
          output_tokens: 57,
          cost_usd: 1.000000003,
        },
        { group: '2026-11-22', requests: 1, calls: 1, input_tokens: 100, output_tokens: 50, cost_usd: 40e-9 },
      ]);
      expect(await store.spend.all({ group_by: 'model' })).toMatchObject([
        {
          group: 'claude-haiku',
          requests: 2,
          calls: 2,
          input_tokens: 200,
          output_tokens: 57,
          cost_usd: 253e-9,
        },
        {
          group: 'gpt-4o-mini',
          requests: 3,
          calls: 3,
          input_tokens: 210,
          output_tokens: 150,
          cost_usd: 1.00000019,
        },
      ]);
      const byKey = await store.spend.all({ group_by: 'key' });
      expect(byKey.map((r) => [r.group, r.requests, r.calls])).toEqual([
        ['key_a', 2, 3],
        ['key_b', 1, 1],
        [null, 1, 1],
      ]);
      expect(await store.spend.all({ group_by: 'team' })).toMatchObject([
        { group: 'ops', requests: 1, calls: 1, input_tokens: 100, output_tokens: 50, cost_usd: 40e-9 },
        {
          group: 'research',
          requests: 3,
          calls: 4,
          input_tokens: 310,
          output_tokens: 157,
          cost_usd: 1.000000403,
        },
      ]);
    });

    it('filters by team, key and model', async () => {
      const team = await store.spend.all({ group_by: 'model', team: 'ops' });
      expect(team).toMatchObject([
        {
          group: 'gpt-4o-mini',
          requests: 1,
          calls: 1,
          input_tokens: 100,
          output_tokens: 50,
          cost_usd: 40e-9,
        },
      ]);
      const key = await store.spend.all({ group_by: 'day', key: 'key_b' });
      expect(key.map((r) => [r.group, r.cost_usd])).toEqual([['2026-11-20', 250e-9]]);
      const model = await store.spend.all({ group_by: 'team', model: 'claude-haiku' });
      expect(model.map((r) => [r.group, r.calls])).toEqual([['research', 2]]);
      expect(await store.spend.all({ group_by: 'team', team: 'nobody' })).toEqual([]);
    });

    it('limits to a from/to range (from inclusive, to exclusive; a bare date `to` includes its day)', async () => {
      const days = async (from?: string | number, to?: string | number) =>
        (await store.spend.all({ group_by: 'day', from, to })).map((r) => r.group);
      expect(await days('2026-11-21')).toEqual(['2026-11-21', '2026-11-22']);
      expect(await days(undefined, '2026-11-21')).toEqual(['2026-11-20', '2026-11-21']);
      expect(await days('2026-11-21', '2026-11-21')).toEqual(['2026-11-21']);
      expect(await days('2026-11-21T00:00:00Z', '2026-11-22T00:00:00Z')).toEqual(['2026-11-21']);
      expect(await days(T0 + 1001, T0 + DAY)).toEqual(['2026-11-20']);
      expect(await days(T0 + DAY + 1, T0 + DAY + 6)).toEqual(['2026-11-21']);
      const edge = await store.spend.all({ group_by: 'day', from: T0 + DAY + 1, to: T0 + DAY + 6 });
      expect(edge[0]).toMatchObject({ requests: 1, calls: 1, cost_usd: 3e-9 });
    });

    it('refuses an unknown group_by or a bad date', async () => {
      await expect(store.spend.all({ group_by: 'week' as never })).rejects.toMatchObject({
        code: 'invalid',
        param: 'group_by',
      });
      await expect(store.spend.all({ group_by: 'day', from: 'yesterday' })).rejects.toMatchObject({
        param: 'from',
      });
    });
  });
});
