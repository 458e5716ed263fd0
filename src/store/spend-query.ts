/**
 * The parameters of a spend report (`GET /admin/spend`, `quorum spend`), checked and resolved before
 * any SQL runs: the dimensions to group by (any combination), the filters, the page size and where the
 * page starts. Every bad value is a StoreError naming its parameter.
 */
import {
  invalid,
  type LedgerFilters,
  parseTagFilter,
  reportInstant,
  type TagFilter,
  tagName,
} from './ledger-sql.ts';

/**
 * What a report can group by. `tag` is each `name:value` tag of a request, its cost and tokens split
 * equally over them; `tag:<name>` is the value of one tag (one group per request, nothing split).
 */
export const SPEND_DIMENSIONS = [
  'team',
  'key',
  'model',
  'day',
  'hour',
  'user',
  'tag',
  'surface',
  'run',
  'step',
] as const;

export type SpendDimensionName = (typeof SPEND_DIMENSIONS)[number];

export type SpendDimension =
  | { kind: Exclude<SpendDimensionName, 'tag'>; field: SpendDimensionName }
  | { kind: 'tag'; field: 'tag' }
  | { kind: 'tag_value'; field: `tag:${string}`; name: string };

/** Rows per page: `limit` from 1 to max (default when absent). */
export const SPEND_LIMIT = { default: 1000, max: 10_000 } as const;

/** Dimensions at most in one `group_by`. */
const MAX_DIMENSIONS = 8;

export interface SpendQuery {
  /** Comma-separated (`team,model,day`) or a list; default `day`. */
  group_by?: string | readonly string[];
  team?: string;
  /** A key id (`key_…`), or `static:<name>` for a key of the config file. */
  key?: string;
  model?: string;
  /** The end user. */
  user?: string;
  /** `<name>` (requests that have the tag) or `<name>:<value>` (split at the first colon). */
  tag?: string;
  surface?: string;
  /** A workflow run id, and a step name. */
  run?: string;
  step?: string;
  /** Inclusive; ISO 8601 or epoch ms (a bare `YYYY-MM-DD` is that day's UTC midnight). */
  from?: string | number;
  /** Exclusive; ISO 8601 or epoch ms — but a bare `YYYY-MM-DD` includes that whole UTC day. */
  to?: string | number;
  /** Rows per page, 1 to 10 000 (default 1000). */
  limit?: number;
  /** `next` of the previous page: this page starts after that row. */
  after?: readonly unknown[];
}

export interface ResolvedSpendQuery extends LedgerFilters {
  dimensions: SpendDimension[];
  /** `team,model,day`: names the grouping, and is checked against a page's `after`. */
  label: string;
  tag?: TagFilter;
  limit: number;
  /** The previous page's last row, as its group values. */
  after?: (string | number | null)[];
}

/** Dimensions whose values are integers (time buckets); the others are text, or null. */
export const isBucket = (d: SpendDimension) => d.kind === 'day' || d.kind === 'hour';

export function parseDimensions(groupBy: SpendQuery['group_by']): SpendDimension[] {
  const names =
    groupBy === undefined ? ['day'] : typeof groupBy === 'string' ? groupBy.split(',') : [...groupBy];
  const expected = `expected one or more of ${SPEND_DIMENSIONS.join(', ')} or tag:<name>, comma-separated`;
  if (names.length > MAX_DIMENSIONS) throw invalid('group_by', `at most ${MAX_DIMENSIONS} dimensions`);
  const seen = new Set<string>();
  return names.map((raw) => {
    const name = raw.trim();
    if (seen.has(name)) throw invalid('group_by', `"${name}" is named twice`);
    seen.add(name);
    if (name.startsWith('tag:')) {
      const tag = tagName(name.slice(4), 'group_by');
      return { kind: 'tag_value', field: `tag:${tag}`, name: tag };
    }
    const known = SPEND_DIMENSIONS.find((d) => d === name);
    if (!known) throw invalid('group_by', `unknown dimension "${name}"; ${expected}`);
    return known === 'tag' ? { kind: 'tag', field: 'tag' } : { kind: known, field: known };
  });
}

/** A page's `after`: the grouping's label, then one value per dimension, as `next` gave them. */
function parseAfter(after: readonly unknown[], label: string, dimensions: SpendDimension[]) {
  const bad = () => invalid('cursor', 'not a cursor of this report (use next_cursor of the previous page)');
  if (after.length !== dimensions.length + 1 || after[0] !== label) throw bad();
  return dimensions.map((d, i) => {
    const v = after[i + 1];
    if (isBucket(d) ? Number.isSafeInteger(v) : v === null || typeof v === 'string') {
      return v as string | number | null;
    }
    throw bad();
  });
}

/** The filters that match one column exactly. */
const COLUMN_FILTERS = ['team', 'key', 'model', 'user', 'surface', 'run', 'step'] as const;

export function resolveSpendQuery(query: SpendQuery): ResolvedSpendQuery {
  const dimensions = parseDimensions(query.group_by);
  const label = dimensions.map((d) => d.field).join(',');
  const limit = query.limit ?? SPEND_LIMIT.default;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > SPEND_LIMIT.max) {
    throw invalid('limit', `expected an integer from 1 to ${SPEND_LIMIT.max}`);
  }
  const from = query.from === undefined ? undefined : reportInstant(query.from, 'from');
  const to = query.to === undefined ? undefined : reportInstant(query.to, 'to');
  if (from !== undefined && to !== undefined && from >= to) throw invalid('to', 'expected a time after from');
  const filters: LedgerFilters = {};
  for (const name of COLUMN_FILTERS) if (query[name] !== undefined) filters[name] = query[name];
  return {
    dimensions,
    label,
    limit,
    ...filters,
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
    ...(query.tag !== undefined ? { tag: parseTagFilter(query.tag, true) } : {}),
    ...(query.after !== undefined ? { after: parseAfter(query.after, label, dimensions) } : {}),
  };
}
