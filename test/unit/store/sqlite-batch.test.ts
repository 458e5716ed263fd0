import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { CHUNK, insertBatch, multiRowSql } from '../../../src/store/sqlite-batch.ts';

const INSERT = 'insert into t (id,team,n) values (?,?,?)';
const UPSERT = `${INSERT} on conflict (id) do update set team = excluded.team, n = excluded.n`;

let db: DatabaseSync | undefined;
afterEach(() => {
  db?.close();
  db = undefined;
});

function open(): { db: DatabaseSync; prepare: (sql: string) => StatementSync; prepared: string[] } {
  const opened = new DatabaseSync(':memory:');
  db = opened;
  opened.exec('create table t (id text primary key, team text not null, n integer)');
  const prepared: string[] = [];
  const cache = new Map<string, StatementSync>();
  const prepare = (sql: string) => {
    let statement = cache.get(sql);
    if (!statement) {
      prepared.push(sql);
      statement = opened.prepare(sql);
      cache.set(sql, statement);
    }
    return statement;
  };
  return { db: opened, prepare, prepared };
}

const rows = (count: number, from = 0): SQLInputValue[][] =>
  Array.from({ length: count }, (_, i) => [`r${from + i}`, `team-${(from + i) % 3}`, from + i]);

describe('insertBatch', () => {
  it('writes every row of a batch that is not a whole number of chunks, each with its own values', () => {
    const { db, prepare, prepared } = open();
    const batch = rows(2 * CHUNK + 5);
    insertBatch(db, prepare, INSERT, batch);
    const stored = db.prepare('select id, team, n from t order by n').all();
    expect(stored).toEqual(batch.map(([id, team, n]) => ({ id, team, n })));
    // one statement for the chunks, one for the rest, each prepared once across batches
    insertBatch(db, prepare, INSERT, rows(CHUNK + 1, 1000));
    expect(prepared).toEqual([INSERT, multiRowSql(INSERT, CHUNK)]);
    expect(db.prepare('select count(*) as c from t').get()).toEqual({ c: 3 * CHUNK + 6 });
  });

  it('writes none of the batch when one row in a chunk is refused', () => {
    const { db, prepare } = open();
    insertBatch(db, prepare, INSERT, rows(3));
    const batch = rows(CHUNK * 2, 100);
    batch[CHUNK + 7] = ['r1', 'team-x', 0]; // a second r1: the primary key refuses it
    expect(() => insertBatch(db, prepare, INSERT, batch)).toThrow(/UNIQUE/);
    expect(db.prepare('select count(*) as c from t').get()).toEqual({ c: 3 });
    // the connection is usable afterwards: no transaction was left open
    insertBatch(db, prepare, INSERT, rows(CHUNK, 500));
    expect(db.prepare('select count(*) as c from t').get()).toEqual({ c: 3 + CHUNK });
  });

  it('applies an upsert row by row inside a chunk, as one-row inserts would: the later row wins', () => {
    const { db, prepare } = open();
    const batch = rows(CHUNK);
    batch[20] = ['r3', 'team-late', 99];
    insertBatch(db, prepare, UPSERT, batch);
    expect(db.prepare("select team, n from t where id = 'r3'").get()).toEqual({ team: 'team-late', n: 99 });
    expect(db.prepare('select count(*) as c from t').get()).toEqual({ c: CHUNK - 1 });
  });
});

describe('multiRowSql', () => {
  it('repeats the value tuple and keeps what follows it', () => {
    expect(multiRowSql(UPSERT, 3)).toBe(
      'insert into t (id,team,n) values (?,?,?),(?,?,?),(?,?,?) on conflict (id) do update set team = excluded.team, n = excluded.n',
    );
  });

  it('refuses a statement that is not a one-row INSERT', () => {
    expect(() => multiRowSql('delete from t where id = ?', 2)).toThrow(/not a one-row INSERT/);
  });
});
