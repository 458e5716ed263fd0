/** The SQLite threads: connections of their own to the store's file that read and write off the event loop. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, expect, it } from 'vitest';
import { openStore } from '../../../src/store/index.ts';
import { SqliteThread } from '../../../src/store/sqlite-thread.ts';

const dir = mkdtempSync(join(tmpdir(), 'quorum-reader-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('reads what the store committed, passes SQLite errors on with their codes, and stops on close', async () => {
  const path = join(dir, 'q.db');
  const store = await openStore(`sqlite:${path}`);
  await store.teams.create({ id: 'research' });
  const reader = new SqliteThread(path, 'reader');
  expect(await reader.all('select id from teams where id = ?', ['research'])).toEqual([{ id: 'research' }]);

  const bad = await reader.all('select nope from teams', []).catch((e) => e);
  expect(bad).toMatchObject({ code: 'ERR_SQLITE_ERROR', message: expect.stringContaining('nope') });
  // Read-only: the thread's connection refuses writes.
  const write = await reader
    .all("insert into teams (id, created_at, updated_at) values ('x', 0, 0)", [])
    .catch((e) => e);
  expect(write).toMatchObject({ code: 'ERR_SQLITE_ERROR' });
  expect(await store.teams.get('x')).toBeNull();

  // Queries asked at once are all answered, in order.
  const many = await Promise.all(Array.from({ length: 20 }, (_, i) => reader.all('select ? as n', [i])));
  expect(many.map((rows) => (rows[0] as { n: number }).n)).toEqual(Array.from({ length: 20 }, (_, i) => i));

  await reader.close();
  await expect(reader.all('select 1', [])).rejects.toThrow(/closed/);
  await store.close();
});

it('a writer commits each batch whole or not at all, and the store reads it as soon as it is acknowledged', async () => {
  const path = join(dir, 'w.db');
  const store = await openStore(`sqlite:${path}`);
  const writer = new SqliteThread(path, 'writer');
  const insert = 'insert into teams (id, created_at, updated_at) values (?, ?, ?)';
  await writer.insert(insert, [
    ['a', 1, 1],
    ['b', 2, 2],
  ]);
  expect((await store.teams.list()).map((t) => t.id)).toEqual(['a', 'b']);

  // The third row repeats a key: the batch fails with SQLite's code, and none of it stays.
  const failed = await writer
    .insert(insert, [
      ['c', 3, 3],
      ['d', 4, 4],
      ['a', 5, 5],
    ])
    .catch((e) => e);
  expect(failed).toMatchObject({ code: 'ERR_SQLITE_ERROR', message: expect.stringMatching(/UNIQUE/) });
  expect((await store.teams.list()).map((t) => t.id)).toEqual(['a', 'b']);

  // A batch waits for a lock the store's own connection holds, then goes through.
  await sql`begin immediate`.execute(store.db);
  await store.teams.create({ id: 'held' }).catch(() => {});
  const waiting = writer.insert(insert, [['e', 6, 6]]);
  await new Promise((resolve) => setTimeout(resolve, 100));
  await sql`commit`.execute(store.db);
  await waiting;
  expect((await store.teams.list()).map((t) => t.id).sort()).toEqual(['a', 'b', 'e', 'held']);

  await writer.close();
  await expect(writer.insert(insert, [['f', 7, 7]])).rejects.toThrow(/closed/);
  await store.close();
});

it("the store's own transactions take the write lock first, so a batch the writer commits meanwhile cannot fail them", async () => {
  const path = join(dir, 't.db');
  const store = await openStore(`sqlite:${path}`);
  const writer = new SqliteThread(path, 'writer');
  const insert = 'insert into teams (id, created_at, updated_at) values (?, ?, ?)';
  let batch: Promise<void> | undefined;
  await store.db.transaction().execute(async (trx) => {
    // A read first: a transaction that only then wrote would find its snapshot outdated by the batch.
    await trx.selectFrom('teams').selectAll().execute();
    batch = writer.insert(insert, [['from-writer', 1, 1]]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await trx.insertInto('teams').values({ id: 'from-store', created_at: 2, updated_at: 2 }).execute();
  });
  await batch;
  expect((await store.teams.list()).map((t) => t.id).sort()).toEqual(['from-store', 'from-writer']);
  await writer.close();
  await store.close();
});
