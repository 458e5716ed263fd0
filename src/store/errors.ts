/**
 * What the repositories throw for a caller's mistake, as opposed to a database failure; and how to tell
 * a database that is down or busy from every other failure. The store knows nothing of HTTP: the admin
 * API maps `invalid` → 400, `not_found` → 404, `conflict` → 409 (or 400); the server's error mapper
 * turns an unavailable database into a 503 a client may retry.
 */
export type StoreErrorCode = 'invalid' | 'not_found' | 'conflict';

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  /** The offending input field (e.g. `budget.limit_usd`), when there is one. */
  readonly param: string | null;

  constructor(code: StoreErrorCode, message: string, param: string | null = null) {
    super(message);
    this.name = 'StoreError';
    this.code = code;
    this.param = param;
  }
}

/** Socket-level failures: the database host refused, dropped or never answered the connection. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** SQLSTATEs of a Postgres that is down, restarting or refusing connections. */
const PG_UNAVAILABLE = /^(08...|57P0[1-3]|53300)$/;

/** pg's own words for a connection that died or could not be made in time. */
const PG_MESSAGES =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Cannot use a pool after calling end)/;

/** SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR, SQLITE_CANTOPEN (primary result codes). */
const SQLITE_UNAVAILABLE = new Set([5, 6, 10, 14]);

/**
 * Whether an error means the database is unreachable or busy, rather than that the query or the data
 * was wrong: the request did nothing and can be retried once the database is back. Looks through
 * `cause` chains and AggregateErrors, since drivers and callers wrap.
 */
export function isStoreUnavailable(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 8) return false;
  const e = err as {
    code?: unknown;
    errcode?: unknown;
    message?: unknown;
    cause?: unknown;
    errors?: unknown;
  };
  if (typeof e.code === 'string' && (NETWORK_CODES.has(e.code) || PG_UNAVAILABLE.test(e.code))) return true;
  if (
    e.code === 'ERR_SQLITE_ERROR' &&
    typeof e.errcode === 'number' &&
    SQLITE_UNAVAILABLE.has(e.errcode & 0xff)
  ) {
    return true;
  }
  if (typeof e.message === 'string' && (PG_MESSAGES.test(e.message) || e.message === 'database is locked')) {
    return true;
  }
  if (Array.isArray(e.errors) && e.errors.some((inner) => isStoreUnavailable(inner, depth + 1))) return true;
  return isStoreUnavailable(e.cause, depth + 1);
}

/**
 * SQLSTATE class 22, "data exception": Postgres refused a value the caller sent (a NUL character in
 * text, a number or date out of range). The request was at fault, not the database.
 */
const PG_DATA_EXCEPTION = /^22[0-9A-Z]{3}$/;

/** Whether the database refused a value of the request itself (see PG_DATA_EXCEPTION). */
export function isInvalidValue(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 8) return false;
  const e = err as { code?: unknown; cause?: unknown };
  if (typeof e.code === 'string' && PG_DATA_EXCEPTION.test(e.code)) return true;
  return isInvalidValue(e.cause, depth + 1);
}

/** A short reason for logs and /readyz: a code, never an address or a query. */
export function unavailableReason(err: unknown): string {
  for (
    let e = err as { code?: unknown; message?: unknown; cause?: unknown } | undefined, i = 0;
    e && i < 8;
    i++
  ) {
    if (typeof e.code === 'string' && e.code !== 'ERR_SQLITE_ERROR') return e.code;
    if (
      typeof e.message === 'string' &&
      (PG_MESSAGES.test(e.message) || e.message === 'database is locked')
    ) {
      return e.message.split(/[:.]/)[0]!.trim();
    }
    e = e.cause as typeof e;
  }
  return 'no answer';
}
