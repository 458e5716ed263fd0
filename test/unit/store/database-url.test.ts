import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DATABASE_URL,
  databaseUrlFrom,
  describeDatabase,
  parseDatabaseUrl,
  redactUrl,
} from '../../../src/store/database-url.ts';
import { toEpochMs } from '../../../src/store/time.ts';

describe('parseDatabaseUrl', () => {
  it.each([
    ['sqlite:./data/quorum.db', { engine: 'sqlite', path: './data/quorum.db' }],
    ['sqlite:/abs/path.db', { engine: 'sqlite', path: '/abs/path.db' }],
    ['sqlite:rel/path.db', { engine: 'sqlite', path: 'rel/path.db' }],
    // The URL form: an empty host, then the absolute path (as file:///abs/path).
    ['sqlite:///abs/path.db', { engine: 'sqlite', path: '/abs/path.db' }],
    ['sqlite:///var/lib/quorum/quorum.db', { engine: 'sqlite', path: '/var/lib/quorum/quorum.db' }],
    ['sqlite::memory:', { engine: 'sqlite', path: ':memory:' }],
    ['sqlite::memory', { engine: 'sqlite', path: ':memory:' }],
    ['postgres://u:p@db:5432/quorum', { engine: 'postgres', url: 'postgres://u:p@db:5432/quorum' }],
    [
      'postgresql://db/quorum?sslmode=require',
      { engine: 'postgres', url: 'postgresql://db/quorum?sslmode=require' },
    ],
  ])('%s', (url, expected) => {
    expect(parseDatabaseUrl(url)).toEqual(expected);
  });

  it.each(['mysql://db/q', 'quorum.db', 'sqlite:', 'sqlite://x.db', 'file:x.db'])(
    'refuses %s, naming it',
    (url) => {
      expect(() => parseDatabaseUrl(url)).toThrow(`"${url}"`);
    },
  );

  it('says which forms it takes when refusing sqlite://x (a host, or a relative path?)', () => {
    expect(() => parseDatabaseUrl('sqlite://x.db')).toThrow('sqlite:///abs/path.db');
  });

  it('never puts a password in an error', () => {
    expect(() => parseDatabaseUrl('mysql://root:hunter2@db/q')).toThrow('"mysql://root:***@db/q"');
  });
});

describe('redactUrl', () => {
  it.each([
    ['postgres://u:secret@h:5432/d', 'postgres://u:***@h:5432/d'],
    ['postgres://u@h/d', 'postgres://u@h/d'],
    ['postgres://h/d', 'postgres://h/d'],
    ['sqlite:./x.db', 'sqlite:./x.db'],
    [
      'postgres://h/d?user=u&password=secret&sslmode=require',
      'postgres://h/d?user=u&password=***&sslmode=require',
    ],
  ])('%s', (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });
});

describe('describeDatabase (the store a command says it opened)', () => {
  it('names a SQLite file by its absolute path, whichever form the URL took', () => {
    expect(describeDatabase('sqlite:./data/quorum.db', '/srv/quorum')).toBe(
      'sqlite:/srv/quorum/data/quorum.db',
    );
    expect(describeDatabase('sqlite:///abs/q.db', '/srv')).toBe('sqlite:/abs/q.db');
    expect(describeDatabase('sqlite::memory:')).toBe('sqlite::memory:');
  });

  it('names a Postgres database without its password', () => {
    expect(describeDatabase('postgres://quorum:hunter2@db:5432/quorum')).toBe(
      'postgres://quorum:***@db:5432/quorum',
    );
  });
});

describe('databaseUrlFrom', () => {
  it('is QUORUM_DATABASE_URL when set, else the SQLite default under ./data', () => {
    expect(databaseUrlFrom({ QUORUM_DATABASE_URL: 'postgres://h/d' })).toBe('postgres://h/d');
    expect(databaseUrlFrom({ QUORUM_DATABASE_URL: '' })).toBe(DEFAULT_DATABASE_URL);
    expect(databaseUrlFrom({})).toBe('sqlite:./data/quorum.db');
  });
});

describe('toEpochMs', () => {
  it('reads ISO strings, bare dates (UTC) and epoch ms', () => {
    expect(toEpochMs('2026-11-22T10:00:00Z', 'x')).toBe(Date.UTC(2026, 10, 22, 10));
    expect(toEpochMs('2026-11-22', 'x')).toBe(Date.UTC(2026, 10, 22));
    expect(toEpochMs('2026-11-22', 'x', true)).toBe(Date.UTC(2026, 10, 23));
    expect(toEpochMs(1_700_000_000_000, 'x')).toBe(1_700_000_000_000);
    expect(toEpochMs('1700000000000', 'x')).toBe(1_700_000_000_000);
  });

  it('names the field it cannot read', () => {
    expect(() => toEpochMs('soon', 'expires_at')).toThrow(expect.objectContaining({ param: 'expires_at' }));
    expect(() => toEpochMs(Number.NaN, 'to')).toThrow('to:');
  });
});
