/**
 * The spend ledger: one row per upstream call, appended off the request path (see ledger-writer.ts)
 * and read back for the start-up rebuild of budget counters and for spend reports. Sums are taken in
 * SQL as integer nano-dollars, so they are exact and match what the budget backends count.
 */

import { type Insertable, sql } from 'kysely';
import { usdOfNanos } from '../limits/nanos.ts';
import type { StoreContext } from './context.ts';
import { StoreError } from './errors.ts';
import { LedgerWriter, type LedgerWriterOptions } from './ledger-writer.ts';
import { toEpochMs } from './time.ts';
import type { LedgerTable } from './types.ts';

export interface LedgerEntry {
  request_id: string;
  team_id: string;
  key_id?: string | null;
  model: string;
  provider: string;
  input_tokens: number;
  cached_tokens?: number;
  output_tokens: number;
  /** Integer nano-dollars (`amountNanos(usd)`). */
  cost_nanos: number;
  latency_ms: number;
  /** HTTP status of the upstream call; 200 = answered. */
  status: number;
  /** The request's `quorum.tags`. */
  tags?: Record<string, unknown> | null;
  /** Epoch ms; defaults to the time of `append`, not of the later write. */
  created_at?: number;
}

export type SpendGroupBy = 'day' | 'model' | 'key' | 'team';

export interface SpendQuery {
  team?: string;
  key?: string;
  model?: string;
  /** Inclusive; ISO 8601 or epoch ms (a bare `YYYY-MM-DD` is that day's UTC midnight). */
  from?: string | number;
  /** Exclusive; ISO 8601 or epoch ms — but a bare `YYYY-MM-DD` includes that whole UTC day. */
  to?: string | number;
  group_by: SpendGroupBy;
}

export interface SpendRow {
  /** `YYYY-MM-DD` (UTC) for day; the model, key id or team id otherwise; null for calls without a key. */
  group: string | null;
  /** Distinct request ids: a fan-out is one request. */
  requests: number;
  /** Upstream calls (ledger rows). */
  calls: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
}

const DAY_MS = 86_400_000;
const GROUP_BY: readonly SpendGroupBy[] = ['day', 'model', 'key', 'team'];
const GROUP_COLUMN = { model: 'model', key: 'key_id', team: 'team_id' } as const;

/** Whole numbers only reach the INSERT, so one odd value cannot fail (and so block) a whole batch. */
const int = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? Math.round(value) : 0);
/**
 * Token columns are 32-bit in Postgres: an upstream reporting absurd usage (10^12 tokens) would fail the
 * whole batch, other teams' rows included, so counts are stored at most at the column's maximum.
 */
const TOKENS_MAX = 2_147_483_647;
const tokens = (value: unknown) => Math.min(Math.max(int(value), 0), TOKENS_MAX);

function tagsJson(tags: LedgerEntry['tags'], onError: (err: unknown) => void): string | null {
  if (tags === undefined || tags === null) return null;
  try {
    return JSON.stringify(tags);
  } catch (err) {
    onError(err);
    return null;
  }
}

/** The row an entry is stored as (`now` when it has no `created_at`); also for rows written in another transaction. */
export function ledgerRow(
  entry: LedgerEntry,
  now: number,
  onError: (err: unknown) => void = () => {},
): Insertable<LedgerTable> {
  return {
    request_id: String(entry.request_id),
    team_id: String(entry.team_id),
    key_id: entry.key_id ?? null,
    model: String(entry.model),
    provider: String(entry.provider),
    input_tokens: tokens(entry.input_tokens),
    cached_tokens: tokens(entry.cached_tokens),
    output_tokens: tokens(entry.output_tokens),
    cost_nanos: int(entry.cost_nanos),
    latency_ms: int(entry.latency_ms),
    status: int(entry.status),
    tags: tagsJson(entry.tags, onError),
    created_at: entry.created_at === undefined ? now : int(entry.created_at),
  };
}

export type LedgerOptions = LedgerWriterOptions;

/** 13 columns × 2000 rows stays under both engines' bound-parameter limits (SQLite 32 766, pg 65 535). */
const MAX_BATCH = 2000;

export class Ledger {
  readonly #ctx: StoreContext;
  readonly #writer: LedgerWriter<Insertable<LedgerTable>>;
  readonly #onError: (err: unknown) => void;

  constructor(ctx: StoreContext, options: LedgerOptions = {}) {
    this.#ctx = ctx;
    this.#onError = options.onError ?? (() => {});
    this.#writer = new LedgerWriter((rows) => this.#insert(rows), {
      ...options,
      batchSize: Math.min(options.batchSize ?? 500, MAX_BATCH),
    });
  }

  /** Synchronous and O(1): the row is written with the next batch (within `flushIntervalMs`). */
  append(entry: LedgerEntry): void {
    if (!Number.isFinite(entry.cost_nanos)) {
      this.#onError(
        new Error(`ledger: request ${entry.request_id} has cost_nanos ${entry.cost_nanos}; recorded as 0`),
      );
    }
    this.#writer.append(ledgerRow(entry, this.#ctx.now(), this.#onError));
  }

  /** Rows appended but not yet written. */
  get pending(): number {
    return this.#writer.pending;
  }

  /** Rows dropped because the database refused writes for too long (see LedgerWriterOptions). */
  get dropped(): number {
    return this.#writer.dropped;
  }

  /** Writes everything appended so far (SIGTERM, tests); rejects if the database refuses. */
  flush(): Promise<void> {
    return this.#writer.flush();
  }

  /** Flushes and stops the timer. */
  close(): Promise<void> {
    return this.#writer.close();
  }

  async #insert(rows: Insertable<LedgerTable>[]): Promise<void> {
    await this.#ctx.db.insertInto('ledger').values(rows).execute();
  }

  /**
   * A team's spend in nano-dollars since `sinceMs` (inclusive) — the current budget period's start, to
   * rebuild counters at start-up. Rows still buffered are written first, so the sum includes them.
   */
  async spentSince(team: string, sinceMs: number): Promise<number> {
    await this.flush();
    const row = await this.#ctx.db
      .selectFrom('ledger')
      .select(sql<number>`cast(coalesce(sum(cost_nanos), 0) as bigint)`.as('nanos'))
      .where('team_id', '=', team)
      .where('created_at', '>=', sinceMs)
      .executeTakeFirstOrThrow();
    return Number(row.nanos);
  }

  /** `GET /admin/spend`: totals per group, ordered by group (days chronologically). */
  async spendReport(query: SpendQuery): Promise<SpendRow[]> {
    if (!GROUP_BY.includes(query.group_by)) {
      throw new StoreError('invalid', `group_by: expected one of ${GROUP_BY.join(', ')}`, 'group_by');
    }
    const from = query.from === undefined ? undefined : toEpochMs(query.from, 'from');
    const to = query.to === undefined ? undefined : toEpochMs(query.to, 'to', true);
    await this.flush();

    // Whole UTC days since the epoch: integer division on both engines (created_at is never negative).
    const group =
      query.group_by === 'day'
        ? sql<number | string | null>`created_at / ${sql.lit(DAY_MS)}`
        : sql.ref(GROUP_COLUMN[query.group_by]);
    let q = this.#ctx.db
      .selectFrom('ledger')
      .select([
        group.as('grp'),
        sql<number>`count(distinct request_id)`.as('requests'),
        sql<number>`count(*)`.as('calls'),
        sql<number>`cast(sum(input_tokens) as bigint)`.as('input_tokens'),
        sql<number>`cast(sum(output_tokens) as bigint)`.as('output_tokens'),
        sql<number>`cast(sum(cost_nanos) as bigint)`.as('cost_nanos'),
      ])
      .groupBy(group);
    if (query.team !== undefined) q = q.where('team_id', '=', query.team);
    if (query.key !== undefined) q = q.where('key_id', '=', query.key);
    if (query.model !== undefined) q = q.where('model', '=', query.model);
    if (from !== undefined) q = q.where('created_at', '>=', from);
    if (to !== undefined) q = q.where('created_at', '<', to);
    const rows = await q.execute();

    const result: SpendRow[] = rows.map((r) => ({
      group:
        r.grp === null
          ? null
          : query.group_by === 'day'
            ? new Date(Number(r.grp) * DAY_MS).toISOString().slice(0, 10)
            : String(r.grp),
      requests: Number(r.requests),
      calls: Number(r.calls),
      input_tokens: Number(r.input_tokens),
      output_tokens: Number(r.output_tokens),
      cost_usd: usdOfNanos(Number(r.cost_nanos)),
    }));
    // Sorted here, not in SQL: the engines disagree on where NULL sorts. Nulls (keyless calls) last.
    return result.sort((a, b) =>
      a.group === b.group ? 0 : a.group === null ? 1 : b.group === null ? -1 : a.group < b.group ? -1 : 1,
    );
  }
}
