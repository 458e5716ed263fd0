/**
 * The request log's query string: the filters shared by the list and the live tail, and the list's
 * time range, page size and cursor. Every bad value is a 400 naming its parameter; a team key naming
 * another team is answered as if that team did not exist (404), never with its records.
 */

import type { Context } from 'hono';
import { GatewayError } from '../../../errors/index.ts';
import { type RequestFilter, SURFACE_NAMES } from '../../../request-log/index.ts';
import type { RequestLogQuery, StatusRange } from '../../../store/index.ts';
import type { AppEnv } from '../../env.ts';
import { pageLimit, readCursor } from '../../paging.ts';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 200;
/** A list covers the last day unless `from` says otherwise. */
export const DEFAULT_SPAN_MS = 86_400_000;
/** The widest time range one list may ask for. */
export const MAX_SPAN_DAYS = 31;
const MAX_SPAN_MS = MAX_SPAN_DAYS * 86_400_000;
const MAX_TEXT = 200;

const bad = (param: string, message: string) =>
  new GatewayError('invalid_body', `${param}: ${message}`, { param });

function text(q: Record<string, string>, param: string): string | undefined {
  const value = q[param];
  if (value === undefined) return undefined;
  if (value.length === 0 || value.length > MAX_TEXT) throw bad(param, `expected 1 to ${MAX_TEXT} characters`);
  return value;
}

/** `2xx`, `4xx,5xx`, `429`: status classes and codes, any of which matches. */
function statuses(value: string): StatusRange[] {
  return value.split(',').map((part) => {
    const s = part.trim().toLowerCase();
    const klass = /^([1-5])xx$/.exec(s);
    if (klass) return { min: Number(klass[1]) * 100, max: Number(klass[1]) * 100 + 99 };
    if (/^[1-5][0-9][0-9]$/.test(s)) return { min: Number(s), max: Number(s) };
    throw bad('status', `"${part}" is neither a class such as 4xx nor a status code such as 429`);
  });
}

function surfaces(value: string): string[] {
  return value.split(',').map((part) => {
    const s = part.trim();
    if (!(SURFACE_NAMES as readonly string[]).includes(s)) {
      throw bad('surface', `unknown surface "${part}"; use ${SURFACE_NAMES.join(', ')}`);
    }
    return s;
  });
}

/** The filters the list and the tail share, scoped to the caller's team unless it is the operator. */
export function readFilter(c: Context<AppEnv>): RequestFilter {
  const q = c.req.query();
  const caller = c.get('caller');
  const team = text(q, 'team');
  if (team !== undefined && !caller.operator && team !== caller.team) {
    throw new GatewayError('not_found', `No team \`${team}\`.`, { param: 'team' });
  }
  const tag = text(q, 'tag');
  const colon = tag?.indexOf(':') ?? -1;
  const status = q.status === undefined ? undefined : statuses(q.status);
  const surface = q.surface === undefined ? undefined : surfaces(q.surface);
  const filter: RequestFilter = {
    team: caller.operator ? team : caller.team,
    key: text(q, 'key'),
    model: text(q, 'model'),
    status,
    surface,
    q: text(q, 'q'),
  };
  if (tag !== undefined) {
    filter.tag = colon < 0 ? { name: tag } : { name: tag.slice(0, colon), value: tag.slice(colon + 1) };
  }
  return filter;
}

/** Epoch ms from an ISO 8601 date-time or epoch milliseconds. */
function instant(value: string | undefined, param: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = /^[0-9]+$/.test(value)
    ? Number(value)
    : /^[0-9]{4}-[0-9]{2}-[0-9]{2}(T|$)/.test(value)
      ? Date.parse(value)
      : Number.NaN;
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw bad(param, 'expected an ISO 8601 date-time or epoch milliseconds');
  }
  return ms;
}

/** The list's whole query: filters, `[from, to)`, `limit` and `cursor`. */
export function readListQuery(c: Context<AppEnv>, now: number): RequestLogQuery {
  const q = c.req.query();
  const filter = readFilter(c);
  const to = instant(q.to, 'to') ?? now;
  const from = instant(q.from, 'from') ?? to - DEFAULT_SPAN_MS;
  if (from >= to) throw bad('from', 'must be before `to`');
  if (to - from > MAX_SPAN_MS) {
    throw bad('from', `the range from \`from\` to \`to\` may span at most ${MAX_SPAN_DAYS} days`);
  }
  const limit = pageLimit(q.limit, DEFAULT_LIMIT, MAX_LIMIT);
  const before = readCursor(q.cursor);
  return { ...filter, from, to, limit, before };
}
