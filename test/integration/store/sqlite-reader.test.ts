/** The SQLite reader thread: a second connection to the store's file that answers reads off the event loop. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { openStore } from '../../../src/store/index.ts';
import { SqliteReader } from '../../../src/store/sqlite-reader.ts';

const dir = mkdtempSync(join(tmpdir(), 'quorum-reader-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('reads what the store committed, passes SQLite errors on with their codes, and stops on close', async () => {
  const path = join(dir, 'q.db');
  const store = await openStore(`sqlite:${path}`);
  await store.teams.create({ id: 'research' });
  const reader = new SqliteReader(path);
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
