/**
 * `QUORUM_DATABASE_URL` → which engine and where. SQLite URLs are `sqlite:<path>` (relative to the
 * working directory or absolute), `sqlite:///abs/path` (the URL form, an absolute path) or
 * `sqlite::memory:`; Postgres URLs are handed to pg untouched.
 */
import { resolve } from 'node:path';

export type DatabaseTarget =
  | { engine: 'sqlite' /** A file path, or `:memory:`. */; path: string }
  | { engine: 'postgres'; url: string };

/** Where the gateway keeps its store when QUORUM_DATABASE_URL is unset. */
export const DEFAULT_DATABASE_URL = 'sqlite:./data/quorum.db';

/** The store URL every command opens: QUORUM_DATABASE_URL when set (and not empty), else the default. */
export function databaseUrlFrom(env: NodeJS.ProcessEnv): string {
  return env.QUORUM_DATABASE_URL || DEFAULT_DATABASE_URL;
}

const USAGE =
  'expected sqlite:<path> (e.g. sqlite:./data/quorum.db, sqlite:/abs/path.db, sqlite:///abs/path.db, ' +
  'sqlite::memory:) or postgres://user:password@host:5432/database';

export function parseDatabaseUrl(url: string): DatabaseTarget {
  const trimmed = url.trim();
  if (/^postgres(ql)?:\/\//i.test(trimmed)) return { engine: 'postgres', url: trimmed };
  if (/^sqlite:/i.test(trimmed)) {
    const rest = trimmed.slice('sqlite:'.length);
    if (rest === ':memory:' || rest === ':memory') return { engine: 'sqlite', path: ':memory:' };
    // `sqlite:///abs/path.db`: an empty host and an absolute path, as in file:///abs/path.
    if (rest.startsWith('///')) return { engine: 'sqlite', path: rest.slice(2) };
    // `sqlite://x` is ambiguous (relative in SQLAlchemy, a host in URL terms): refuse rather than guess.
    if (rest.startsWith('//')) {
      throw new Error(
        `Unsupported database URL "${redactUrl(url)}": use sqlite:///abs/path.db, sqlite:/abs/path.db ` +
          'or sqlite:rel/path.db',
      );
    }
    if (rest === '')
      throw new Error(`Unsupported database URL "${redactUrl(url)}": the SQLite path is empty; ${USAGE}`);
    return { engine: 'sqlite', path: rest };
  }
  throw new Error(`Unsupported database URL "${redactUrl(url)}": ${USAGE}`);
}

/** The URL with any password replaced, for error messages and logs. */
export function redactUrl(url: string): string {
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, '$1:***@')
    .replace(/([?&](?:ssl)?password=)[^&#]*/gi, '$1***');
}

/**
 * The store a URL opens, for people: `sqlite:/abs/path/quorum.db` (resolved against `cwd`, so a relative
 * default names the file it really is) or the Postgres URL without its password.
 */
export function describeDatabase(url: string, cwd = process.cwd()): string {
  const target = parseDatabaseUrl(url);
  if (target.engine === 'postgres') return redactUrl(target.url);
  return target.path === ':memory:' ? 'sqlite::memory:' : `sqlite:${resolve(cwd, target.path)}`;
}
