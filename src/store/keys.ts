/**
 * API keys made through the admin API. A key is `qk-` + 32 random bytes (base64url), shown once at
 * creation; the store keeps only sha256(pepper + key), so a leaked database cannot be replayed as keys,
 * and a per-install pepper (see meta.ts) keeps hashes from matching across installs. Lookups are by
 * hash on a unique index — one indexed read per request, so revocation takes effect on the next one.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { StoreContext } from './context.ts';
import { StoreError } from './errors.ts';
import { limitValue, type TeamLimits } from './teams.ts';
import { toEpochMs, toIso, toIsoOrNull } from './time.ts';
import type { KeysTable } from './types.ts';

export const KEY_PREFIX = 'qk-';
/** How much of the key lists show, e.g. `qk-3f9aB7x`. */
const SHOWN_PREFIX_LENGTH = 10;

/**
 * Expiry dates end before the year 10000: later ones cannot be written as ISO 8601 without an
 * extended year (and past ±8.64e15 ms not at all), so a row holding one could not be listed.
 */
export const MAX_EXPIRES_AT_MS = Date.UTC(10000, 0, 1);

/** An expiry in epoch ms, refused unless it is a date the store can hold and show. */
function expiryMs(value: string | number): number {
  const ms = toEpochMs(value, 'expires_at');
  if (ms < 0 || ms >= MAX_EXPIRES_AT_MS) {
    throw new StoreError('invalid', 'expires_at: expected a date before the year 10000', 'expires_at');
  }
  return ms;
}

/** A stored time as ISO 8601; null when a row written before the range check holds one out of range. */
function isoOrNull(ms: number | null): string | null {
  if (ms === null) return null;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

export interface KeyInput {
  team: string;
  name: string;
  /** ISO 8601 string or epoch milliseconds; absent/null = never expires. */
  expires_at?: string | number | null;
  limits?: TeamLimits | null;
  /** The key's own budget windows. */
  budgets?: readonly KeyBudget[] | null;
}

/** A key as lists show it: no secret, no hash. */
export interface KeyInfo {
  id: string;
  team: string;
  name: string;
  prefix: string;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  limits?: TeamLimits;
  /** The key's own budget windows, inside its team's (PUT /admin/keys/:id/budgets). */
  budgets?: KeyBudget[];
}

/** One budget window of a key, as stored and shown. */
export interface KeyBudget {
  limit_usd: number;
  period: 'daily' | 'weekly' | 'monthly' | 'total';
  soft_limit_usd?: number;
  alerts?: number[];
}

/** Returned once, by create: the only time the key itself exists outside the caller. */
export interface CreatedKey extends KeyInfo {
  key: string;
}

export type KeyStatus = 'active' | 'revoked' | 'expired';

export interface KeyLookup {
  status: KeyStatus;
  key: KeyInfo;
}

export function hashKey(pepper: string, key: string): string {
  return createHash('sha256').update(pepper).update(key).digest('base64url');
}

type KeyRow = Omit<KeysTable, 'key_hash'>;

function toInfo(row: KeyRow): KeyInfo {
  const info: KeyInfo = {
    id: row.id,
    team: row.team_id,
    name: row.name,
    prefix: row.prefix,
    // created_at and revoked_at are the store's own clock; an expiry too far out to show (from a row
    // written before expiries were range-checked) shows as never, which is what it means.
    created_at: toIso(row.created_at),
    expires_at: isoOrNull(row.expires_at),
    revoked_at: toIsoOrNull(row.revoked_at),
  };
  if (row.rpm !== null || row.tpm !== null) {
    info.limits = {};
    if (row.rpm !== null) info.limits.rpm = row.rpm;
    if (row.tpm !== null) info.limits.tpm = row.tpm;
  }
  if (row.budgets) {
    try {
      const budgets = JSON.parse(row.budgets) as KeyBudget[];
      if (Array.isArray(budgets) && budgets.length) info.budgets = budgets;
    } catch {
      // A row not written by setBudgets: no budget rather than a key that cannot authenticate.
    }
  }
  return info;
}

const PUBLIC_COLUMNS = [
  'id',
  'team_id',
  'name',
  'prefix',
  'rpm',
  'tpm',
  'created_at',
  'expires_at',
  'revoked_at',
  'budgets',
] as const;

export class KeysRepo {
  readonly #ctx: StoreContext;
  readonly #pepper: string;

  constructor(ctx: StoreContext, pepper: string) {
    this.#ctx = ctx;
    this.#pepper = pepper;
  }

  /** Throws StoreError `not_found` for an unknown team, `invalid` for a bad field. */
  async create(input: KeyInput): Promise<CreatedKey> {
    if (typeof input.name !== 'string' || input.name.trim() === '' || input.name.length > 200) {
      throw new StoreError('invalid', 'name: expected a non-empty name of at most 200 characters', 'name');
    }
    if (typeof input.team !== 'string' || input.team === '') {
      throw new StoreError('invalid', 'team: expected a team id', 'team');
    }
    const expiresAt =
      input.expires_at === undefined || input.expires_at === null ? null : expiryMs(input.expires_at);
    const team = await this.#ctx.db
      .selectFrom('teams')
      .select('id')
      .where('id', '=', input.team)
      .executeTakeFirst();
    if (!team) throw new StoreError('not_found', `team "${input.team}" not found`, 'team');

    const key = KEY_PREFIX + randomBytes(32).toString('base64url');
    // Without `budgets` (null by default): a key can be made on a database not yet migrated past 0011.
    const row: Omit<KeysTable, 'budgets'> = {
      id: 'key_' + randomBytes(12).toString('base64url'),
      team_id: input.team,
      name: input.name,
      key_hash: hashKey(this.#pepper, key),
      prefix: key.slice(0, SHOWN_PREFIX_LENGTH),
      rpm: limitValue(input.limits?.rpm, 'limits.rpm'),
      tpm: limitValue(input.limits?.tpm, 'limits.tpm'),
      created_at: this.#ctx.now(),
      expires_at: expiresAt,
      revoked_at: null,
    };
    const budgets = input.budgets?.length ? JSON.stringify(input.budgets) : null;
    await this.#ctx.db
      .insertInto('keys')
      .values(budgets ? { ...row, budgets } : row)
      .execute();
    return { ...toInfo({ ...row, budgets }), key };
  }

  /** The key's record and whether it is usable now; null for a key the store never issued. */
  async lookup(key: string): Promise<KeyLookup | null> {
    const row = await this.#ctx.db
      .selectFrom('keys')
      .select(PUBLIC_COLUMNS)
      .where('key_hash', '=', hashKey(this.#pepper, key))
      .executeTakeFirst();
    if (!row) return null;
    const status: KeyStatus =
      row.revoked_at !== null
        ? 'revoked'
        : row.expires_at !== null && row.expires_at <= this.#ctx.now()
          ? 'expired'
          : 'active';
    return { status, key: toInfo(row) };
  }

  /** The key's record when it is active; null when unknown, revoked or expired (all a 401). */
  async findByKey(key: string): Promise<KeyInfo | null> {
    const found = await this.lookup(key);
    return found?.status === 'active' ? found.key : null;
  }

  async get(id: string): Promise<KeyInfo | null> {
    const row = await this.#ctx.db
      .selectFrom('keys')
      .select(PUBLIC_COLUMNS)
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toInfo(row) : null;
  }

  /** Every key (of one team, when given), oldest first; revoked and expired ones included. */
  async list(team?: string): Promise<KeyInfo[]> {
    let query = this.#ctx.db.selectFrom('keys').select(PUBLIC_COLUMNS);
    if (team !== undefined) query = query.where('team_id', '=', team);
    const rows = await query.orderBy('created_at').orderBy('id').execute();
    return rows.map(toInfo);
  }

  /** Replaces a key's own budget windows (none: an empty list); false when there is no such key. */
  async setBudgets(id: string, budgets: readonly KeyBudget[]): Promise<boolean> {
    const result = await this.#ctx.db
      .updateTable('keys')
      .set({ budgets: budgets.length ? JSON.stringify(budgets) : null })
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /**
   * Revokes a key from the next request on. true when the key exists (revoking twice keeps the first
   * time), false when there is no such key.
   */
  async revoke(id: string): Promise<boolean> {
    const result = await this.#ctx.db
      .updateTable('keys')
      .set({ revoked_at: this.#ctx.now() })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) > 0) return true;
    return (await this.get(id)) !== null;
  }
}
