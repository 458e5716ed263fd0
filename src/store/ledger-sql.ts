/**
 * The SQL the two ledger reports share — usage over time (`GET /v1/usage`, usage.ts) and spend by any
 * combination of dimensions (`GET /admin/spend`, spend.ts) — so that, for the same filters, their
 * figures are the same to the nano-dollar: what a set of calls adds up to, a tag's value, and the
 * filters (time range, team, key, model, end user, surface, workflow run and step, tag).
 */
import { type RawBuilder, sql } from 'kysely';
import { usdOfNanos } from '../limits/nanos.ts';
import { StoreError } from './errors.ts';
import type { Engine } from './migrations.ts';
import { toEpochMs } from './time.ts';

/** What a set of ledger rows adds up to. */
export interface LedgerFigures {
  /** Distinct request ids: a fan-out or a fallback is one request. */
  requests: number;
  /** Upstream calls (ledger rows). */
  calls: number;
  input_tokens: number;
  output_tokens: number;
  /** Input tokens the provider served from its prompt cache (part of input_tokens). */
  cached_tokens: number;
  /** Exact integer nano-dollars (1e-9 USD): these add up exactly, cost_usd is derived from them. */
  cost_nanos: number;
  cost_usd: number;
}

export const ZERO_FIGURES: LedgerFigures = {
  requests: 0,
  calls: 0,
  input_tokens: 0,
  output_tokens: 0,
  cached_tokens: 0,
  cost_nanos: 0,
  cost_usd: 0,
};

/** The summed columns, in the order figures are selected. */
export const SUMMED = ['input_tokens', 'output_tokens', 'cached_tokens', 'cost_nanos'] as const;
export type SummedColumn = (typeof SUMMED)[number];

/**
 * The figures of a group of rows, as select expressions. `share` replaces a summed column by its share
 * (a multi-tag call split over its tags); requests and calls are counted, never split.
 */
export function figureSelects(share?: (column: SummedColumn) => RawBuilder<number>) {
  const sum = (column: SummedColumn) => {
    const value = share ? share(column) : sql.ref(`ledger.${column}`);
    return sql<number>`cast(coalesce(sum(${value}), 0) as bigint)`.as(column);
  };
  return [
    sql<number>`count(distinct ledger.request_id)`.as('requests'),
    sql<number>`count(*)`.as('calls'),
    ...SUMMED.map(sum),
  ];
}

/** A row of `figureSelects` (drivers give bigints as strings or numbers) → figures. */
export function figuresOf(row: Record<string, unknown>): LedgerFigures {
  const cost = Number(row.cost_nanos);
  return {
    requests: Number(row.requests),
    calls: Number(row.calls),
    input_tokens: Number(row.input_tokens),
    output_tokens: Number(row.output_tokens),
    cached_tokens: Number(row.cached_tokens),
    cost_nanos: cost,
    cost_usd: usdOfNanos(cost),
  };
}

/** A request's value of one tag (the ledger's `tags` is a JSON object of strings), or null. */
export function tagValue(engine: Engine, name: string): RawBuilder<string | null> {
  return engine === 'postgres'
    ? sql<string | null>`(ledger.tags::json ->> ${name})`
    : sql<string | null>`json_extract(ledger.tags, ${`$."${name}"`})`;
}

/** Longest tag name a report accepts (`group_by=tag:<name>`, `tag=<name>[:<value>]`). */
const MAX_TAG_NAME = 200;

/** `Date` can show instants up to the end of the year 9999 (and the ledger holds none before 1970). */
const MAX_EPOCH_MS = 253_402_300_799_999;

export const invalid = (param: string, message: string) =>
  new StoreError('invalid', `${param}: ${message}`, param);

/** A tag name a report can query: 1 to 200 characters, without `"` or `\`. */
export function tagName(name: string, param: string): string {
  if (name.length === 0 || name.length > MAX_TAG_NAME) {
    throw invalid(param, `expected a tag name of 1 to ${MAX_TAG_NAME} characters`);
  }
  // SQLite's JSON paths have no escape for a double quote inside a quoted key.
  if (/["\\]/.test(name)) throw invalid(param, 'a tag name with " or \\ cannot be queried');
  return name;
}

export interface TagFilter {
  name: string;
  /** Absent: every request that has the tag, whatever its value. */
  value?: string;
}

/** `<name>:<value>` (split at the first colon), or `<name>` alone when `valueOptional`. */
export function parseTagFilter(value: string, valueOptional: boolean): TagFilter {
  const colon = value.indexOf(':');
  if (colon < 0) {
    if (valueOptional) return { name: tagName(value, 'tag') };
    throw invalid('tag', 'expected <name>:<value>, e.g. project:apollo');
  }
  return { name: tagName(value.slice(0, colon), 'tag'), value: value.slice(colon + 1) };
}

/** An instant a report may start or end at: 1970 to the end of 9999 (`to`: a bare date ends that day). */
export function reportInstant(value: string | number, param: 'from' | 'to'): number {
  const ms = toEpochMs(value, param, param === 'to');
  if (ms < 0 || ms > MAX_EPOCH_MS) {
    throw invalid(param, 'expected a time between 1970 and the end of the year 9999');
  }
  return ms;
}

/** Which ledger rows a report reads. Every field narrows; none set reads the whole ledger. */
export interface LedgerFilters {
  /** Inclusive epoch ms. */
  from?: number | undefined;
  /** Exclusive epoch ms. */
  to?: number | undefined;
  team?: string | undefined;
  /** A key id (`key_…`), or `static:<name>` for a key of the config file. */
  key?: string | undefined;
  model?: string | undefined;
  /** The end user. */
  user?: string | undefined;
  surface?: string | undefined;
  /** A workflow run id, and a step name. */
  run?: string | undefined;
  step?: string | undefined;
  tag?: TagFilter | undefined;
}

/**
 * The filters as one condition. The range and the team, key, end user and run are each served by an
 * index of the ledger (`created_at`, `(team_id, created_at)`, `(key_id, created_at)`,
 * `(end_user, created_at)`, `(workflow_run, created_at)`); model, surface, step and tag narrow the
 * rows those read.
 */
export function filterCondition(engine: Engine, f: LedgerFilters): RawBuilder<boolean> {
  const parts: RawBuilder<boolean>[] = [];
  const eq = (column: string, value: string | undefined) => {
    if (value !== undefined) parts.push(sql<boolean>`${sql.ref(`ledger.${column}`)} = ${value}`);
  };
  if (f.from !== undefined) parts.push(sql<boolean>`ledger.created_at >= ${f.from}`);
  if (f.to !== undefined) parts.push(sql<boolean>`ledger.created_at < ${f.to}`);
  eq('team_id', f.team);
  eq('key_id', f.key);
  eq('model', f.model);
  eq('end_user', f.user);
  eq('surface', f.surface);
  eq('workflow_run', f.run);
  eq('workflow_step', f.step);
  if (f.tag !== undefined) {
    const value = tagValue(engine, f.tag.name);
    parts.push(
      f.tag.value === undefined
        ? sql<boolean>`${value} is not null`
        : sql<boolean>`${value} = ${f.tag.value}`,
    );
  }
  return parts.length ? sql<boolean>`${sql.join(parts, sql` and `)}` : sql<boolean>`1 = 1`;
}
