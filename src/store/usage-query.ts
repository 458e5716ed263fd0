/**
 * The parameters of a usage report, checked and resolved before any SQL runs: a time range of whole
 * milliseconds with a bounded span (so no query can scan the whole ledger by accident), the bucket
 * size, the grouping and the filters. Every bad value is a StoreError naming its parameter.
 */
import {
  invalid,
  type LedgerFilters,
  parseTagFilter,
  reportInstant,
  type TagFilter,
  tagName,
} from './ledger-sql.ts';

export type UsageBucket = 'day' | 'hour';

export const BUCKET_MS: Record<UsageBucket, number> = { day: 86_400_000, hour: 3_600_000 };

/** The longest span a report may cover, per bucket size: at most 93 day or 337 hour buckets. */
export const MAX_SPAN_MS: Record<UsageBucket, number> = {
  day: 92 * BUCKET_MS.day,
  hour: 14 * BUCKET_MS.day,
};

/** Buckets covered when `from` is not given: the last 30 days, or the last 24 hours. */
export const DEFAULT_BUCKETS: Record<UsageBucket, number> = { day: 30, hour: 24 };

/** Groups shown on their own; the rest are summed into one "other" group. */
export const GROUP_LIMIT = { default: 10, max: 50 } as const;

/** Groupings where every request belongs to one group (a fan-out's models are the exception). */
const COLUMN_GROUPS = ['team', 'key', 'model', 'user', 'surface', 'run'] as const;

export type UsageGroupBy =
  | { kind: 'none' }
  | { kind: (typeof COLUMN_GROUPS)[number] }
  | { kind: 'tag'; name: string };

export interface UsageQuery {
  /** Inclusive; ISO 8601 or epoch ms. Default: the start of the bucket `DEFAULT_BUCKETS - 1` before `to`'s. */
  from?: string | number;
  /** Exclusive; ISO 8601 or epoch ms (a bare `YYYY-MM-DD` includes that whole UTC day). Default: now. */
  to?: string | number;
  bucket?: UsageBucket;
  /** `none` (default), `team`, `key`, `model`, `user`, `surface`, `run` or `tag:<name>`. */
  group_by?: string;
  team?: string;
  key?: string;
  model?: string;
  /** The end user (`user` of the request). */
  user?: string;
  surface?: string;
  /** A workflow run id, and a step name. */
  run?: string;
  step?: string;
  /** `<name>:<value>`: only requests whose tag `name` is `value`; `<name>`: that have the tag. */
  tag?: string;
  /** Groups shown on their own, 1 to 50 (default 10). */
  limit?: number;
}

export interface ResolvedUsageQuery extends LedgerFilters {
  from: number;
  to: number;
  bucket: UsageBucket;
  groupBy: UsageGroupBy;
  tag?: TagFilter;
  limit: number;
}

export function parseGroupBy(value: string | undefined): UsageGroupBy {
  if (value === undefined || value === 'none') return { kind: 'none' };
  const column = COLUMN_GROUPS.find((g) => g === value);
  if (column) return { kind: column };
  if (value.startsWith('tag:')) return { kind: 'tag', name: tagName(value.slice(4), 'group_by') };
  throw invalid('group_by', `expected none, ${COLUMN_GROUPS.join(', ')} or tag:<name>`);
}

/** `14 days`, `14 days 2 h 12 ms`: exact, so a span just past the bound never reads as the bound. */
function duration(ms: number): string {
  const parts: string[] = [];
  const units: [number, string][] = [
    [BUCKET_MS.day, ' days'],
    [BUCKET_MS.hour, ' h'],
    [60_000, ' min'],
    [1000, ' s'],
    [1, ' ms'],
  ];
  let rest = ms;
  for (const [size, unit] of units) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0) parts.push(`${n}${n === 1 && unit === ' days' ? ' day' : unit}`);
  }
  return parts.join(' ') || '0 ms';
}

/** Checks every parameter and fills in the defaults; `now` is the default end of the range. */
export function resolveUsageQuery(query: UsageQuery, now: number): ResolvedUsageQuery {
  const bucket = query.bucket ?? 'day';
  if (bucket !== 'day' && bucket !== 'hour') throw invalid('bucket', 'expected day or hour');
  const size = BUCKET_MS[bucket];
  const to = query.to === undefined ? now : reportInstant(query.to, 'to');
  const from =
    query.from === undefined
      ? Math.max(0, (Math.floor((to - 1) / size) - DEFAULT_BUCKETS[bucket] + 1) * size)
      : reportInstant(query.from, 'from');
  if (from >= to) throw invalid('to', 'expected a time after from');
  if (to - from > MAX_SPAN_MS[bucket]) {
    throw invalid(
      'from',
      `the range spans ${duration(to - from)}; with bucket=${bucket} it may span at most ${duration(MAX_SPAN_MS[bucket])}`,
    );
  }
  const limit = query.limit ?? GROUP_LIMIT.default;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > GROUP_LIMIT.max) {
    throw invalid('limit', `expected an integer from 1 to ${GROUP_LIMIT.max}`);
  }
  return {
    from,
    to,
    bucket,
    groupBy: parseGroupBy(query.group_by),
    ...(query.team !== undefined ? { team: query.team } : {}),
    ...(query.key !== undefined ? { key: query.key } : {}),
    ...(query.model !== undefined ? { model: query.model } : {}),
    ...(query.user !== undefined ? { user: query.user } : {}),
    ...(query.surface !== undefined ? { surface: query.surface } : {}),
    ...(query.run !== undefined ? { run: query.run } : {}),
    ...(query.step !== undefined ? { step: query.step } : {}),
    ...(query.tag !== undefined ? { tag: parseTagFilter(query.tag, true) } : {}),
    limit,
  };
}

/** The start of every bucket the range touches, in order (the first and last may be partly covered). */
export function bucketStarts(from: number, to: number, bucket: UsageBucket): number[] {
  const size = BUCKET_MS[bucket];
  const starts: number[] = [];
  for (let t = Math.floor(from / size) * size; t < to; t += size) starts.push(t);
  return starts;
}
