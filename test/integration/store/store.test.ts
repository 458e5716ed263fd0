import { existsSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../../src/store/index.ts';
import { type Backend, backends, SqliteBackend } from './backends.ts';

describe.each(backends())('store on $name', ({ make }) => {
  const backend: Backend = make();
  afterAll(() => backend.cleanup());

  it('migrates at open, and opening again is a no-op that keeps the pepper', async () => {
    const target = await backend.fresh();
    const first = await target.open();
    await first.teams.create({ id: 'research' });
    const pepper = first.pepper;
    expect(pepper).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await first.close();

    const second = await target.open();
    expect(second.pepper).toBe(pepper);
    expect((await second.teams.list()).map((t) => t.id)).toEqual(['research']);
    const migrations = await sql<{ name: string }>`select name from quorum_migration`.execute(second.db);
    expect(migrations.rows.map((r) => r.name)).toEqual([
      '0001_teams_keys_ledger_meta',
      '0002_workflows',
      '0003_workflow_teams',
      '0004_responses',
      '0005_request_log',
      '0006_ledger_indexes',
      '0008_alerts_audit',
      '0009_ledger_attribution',
      '0010_run_versions',
      '0011_learned_quality',
      '0012_run_cost_holds',
      '0013_budget_scopes',
    ]);
    await second.ping();
  });

  it('lets several processes open a new database at once: one schema, one pepper', async () => {
    const target = await backend.fresh();
    const peppers = await backend.openConcurrently(target, 4);
    expect(new Set(peppers).size).toBe(1);
    const store = await target.open();
    expect(store.pepper).toBe(peppers[0]);
    expect(await store.db.selectFrom('meta').selectAll().execute()).toEqual([
      { key: 'key_pepper', value: store.pepper },
    ]);
  });

  it('keeps teams, keys and ledger rows across close and reopen', async () => {
    const target = await backend.fresh();
    const store = await target.open();
    await store.teams.create({ id: 'ops', budget: { limit_usd: 10, period: 'monthly' } });
    const { key, id } = await store.keys.create({ team: 'ops', name: 'ci' });
    store.ledger.append({
      request_id: 'r1',
      team_id: 'ops',
      key_id: id,
      model: 'gpt-4o-mini',
      provider: 'openai',
      input_tokens: 10,
      output_tokens: 5,
      cost_nanos: 1234,
      latency_ms: 12,
      status: 200,
    });
    // No flush: close must write what is still buffered.
    await store.close();

    const again = await target.open();
    expect((await again.teams.get('ops'))?.budget).toEqual({ limit_usd: 10, period: 'monthly' });
    expect((await again.keys.findByKey(key))?.id).toBe(id);
    expect(await again.ledger.spentSince('ops', 0)).toBe(1234);
  });

  it('close is idempotent', async () => {
    const store = await (await backend.fresh()).open();
    await store.close();
    await store.close();
  });
});

describe('store on sqlite: files', () => {
  const backend = new SqliteBackend();
  afterAll(() => backend.cleanup());

  it('creates the parent directory and uses WAL with foreign keys on', async () => {
    const target = await backend.fresh();
    const path = target.url.slice('sqlite:'.length);
    expect(existsSync(path)).toBe(false);
    const store = await target.open();
    expect(existsSync(path)).toBe(true);
    const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(store.db);
    expect(mode.rows[0]?.journal_mode).toBe('wal');
    const fk = await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(store.db);
    expect(fk.rows[0]?.foreign_keys).toBe(1);
  });

  it('resolves relative paths against the working directory', async () => {
    const rel = relative(process.cwd(), join(backend.dir, 'rel', 'quorum.db'));
    expect(isAbsolute(rel)).toBe(false);
    const store = await openStore(`sqlite:${rel}`);
    await store.teams.create({ id: 't' });
    await store.close();
    expect(existsSync(join(backend.dir, 'rel', 'quorum.db'))).toBe(true);
  });

  it.each(['sqlite::memory:', 'sqlite::memory'])('opens %s', async (url) => {
    const store = await openStore(url);
    await store.teams.create({ id: 'mem' });
    expect(await store.teams.get('mem')).toMatchObject({ id: 'mem' });
    await store.close();
  });
});

describe('openStore errors', () => {
  it.each(['mysql://root@localhost/quorum', 'quorum.db', 'sqlite:', 'sqlite://data/quorum.db', ''])(
    'refuses %j with an error naming the URL',
    async (url) => {
      await expect(openStore(url)).rejects.toThrow(`"${url}"`);
    },
  );

  it('names an unreachable Postgres server without its password', async () => {
    const err = await openStore('postgres://quorum:s3cret@127.0.0.1:1/quorum').catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain('postgres://quorum:***@127.0.0.1:1/quorum');
    expect((err as Error).message).not.toContain('s3cret');
  });
});
