/**
 * Keyset paging shared by the lists that page (runs and the request log, newest first; spend reports,
 * in group order): `limit` read from the query string, and the opaque cursor naming the last row of a
 * page (its `created_at` and `id`, or a report's group values).
 */
import { GatewayError } from '../errors/index.ts';

/** The last row of a page: the next page starts strictly before it. */
export interface PageCursor {
  created_at: number;
  id: string;
}

const bad = (param: string, message: string) =>
  new GatewayError('invalid_body', `${param}: ${message}`, { param });

/** `limit` from the query string: an integer from 1 to `max`, `fallback` when absent; else a 400. */
export function pageLimit(raw: string | undefined, fallback: number, max: number): number {
  const limit = raw === undefined ? fallback : Number(raw);
  if (!/^[0-9]+$/.test(raw ?? '1') || !Number.isSafeInteger(limit) || limit < 1 || limit > max) {
    throw bad('limit', `expected an integer from 1 to ${max}`);
  }
  return limit;
}

const badCursor = () => bad('cursor', 'not a cursor this list gave (use next_cursor of the previous page)');

/** A cursor's values (what `encodeCursor` wrapped), or undefined when there is none; garbage is a 400. */
export function decodeCursor(raw: string | undefined): unknown[] | undefined {
  if (raw === undefined) return undefined;
  try {
    const values = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    if (Array.isArray(values)) return values;
  } catch {
    // answered below
  }
  throw badCursor();
}

/** An opaque cursor carrying a row's sort values. */
export const encodeCursor = (values: readonly unknown[]) =>
  Buffer.from(JSON.stringify(values)).toString('base64url');

/** A `cursor` this API gave out, or undefined when there is none; anything else is a 400. */
export function readCursor(raw: string | undefined): PageCursor | undefined {
  const values = decodeCursor(raw);
  if (values === undefined) return undefined;
  const [created_at, id] = values;
  if (!Number.isSafeInteger(created_at) || typeof id !== 'string') throw badCursor();
  return { created_at: created_at as number, id };
}

/** The cursor naming a page's last row. */
export const cursorOf = (row: PageCursor) => encodeCursor([row.created_at, row.id]);
