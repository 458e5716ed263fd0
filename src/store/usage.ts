/**
 * Usage over time from the ledger (`GET /v1/usage`): figures per time bucket and per group, summed in
 * SQL the way `GET /admin/spend` sums them (integer nano-dollars, `count(distinct request_id)` for
 * requests), so every figure equals the spend report's for the same filters.
 *
 * Each report reads only the ledger rows of its range (and team, key, end user or run, when filtered)
 * through the ledger's indexes (see filterCondition in ledger-sql.ts), in two or three
 * aggregate queries: the top groups by cost, the totals when they cannot be added up from those, and
 * the buckets. Requests are counted distinct at every level — per bucket, per group, overall — since
 * a fan-out request is one request with several calls (and may use several models).
 */
import { type Compilable, type CompiledQuery, type RawBuilder, type SelectQueryBuilder, sql } from 'kysely';
import { usdOfNanos } from '../limits/nanos.ts';
import type { StoreContext } from './context.ts';
import {
  figureSelects,
  figuresOf,
  filterCondition,
  type LedgerFigures,
  tagValue,
  ZERO_FIGURES as ZERO,
} from './ledger-sql.ts';
import { toIso } from './time.ts';
import type { Database } from './types.ts';
import {
  BUCKET_MS,
  bucketStarts,
  type ResolvedUsageQuery,
  resolveUsageQuery,
  type UsageBucket,
  type UsageGroupBy,
  type UsageQuery,
} from './usage-query.ts';

/** What a set of calls adds up to (see LedgerFigures). */
export type UsageFigures = LedgerFigures;

export interface UsageGroup extends UsageFigures {
  /** The team, key id, model or tag value; null for calls without a key or requests without the tag. */
  group: string | null;
  /** True for the one group summing every group past the limit (its `group` is null). */
  other: boolean;
}

export interface UsagePoint extends UsageGroup {
  /** The bucket's start (UTC midnight or the top of the hour), ISO 8601. */
  start: string;
}

export interface UsageReport {
  from: string;
  to: string;
  bucket: UsageBucket;
  group_by: string;
  limit: number;
  /** Every bucket the range touches, in order, whether or not it had usage. */
  buckets: string[];
  totals: UsageFigures;
  /** By cost (then calls) descending, then the "other" group; one group (null) for group_by none. */
  groups: UsageGroup[];
  /** Only buckets with usage; by bucket, then in the order of `groups`. */
  series: UsagePoint[];
}

type Ledger = SelectQueryBuilder<Database, 'ledger', object>;

/** The ledger column of each column grouping. */
const COLUMN = {
  team: 'team_id',
  key: 'key_id',
  model: 'model',
  user: 'end_user',
  surface: 'surface',
  run: 'workflow_run',
} as const;
type Group = string | null;

interface Row {
  grp?: unknown;
  oth?: unknown;
  bkt?: unknown;
  other_requests?: unknown;
  requests: unknown;
  calls: unknown;
  input_tokens: unknown;
  output_tokens: unknown;
  cached_tokens: unknown;
  cost_nanos: unknown;
}

/** The figures of a group of rows, as select expressions. */
const FIGURES = figureSelects();

const figures = (row: Row) => figuresOf(row as unknown as Record<string, unknown>);

/** Adds (sign 1) or takes away (sign -1) figures; requests included, for groupings that partition them. */
function combine(a: UsageFigures, b: UsageFigures, sign: 1 | -1 = 1): UsageFigures {
  const cost = a.cost_nanos + sign * b.cost_nanos;
  return {
    requests: a.requests + sign * b.requests,
    calls: a.calls + sign * b.calls,
    input_tokens: a.input_tokens + sign * b.input_tokens,
    output_tokens: a.output_tokens + sign * b.output_tokens,
    cached_tokens: a.cached_tokens + sign * b.cached_tokens,
    cost_nanos: cost,
    cost_usd: usdOfNanos(cost),
  };
}

const sumOf = (groups: UsageFigures[]) => groups.reduce<UsageFigures>((acc, x) => combine(acc, x), ZERO);

const groupValue = (value: unknown): Group => (value === null || value === undefined ? null : String(value));

/** Binary order (the same on both engines), nulls last. */
const byGroup = (a: Group, b: Group) => (a === b ? 0 : a === null ? 1 : b === null ? -1 : a < b ? -1 : 1);

/** Costliest first; ties by calls, then by group. */
const byCost = (a: UsageGroup, b: UsageGroup) =>
  b.cost_nanos - a.cost_nanos || b.calls - a.calls || byGroup(a.group, b.group);

export function groupByLabel(groupBy: UsageGroupBy): string {
  return groupBy.kind === 'tag' ? `tag:${groupBy.name}` : groupBy.kind;
}

/** Runs a compiled read-only query somewhere (the store's connection, or a reader thread) → its rows. */
export type UsageReader = (query: CompiledQuery) => Promise<unknown[]>;

/**
 * Where the reports (usage, spend) read: `flush` writes the ledger rows still buffered, so a report
 * includes every call made so far; `read` runs a report's queries (the store's own connection, or a
 * reader thread on a SQLite file).
 */
export interface ReportSource {
  flush: () => Promise<void>;
  read: UsageReader;
}

export class UsageRepo {
  readonly #ctx: StoreContext;
  readonly #flush: () => Promise<void>;
  readonly #read: UsageReader;

  constructor(ctx: StoreContext, source: ReportSource) {
    this.#ctx = ctx;
    this.#flush = source.flush;
    this.#read = source.read;
  }

  async report(query: UsageQuery): Promise<UsageReport> {
    const r = resolveUsageQuery(query, this.#ctx.now());
    await this.#flush();
    const g = this.#groupExpr(r.groupBy);
    const { totals, groups, other } = g === null ? await this.#ungrouped(r) : await this.#grouped(r, g);
    const series = await this.#series(r, g, other ? groups.map((x) => x.group) : null);
    const order = new Map(groups.map((x, i) => [x.group, i]));
    const rank = (p: UsagePoint) => (p.other ? groups.length : (order.get(p.group) ?? groups.length));
    series.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : rank(a) - rank(b)));
    return {
      from: toIso(r.from),
      to: toIso(r.to),
      bucket: r.bucket,
      group_by: groupByLabel(r.groupBy),
      limit: r.limit,
      buckets: bucketStarts(r.from, r.to, r.bucket).map(toIso),
      totals,
      groups: other ? [...groups, other] : groups,
      series,
    };
  }

  async #rows(query: Compilable<unknown>): Promise<Row[]> {
    return (await this.#read(query.compile())) as Row[];
  }

  async #ungrouped(r: ResolvedUsageQuery) {
    const [row] = await this.#rows(this.#base(r).select(FIGURES));
    const totals = figures(row!);
    const groups: UsageGroup[] = totals.calls > 0 ? [{ group: null, other: false, ...totals }] : [];
    return { totals, groups, other: null };
  }

  async #grouped(r: ResolvedUsageQuery, g: RawBuilder<Group>) {
    const top = await this.#topGroups(r, g);
    const groups = top.shown;
    const hasOther = top.count > r.limit;
    const otherOf = (totals: UsageFigures): UsageGroup | null =>
      hasOther ? { group: null, other: true, ...combine(totals, sumOf(groups), -1) } : null;
    // Team, key and tag give each request exactly one group, so the sums over every group are the
    // totals; models do not (a fan-out uses several): count their requests over the range in SQL.
    if (r.groupBy.kind !== 'model') return { totals: top.all, groups, other: otherOf(top.all) };

    const shown = groups.map((x) => x.group);
    const inTop = hasOther ? inList(g, shown) : null;
    const distinctOther = sql<number>`count(distinct case when ${inTop} then null else request_id end)`;
    const [row] = await this.#rows(
      this.#base(r).select(inTop ? [...FIGURES, distinctOther.as('other_requests')] : FIGURES),
    );
    const totals = figures(row!);
    const other = otherOf(totals);
    if (other) other.requests = Number(row!.other_requests);
    return { totals, groups, other };
  }

  /** The rows of the range, team and filters: every query starts here, so none reads past them. */
  #base(r: ResolvedUsageQuery): Ledger {
    return this.#ctx.db.selectFrom('ledger').where(filterCondition(this.#ctx.engine, r));
  }

  #groupExpr(groupBy: UsageGroupBy): RawBuilder<Group> | null {
    switch (groupBy.kind) {
      case 'none':
        return null;
      case 'tag':
        return tagValue(this.#ctx.engine, groupBy.name);
      default:
        return sql.ref<Group>(`ledger.${COLUMN[groupBy.kind]}`);
    }
  }

  /**
   * The `limit` costliest groups, how many groups there are, and the figures summed over all of them
   * (window sums over the grouped rows, taken before the limit applies): one scan of the range.
   */
  async #topGroups(r: ResolvedUsageQuery, g: RawBuilder<Group>) {
    const grouped = this.#base(r)
      .select([g.as('grp') as never, ...FIGURES])
      .groupBy(sql.ref('grp'))
      .as('t');
    const over = (column: string) => sql<number>`sum(${sql.ref(column)}) over ()`.as(`all_${column}`);
    const rows = (await this.#rows(
      this.#ctx.db
        .selectFrom(grouped)
        .selectAll()
        .select([
          sql<number>`count(*) over ()`.as('all_groups'),
          ...['requests', 'calls', 'input_tokens', 'output_tokens', 'cached_tokens', 'cost_nanos'].map(over),
        ])
        .orderBy(sql`cost_nanos`, 'desc')
        .orderBy(sql`calls`, 'desc')
        .orderBy(sql`case when grp is null then 1 else 0 end`)
        .orderBy(sql`grp`)
        .limit(r.limit),
    )) as (Row & Record<string, unknown>)[];
    const first = rows[0];
    return {
      shown: rows.map((row) => ({ group: groupValue(row.grp), other: false, ...figures(row) })).sort(byCost),
      count: first ? Number(first.all_groups) : 0,
      all: first
        ? figures({
            requests: first.all_requests,
            calls: first.all_calls,
            input_tokens: first.all_input_tokens,
            output_tokens: first.all_output_tokens,
            cached_tokens: first.all_cached_tokens,
            cost_nanos: first.all_cost_nanos,
          })
        : ZERO,
    };
  }

  /** Figures per bucket and shown group; with `shown`, every other group's rows make one "other". */
  async #series(r: ResolvedUsageQuery, g: RawBuilder<Group> | null, shown: Group[] | null) {
    const size = BUCKET_MS[r.bucket];
    const bkt = sql<number>`created_at / ${sql.lit(size)}`;
    let q = this.#base(r).select([bkt.as('bkt'), ...FIGURES]);
    if (g !== null && shown === null) q = q.select(g.as('grp') as never);
    if (g !== null && shown !== null) {
      const inTop = inList(g, shown);
      q = q.select([
        sql<Group>`case when ${inTop} then ${g} end`.as('grp') as never,
        sql<number>`case when ${inTop} then 0 else 1 end`.as('oth') as never,
      ]);
    }
    let grouped = q.groupBy(sql.ref('bkt'));
    if (g !== null) grouped = grouped.groupBy(sql.ref('grp'));
    if (shown !== null) grouped = grouped.groupBy(sql.ref('oth'));
    const rows = await this.#rows(grouped);
    return rows.map(
      (row): UsagePoint => ({
        start: toIso(Number(row.bkt) * size),
        group: Number(row.oth) === 1 ? null : groupValue(row.grp),
        other: Number(row.oth) === 1,
        ...figures(row),
      }),
    );
  }
}

/** Whether a group value is one of `values` (null included: it matches no `in` list). */
function inList(g: RawBuilder<Group>, values: Group[]): RawBuilder<boolean> {
  const named = values.filter((v): v is string => v !== null);
  const parts: RawBuilder<boolean>[] = [];
  if (named.length) parts.push(sql<boolean>`${g} in (${sql.join(named)})`);
  if (values.includes(null)) parts.push(sql<boolean>`${g} is null`);
  return parts.length ? sql<boolean>`(${sql.join(parts, sql` or `)})` : sql<boolean>`1 = 0`;
}
