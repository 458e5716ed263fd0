/**
 * Spend by any combination of dimensions (`GET /admin/spend`, `quorum spend`): one row per group of
 * team, key, model, day, hour, end user, tag, surface, workflow run and step — any of them, in the order
 * asked — with every filter, a page at a time. Sums come from the SQL `/v1/usage` uses (ledger-sql.ts),
 * so the two reconcile to the nano-dollar.
 *
 * A page is one aggregate query over the filtered rows, ordered by the group values (binary order on
 * both engines, nulls last) and cut after `limit` rows; the next page starts strictly after the last
 * row's values (keyset paging: no offset, nothing read twice or skipped when pages are fetched one
 * after another). The totals are a second aggregate over the same rows.
 *
 * Tags split, never multiply. `tag` groups each `name:value` tag of a request apart: a call with n tags
 * gives each of them 1/n of its cost and tokens, in whole nano-dollars and tokens — the remainder one
 * each to its first tags by name — so the tag groups add up to the totals exactly. Requests and calls
 * are counted in each tag's group (as a fan-out counts in each of its models'), and once in the totals.
 */
import { type RawBuilder, sql } from 'kysely';
import type { StoreContext } from './context.ts';
import {
  figureSelects,
  figuresOf,
  filterCondition,
  type LedgerFigures,
  type SummedColumn,
  tagValue,
} from './ledger-sql.ts';
import {
  isBucket,
  type ResolvedSpendQuery,
  resolveSpendQuery,
  type SpendDimension,
  type SpendQuery,
} from './spend-query.ts';
import { toIso } from './time.ts';
import type { ReportSource, UsageReader } from './usage.ts';

/** One group: its figures, and each dimension's value by name (`team`, `day`, `tag:project`, …). */
export interface SpendRow extends LedgerFigures {
  /**
   * One dimension: its value (`YYYY-MM-DD` for day, the hour's ISO start, the tag as `name:value`),
   * null for calls without one (no key, no end user, no tag…). Several: the values joined by `|`.
   */
  group: string | null;
  /** Also `key_name` (the key's name) when grouped by key. */
  [dimension: string]: string | number | null;
}

export interface SpendPage {
  /** The dimensions, in order: the names of each row's own fields. */
  group_by: string[];
  rows: SpendRow[];
  /**
   * The figures of every row the filters select (each request once, whatever its tags): on the first
   * page only (null on the pages after it, which would only repeat them, and when not asked for).
   */
  totals: LedgerFigures | null;
  /** Pass as `after` for the next page; null on the last page. */
  next: unknown[] | null;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** The ledger column of each column dimension. */
const COLUMN = {
  team: 'team_id',
  key: 'key_id',
  model: 'model',
  user: 'end_user',
  surface: 'surface',
  run: 'workflow_run',
  step: 'workflow_step',
} as const;

type Value = string | number | null;

/** A group value as the row shows it: days and hours as dates, the rest as stored. */
function shown(d: SpendDimension, value: Value): string | null {
  if (value === null) return null;
  if (d.kind === 'day') return toIso(Number(value) * DAY_MS).slice(0, 10);
  if (d.kind === 'hour') return toIso(Number(value) * HOUR_MS);
  return String(value);
}

export class SpendRepo {
  readonly #ctx: StoreContext;
  readonly #flush: () => Promise<void>;
  readonly #read: UsageReader;

  constructor(ctx: StoreContext, source: ReportSource) {
    this.#ctx = ctx;
    this.#flush = source.flush;
    this.#read = source.read;
  }

  /** One page of groups; the first (no `after`) also has the totals, unless `totals: false`. */
  async page(query: SpendQuery, options: { totals?: boolean } = {}): Promise<SpendPage> {
    const r = resolveSpendQuery(query);
    await this.#flush();
    const raw = (await this.#read(this.#pageQuery(r).compile(this.#ctx.db))) as Record<string, unknown>[];
    const more = raw.length > r.limit;
    const rows = more ? raw.slice(0, r.limit) : raw;
    const values = (row: Record<string, unknown>): Value[] =>
      r.dimensions.map((d, i) => {
        const v = row[`g${i}`];
        return v === null || v === undefined ? null : isBucket(d) ? Number(v) : String(v);
      });
    let totals: LedgerFigures | null = null;
    if (options.totals !== false && !r.after) {
      const q = sql`select ${sql.join(figureSelects())} from ledger where ${filterCondition(this.#ctx.engine, r)}`;
      const [row] = (await this.#read(q.compile(this.#ctx.db))) as Record<string, unknown>[];
      totals = figuresOf(row!);
    }
    return {
      group_by: r.dimensions.map((d) => d.field),
      rows: rows.map((row) => this.#row(r, values(row), row)),
      totals,
      next: more ? [r.label, ...values(rows.at(-1)!)] : null,
    };
  }

  /** Every group, page after page (the CLI's table, tests). */
  async all(query: Omit<SpendQuery, 'after' | 'limit'>): Promise<SpendRow[]> {
    const rows: SpendRow[] = [];
    let after: unknown[] | null | undefined;
    do {
      const page = await this.page({ ...query, ...(after ? { after } : {}) }, { totals: false });
      rows.push(...page.rows);
      after = page.next;
    } while (after);
    return rows;
  }

  #row(r: ResolvedSpendQuery, values: Value[], raw: Record<string, unknown>): SpendRow {
    const fields: Record<string, string | null> = {};
    r.dimensions.forEach((d, i) => {
      fields[d.field] = shown(d, values[i]!);
      if (d.kind === 'key') fields.key_name = raw.key_name === null ? null : String(raw.key_name);
    });
    const labels = r.dimensions.map((d) => fields[d.field]!);
    const group = labels.length === 1 ? labels[0]! : labels.map((v) => v ?? '').join('|');
    return { group, ...fields, ...figuresOf(raw) };
  }

  #pageQuery(r: ResolvedSpendQuery): RawBuilder<unknown> {
    const pg = this.#ctx.engine === 'postgres';
    const split = r.dimensions.some((d) => d.kind === 'tag');
    const groups = r.dimensions.map((d, i) => sql`${this.#dimension(d)} as ${sql.ref(`g${i}`)}`);
    if (r.dimensions.some((d) => d.kind === 'key')) groups.push(sql`max(ledger.key_name) as key_name`);
    const figures = figureSelects(split ? (c) => this.#share(c) : undefined);
    const from = !split
      ? sql`ledger`
      : pg
        ? sql`ledger left join lateral json_array_elements_text(ledger.tag_pairs::json) with ordinality as tp(value, ord) on true`
        : sql`ledger left join json_each(ledger.tag_pairs) as tp on true`;
    const inner = sql`select ${sql.join([...groups, ...figures])} from ${from}
      where ${filterCondition(this.#ctx.engine, r)}
      group by ${sql.join(r.dimensions.map((_, i) => sql.ref(`g${i}`)))}`;

    // Sort keys: a bucket as it is; text as (is null, value) so nulls sort last on both engines, in
    // byte order (Postgres: collation "C", which is SQLite's binary order).
    const keys: RawBuilder<unknown>[] = [];
    const after: unknown[] = [];
    r.dimensions.forEach((d, i) => {
      const g = sql.ref(`g${i}`);
      const v = r.after?.[i];
      if (isBucket(d)) {
        keys.push(sql`${g}`);
        after.push(v);
        return;
      }
      keys.push(sql`case when ${g} is null then 1 else 0 end`);
      keys.push(pg ? sql`coalesce(${g}, '') collate "C"` : sql`coalesce(${g}, '')`);
      after.push(v === null ? 1 : 0, v ?? '');
    });
    const where = r.after ? sql`where (${sql.join(keys)}) > (${sql.join(after)})` : sql``;
    return sql`select * from (${inner}) as grouped ${where}
      order by ${sql.join(keys)} limit ${sql.lit(r.limit + 1)}`;
  }

  #dimension(d: SpendDimension): RawBuilder<unknown> {
    switch (d.kind) {
      case 'day':
        return sql`ledger.created_at / ${sql.lit(DAY_MS)}`;
      case 'hour':
        return sql`ledger.created_at / ${sql.lit(HOUR_MS)}`;
      case 'tag':
        return sql`tp.value`;
      case 'tag_value':
        return tagValue(this.#ctx.engine, d.name);
      default:
        return sql.ref(`ledger.${COLUMN[d.kind]}`);
    }
  }

  /**
   * A call's share of a summed column for the tag it is joined with: the column over its n tags,
   * plus one for each of the first (column mod n) tags — the shares add up to the column exactly.
   */
  #share(column: SummedColumn): RawBuilder<number> {
    const pg = this.#ctx.engine === 'postgres';
    const c = sql.ref(`ledger.${column}`);
    const n = pg ? sql`json_array_length(ledger.tag_pairs::json)` : sql`json_array_length(ledger.tag_pairs)`;
    const rank = pg ? sql`(tp.ord - 1)` : sql`tp.key`;
    return sql<number>`case when ledger.tag_pairs is null then ${c}
      else ${c} / ${n} + case when ${rank} < ${c} % ${n} then 1 else 0 end end`;
  }
}
