import { describe, expect, it } from 'vitest';
import { MEMORY, openSqliteDatabase } from '../../../src/store/sqlite-dialect.ts';

describe('node:sqlite adapter', () => {
  it('marks statements that return rows as readers', () => {
    const db = openSqliteDatabase(MEMORY);
    const create = db.prepare('create table t (x integer, flag integer)');
    expect(create.reader).toBe(false);
    create.run([]);
    expect(db.prepare('insert into t values (?, ?)').reader).toBe(false);
    expect(db.prepare('insert into t values (?, ?) returning x').reader).toBe(true);
    expect(db.prepare('select x from t').reader).toBe(true);
    expect(db.prepare('pragma journal_mode').reader).toBe(true);
    db.close();
  });

  it('runs, reads and iterates with positional parameters (booleans and undefined bound as SQLite has them)', () => {
    const db = openSqliteDatabase(MEMORY);
    db.prepare('create table t (x integer, flag integer)').run([]);
    expect(db.prepare('insert into t values (?, ?)').run([1, true])).toEqual({
      changes: 1,
      lastInsertRowid: 1,
    });
    db.prepare('insert into t values (?, ?)').run([2, undefined]);
    expect(db.prepare('select x, flag from t order by x').all([])).toEqual([
      { x: 1, flag: 1 },
      { x: 2, flag: null },
    ]);
    expect([...db.prepare('select x from t where x > ?').iterate([1])]).toEqual([{ x: 2 }]);
    db.close();
    db.close(); // closing twice is harmless (Kysely's destroy may follow ours)
  });

  it('reuses prepared statements for the same SQL', () => {
    const db = openSqliteDatabase(MEMORY);
    expect(db.prepare('select 1 as one')).toBe(db.prepare('select 1 as one'));
    db.close();
  });
});
