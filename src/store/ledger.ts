/**
 * The spend ledger: one row per upstream call, appended off the request path (see ledger-writer.ts)
 * and read back for the start-up rebuild of budget counters and for reports (spend.ts, usage.ts). Each
 * row names who made the call (team, key), for whom (end user), through what (surface, workflow run and
 * step) and its tags. Sums are taken in SQL as integer nano-dollars, so they are exact and match what the
 * budget backends count.
 */

import { type Insertable, sql } from 'kysely';
import { type ScopeRef, tagSelector } from '../limits/scopes.ts';
import { type BulkTable, insertRows } from './bulk-insert.ts';
import type { StoreContext } from './context.ts';
import { tagValue } from './ledger-sql.ts';
import { LedgerWriter, type LedgerWriterOptions } from './ledger-writer.ts';
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
  /** The key's name (a config key's is also in its `key_id`, `static:<name>`). */
  key_name?: string | null;
  /** The end user the client named (`user`, or `metadata.user_id` on Anthropic Messages). */
  end_user?: string | null;
  /** The endpoint (`chat.completions`, `consensus`, …) or `workflow` for a workflow step's calls. */
  surface?: string | null;
  workflow_run?: string | null;
  workflow_step?: string | null;
}

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
    const json = JSON.stringify(tags);
    // Postgres cannot read a NUL out of JSON (`->>` fails on \u0000): tags are kept without any.
    if (!json.includes('\\u0000')) return json;
    const clean = (v: unknown) => (typeof v === 'string' ? v.replaceAll('\0', '') : v);
    return JSON.stringify(Object.fromEntries(Object.entries(tags).map(([k, v]) => [clean(k), clean(v)])));
  } catch (err) {
    onError(err);
    return null;
  }
}

/** Text from a client, as a column: without NUL (Postgres refuses it, even escaped in JSON) and bounded. */
function text(value: unknown, max = MAX_TEXT): string | null {
  if (value === undefined || value === null) return null;
  const s = String(value).replaceAll('\0', '');
  return s.length > max ? s.slice(0, max) : s;
}

const MAX_TEXT = 1000;

/**
 * The tags as `["name:value", …]` sorted by name (binary order): the order a multi-tag call's cost and
 * tokens are split in (src/store/spend.ts). Null without tags.
 */
export function tagPairs(tags: LedgerEntry['tags']): string | null {
  if (!tags) return null;
  const pairs = Object.entries(tags)
    .map(([name, value]) => [
      text(name) ?? '',
      text(typeof value === 'string' ? value : JSON.stringify(value)) ?? '',
    ])
    .sort(([a], [b]) => (a! < b! ? -1 : a! > b! ? 1 : 0))
    .map(([name, value]) => `${name}:${value}`);
  return pairs.length ? JSON.stringify(pairs) : null;
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
    key_name: text(entry.key_name),
    end_user: text(entry.end_user),
    surface: text(entry.surface),
    workflow_run: text(entry.workflow_run),
    workflow_step: text(entry.workflow_step),
    tag_pairs: tagPairs(entry.tags),
  };
}

export type LedgerOptions = LedgerWriterOptions;

const LEDGER: BulkTable<Insertable<LedgerTable>> = {
  table: 'ledger',
  columns: [
    'request_id',
    'team_id',
    'key_id',
    'model',
    'provider',
    'input_tokens',
    'cached_tokens',
    'output_tokens',
    'cost_nanos',
    'latency_ms',
    'status',
    'tags',
    'created_at',
    'key_name',
    'end_user',
    'surface',
    'workflow_run',
    'workflow_step',
    'tag_pairs',
  ],
};

/** 19 columns × 1500 rows stays under both engines' bound-parameter limits (SQLite 32 766, pg 65 535). */
const MAX_BATCH = 1500;

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

  #insert(rows: Insertable<LedgerTable>[]): Promise<void> {
    return insertRows(this.#ctx, LEDGER, rows);
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

  /**
   * A budget scope's spend in nano-dollars since `sinceMs`: the team's, or within the team one key's,
   * one end user's, or that of the calls carrying a tag (`<name>` with any value, or `<name>:<value>`).
   * What the start-up rebuild seeds each scope's window with.
   */
  async scopeSpentSince(scope: ScopeRef, sinceMs: number): Promise<number> {
    if (scope.kind === 'team') return this.spentSince(scope.team, sinceMs);
    await this.flush();
    let query = this.#ctx.db
      .selectFrom('ledger')
      .select(sql<number>`cast(coalesce(sum(cost_nanos), 0) as bigint)`.as('nanos'))
      .where('team_id', '=', scope.team)
      .where('created_at', '>=', sinceMs);
    if (scope.kind === 'key') query = query.where('key_id', '=', scope.id);
    else if (scope.kind === 'user') query = query.where('end_user', '=', scope.id);
    else {
      const { name, value } = tagSelector(scope.id);
      const actual = tagValue(this.#ctx.engine, name);
      query = query.where(
        value === undefined ? sql<boolean>`${actual} is not null` : sql<boolean>`${actual} = ${value}`,
      );
    }
    const row = await query.executeTakeFirstOrThrow();
    return Number(row.nanos);
  }

  /** Each end user's spend in a team since `sinceMs`, in nano-dollars (users with calls only). */
  async endUserSpentSince(team: string, sinceMs: number): Promise<Map<string, number>> {
    await this.flush();
    const rows = await this.#ctx.db
      .selectFrom('ledger')
      .select('end_user')
      .select(sql<number>`cast(coalesce(sum(cost_nanos), 0) as bigint)`.as('nanos'))
      .where('team_id', '=', team)
      .where('end_user', 'is not', null)
      .where('created_at', '>=', sinceMs)
      .groupBy('end_user')
      .execute();
    return new Map(rows.map((r) => [r.end_user as string, Number(r.nanos)]));
  }

  /** End users with calls in a team since `sinceMs` (most recent first, at most `limit`). */
  async endUsersSince(team: string, sinceMs: number, limit = 1000): Promise<string[]> {
    await this.flush();
    const rows = await this.#ctx.db
      .selectFrom('ledger')
      .select('end_user')
      .select(sql<number>`max(created_at)`.as('last'))
      .where('team_id', '=', team)
      .where('end_user', 'is not', null)
      .where('created_at', '>=', sinceMs)
      .groupBy('end_user')
      .orderBy('last', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => r.end_user as string);
  }
}
