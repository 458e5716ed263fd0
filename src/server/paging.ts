/**
 * Keyset paging shared by the lists that page newest first (runs, the request log): `limit` read from
 * the query string, and the opaque cursor naming the last row of a page (its `created_at` and `id`).
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

/** A `cursor` this API gave out, or undefined when there is none; anything else is a 400. */
export function readCursor(raw: string | undefined): PageCursor | undefined {
  if (raw === undefined) return undefined;
  try {
    const [created_at, id] = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    if (!Number.isSafeInteger(created_at) || typeof id !== 'string') throw new Error('shape');
    return { created_at, id };
  } catch {
    throw bad('cursor', 'not a cursor this list gave (use next_cursor of the previous page)');
  }
}

/** The cursor naming a page's last row. */
export const cursorOf = (row: PageCursor) =>
  Buffer.from(JSON.stringify([row.created_at, row.id])).toString('base64url');
