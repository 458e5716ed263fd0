/**
 * `QUORUM_DATABASE_URL` → which engine and where. SQLite URLs are `sqlite:<path>` (relative to the
 * working directory or absolute) or `sqlite::memory:`; Postgres URLs are handed to pg untouched.
 */
export type DatabaseTarget =
  | { engine: 'sqlite' /** A file path, or `:memory:`. */; path: string }
  | { engine: 'postgres'; url: string };

const USAGE =
  'expected sqlite:<path> (e.g. sqlite:./data/quorum.db, sqlite:/abs/path.db, sqlite::memory:) ' +
  'or postgres://user:password@host:5432/database';

export function parseDatabaseUrl(url: string): DatabaseTarget {
  const trimmed = url.trim();
  if (/^postgres(ql)?:\/\//i.test(trimmed)) return { engine: 'postgres', url: trimmed };
  if (/^sqlite:/i.test(trimmed)) {
    const rest = trimmed.slice('sqlite:'.length);
    if (rest === ':memory:' || rest === ':memory') return { engine: 'sqlite', path: ':memory:' };
    // `sqlite://x` is ambiguous (relative in SQLAlchemy, a host in URL terms): refuse rather than guess.
    if (rest.startsWith('//')) {
      throw new Error(
        `Unsupported database URL "${redactUrl(url)}": use sqlite:/abs/path.db or sqlite:rel/path.db`,
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
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}
