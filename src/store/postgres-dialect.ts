/**
 * Kysely over a pg Pool. Two settings matter to the store: int8 (`bigint` columns, `count(*)`) comes
 * back as a JavaScript number rather than pg's default string, so nano-dollar sums compare and add
 * like the SQLite ones (exact up to 2^53 nanos ≈ $9M per sum); and an optional schema through
 * `search_path`, so tests (or several installs) can share one database.
 */
import { PostgresDialect } from 'kysely';
import pg from 'pg';

const INT8_OID = 20;

const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID && format !== 'binary'
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

export interface PostgresOptions {
  /** Schema for every table (sets `search_path`); must exist. Default: the server's search_path. */
  schema?: string;
  /** Pool size (default 10). */
  max?: number;
  /** Errors of idle pooled connections (pg emits them as events; unhandled they would crash the process). */
  onError?: (err: unknown) => void;
}

export function createPostgresPool(url: string, options: PostgresOptions = {}): pg.Pool {
  if (options.schema !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(options.schema)) {
    throw new Error(`Invalid Postgres schema name "${options.schema}": letters, digits and _ only`);
  }
  const pool = new pg.Pool({
    connectionString: url,
    types,
    max: options.max ?? 10,
    connectionTimeoutMillis: 10_000,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  });
  pool.on('error', (err) => options.onError?.(err));
  // pg-pool listens for errors only on idle clients: a connection lost while checked out (mid-query,
  // mid-transaction) would emit an unhandled 'error' and end the process. The query itself rejects
  // with the same error, so that is where it is reported.
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

export function createPostgresDialect(pool: pg.Pool): PostgresDialect {
  return new PostgresDialect({ pool });
}
