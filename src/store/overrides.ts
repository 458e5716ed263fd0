/**
 * Budget overrides: a temporary raise of one scope's limit (one window's, or all of the scope's
 * windows'), with a reason and an expiry. Every instance reads the live ones (src/limits/overrides.ts);
 * an override ends by itself at `expires_at`, or earlier when revoked.
 */
import { randomBytes } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { StoreContext } from './context.ts';
import type { BudgetOverridesTable } from './types.ts';

export type OverrideRow = Selectable<BudgetOverridesTable>;

export type NewOverride = Omit<OverrideRow, 'id' | 'created_at' | 'revoked_at'>;

export class OverridesRepo {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  async create(input: NewOverride): Promise<OverrideRow> {
    const row: OverrideRow = {
      ...input,
      id: 'ovr_' + randomBytes(12).toString('base64url'),
      created_at: this.#ctx.now(),
      revoked_at: null,
    };
    await this.#ctx.db.insertInto('budget_overrides').values(row).execute();
    return row;
  }

  /** Overrides in force at `now` (not revoked, not expired), soonest expiry first. */
  async live(now = this.#ctx.now()): Promise<OverrideRow[]> {
    const rows = await this.#ctx.db
      .selectFrom('budget_overrides')
      .selectAll()
      .where('expires_at', '>', now)
      .where('revoked_at', 'is', null)
      .orderBy('expires_at')
      .orderBy('id')
      .execute();
    return rows.map(numeric);
  }

  async get(id: string): Promise<OverrideRow | null> {
    const row = await this.#ctx.db
      .selectFrom('budget_overrides')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? numeric(row) : null;
  }

  /** Ends an override now; false when there is no such override (ending twice keeps the first time). */
  async revoke(id: string): Promise<boolean> {
    await this.#ctx.db
      .updateTable('budget_overrides')
      .set({ revoked_at: this.#ctx.now() })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .execute();
    return (await this.get(id)) !== null;
  }
}

/** Postgres returns bigint columns as strings. */
function numeric(row: OverrideRow): OverrideRow {
  return {
    ...row,
    limit_usd: Number(row.limit_usd),
    created_at: Number(row.created_at),
    expires_at: Number(row.expires_at),
    revoked_at: row.revoked_at === null ? null : Number(row.revoked_at),
  };
}
