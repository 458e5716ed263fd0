/**
 * Teams in the API's shape (`{id, budget?, limits?, models?}`), stored flat. A team cannot be
 * deleted while it has active keys (neither revoked nor expired): deleting would silently cut off
 * whoever holds them, so the admin revokes first; the dead keys then go with the team. Ledger rows
 * stay — spend history outlives the team.
 */
import type { BudgetPeriod } from '../limits/types.ts';
import type { StoreContext } from './context.ts';
import { StoreError } from './errors.ts';
import { toIso } from './time.ts';
import type { TeamsTable } from './types.ts';

export interface TeamBudget {
  limit_usd: number;
  period: BudgetPeriod;
  soft_limit_usd?: number;
  /** Percent thresholds of `limit_usd` that alert once per period, ascending. */
  alerts?: number[];
}

export interface TeamLimits {
  rpm?: number;
  tpm?: number;
}

/** An end user's or a tag's budgets and rate limits. */
export interface ScopeSettings {
  budget?: TeamBudget;
  budgets?: TeamBudget[];
  limits?: TeamLimits;
}

/** A team's budgets beyond `budget`: more windows, each end user's, and tagged requests'. */
export interface TeamScopes {
  budgets?: TeamBudget[];
  end_users?: ScopeSettings;
  tags?: Record<string, ScopeSettings>;
}

export interface TeamInput extends TeamScopes {
  id: string;
  budget?: TeamBudget | null;
  limits?: TeamLimits | null;
  /** Allow-list of model names; absent or null = all models. */
  models?: string[] | null;
}

/** JSON-merge-patch semantics: absent = unchanged, null = removed, objects merge field by field. */
export interface TeamPatch {
  budget?: {
    limit_usd?: number;
    period?: BudgetPeriod;
    soft_limit_usd?: number | null;
    alerts?: number[] | null;
  } | null;
  limits?: { rpm?: number | null; tpm?: number | null } | null;
  models?: string[] | null;
  /** Replaced whole: absent = unchanged, null = removed. */
  budgets?: TeamBudget[] | null;
  end_users?: ScopeSettings | null;
  tags?: Record<string, ScopeSettings> | null;
}

export interface Team extends TeamScopes {
  id: string;
  budget?: TeamBudget;
  limits?: TeamLimits;
  models?: string[];
  created_at: string;
  updated_at: string;
}

const PERIODS: readonly BudgetPeriod[] = ['daily', 'weekly', 'monthly', 'total'];

type TeamFields = Pick<
  TeamsTable,
  | 'budget_limit_usd'
  | 'budget_period'
  | 'soft_limit_usd'
  | 'budget_alerts'
  | 'rpm'
  | 'tpm'
  | 'models'
  | 'scopes'
>;

/** Alert thresholds: up to 10 percents above 0 and at most 100, stored ascending without repeats. */
function thresholds(value: unknown): number[] | null {
  if (value === undefined || value === null) return null;
  const ok =
    Array.isArray(value) &&
    value.length <= 10 &&
    value.every((v) => typeof v === 'number' && Number.isFinite(v) && v > 0 && v <= 100);
  if (!ok) {
    throw new StoreError(
      'invalid',
      'budget.alerts: expected at most 10 percents, each above 0 and at most 100',
      'budget.alerts',
    );
  }
  const list = [...new Set(value as number[])].sort((a, b) => a - b);
  return list.length ? list : null;
}

function usd(value: unknown, param: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new StoreError('invalid', `${param}: expected a non-negative number of USD`, param);
  }
  return value;
}

export function limitValue(value: unknown, param: string): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new StoreError('invalid', `${param}: expected a positive integer`, param);
  }
  return value;
}

function checkId(id: unknown): string {
  if (typeof id !== 'string' || id.trim() === '' || id.length > 200) {
    throw new StoreError('invalid', 'id: expected a non-empty team id of at most 200 characters', 'id');
  }
  return id;
}

/** Validates and flattens the API shape into columns. */
function toFields(input: Omit<TeamInput, 'id'>): TeamFields {
  const { budget, limits, models } = input;
  if (budget !== undefined && budget !== null) {
    if (!PERIODS.includes(budget.period)) {
      throw new StoreError(
        'invalid',
        `budget.period: expected one of ${PERIODS.join(', ')}`,
        'budget.period',
      );
    }
  }
  if (models !== undefined && models !== null) {
    if (!Array.isArray(models) || models.some((m) => typeof m !== 'string' || m === '')) {
      throw new StoreError('invalid', 'models: expected an array of model names', 'models');
    }
  }
  return {
    budget_limit_usd: budget ? usd(budget.limit_usd, 'budget.limit_usd') : null,
    budget_period: budget ? budget.period : null,
    soft_limit_usd:
      budget?.soft_limit_usd === undefined || budget.soft_limit_usd === null
        ? null
        : usd(budget.soft_limit_usd, 'budget.soft_limit_usd'),
    budget_alerts: budget ? jsonOrNull(thresholds(budget.alerts)) : null,
    rpm: limitValue(limits?.rpm, 'limits.rpm'),
    tpm: limitValue(limits?.tpm, 'limits.tpm'),
    models: models ? JSON.stringify(models) : null,
    scopes: scopesJson(input),
  };
}

/** The team's further scopes as stored (validated by the admin API's schema), or null for none. */
function scopesJson(input: TeamScopes): string | null {
  const scopes: TeamScopes = {
    ...(input.budgets?.length ? { budgets: input.budgets } : {}),
    ...(input.end_users ? { end_users: input.end_users } : {}),
    ...(input.tags && Object.keys(input.tags).length ? { tags: input.tags } : {}),
  };
  return Object.keys(scopes).length ? JSON.stringify(scopes) : null;
}

const jsonOrNull = (value: unknown) => (value === null ? null : JSON.stringify(value));

function toTeam(row: TeamsTable): Team {
  const team: Team = { id: row.id, created_at: toIso(row.created_at), updated_at: toIso(row.updated_at) };
  if (row.budget_limit_usd !== null && row.budget_period !== null) {
    team.budget = { limit_usd: row.budget_limit_usd, period: row.budget_period };
    if (row.soft_limit_usd !== null) team.budget.soft_limit_usd = row.soft_limit_usd;
    if (row.budget_alerts) team.budget.alerts = JSON.parse(row.budget_alerts) as number[];
  }
  if (row.rpm !== null || row.tpm !== null) {
    team.limits = {};
    if (row.rpm !== null) team.limits.rpm = row.rpm;
    if (row.tpm !== null) team.limits.tpm = row.tpm;
  }
  if (row.models !== null) team.models = JSON.parse(row.models) as string[];
  if (row.scopes) Object.assign(team, JSON.parse(row.scopes) as TeamScopes);
  return team;
}

/** Applies a merge patch to a team's current API shape. */
function merge(team: Team, patch: TeamPatch): Omit<TeamInput, 'id'> {
  const next: Omit<TeamInput, 'id'> = {
    budget: team.budget,
    limits: team.limits,
    models: team.models,
    ...(team.budgets ? { budgets: team.budgets } : {}),
    ...(team.end_users ? { end_users: team.end_users } : {}),
    ...(team.tags ? { tags: team.tags } : {}),
  };
  for (const field of ['budgets', 'end_users', 'tags'] as const) {
    if (patch[field] === null) delete next[field];
    else if (patch[field] !== undefined) Object.assign(next, { [field]: patch[field] });
  }
  if (patch.budget === null) next.budget = null;
  else if (patch.budget !== undefined) {
    const merged = { ...team.budget, ...patch.budget };
    if (merged.limit_usd === undefined || merged.period === undefined) {
      throw new StoreError('invalid', 'budget: a new budget needs limit_usd and period', 'budget');
    }
    const { soft_limit_usd, alerts, ...rest } = merged as TeamBudget & {
      soft_limit_usd?: number | null;
      alerts?: number[] | null;
    };
    next.budget = {
      ...rest,
      ...(soft_limit_usd === null || soft_limit_usd === undefined ? {} : { soft_limit_usd }),
      ...(alerts === null || alerts === undefined ? {} : { alerts }),
    };
  }
  if (patch.limits === null) next.limits = null;
  else if (patch.limits !== undefined) {
    const merged = { ...team.limits, ...patch.limits };
    next.limits = {
      ...(merged.rpm == null ? {} : { rpm: merged.rpm }),
      ...(merged.tpm == null ? {} : { tpm: merged.tpm }),
    };
  }
  if (patch.models !== undefined) next.models = patch.models;
  return next;
}

export class TeamsRepo {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  /** Throws StoreError `conflict` when the id is taken, `invalid` for a bad field. */
  async create(input: TeamInput): Promise<Team> {
    const id = checkId(input.id);
    const now = this.#ctx.now();
    const { scopes, ...fields } = toFields(input);
    // Without `scopes` when there are none: a team can be made on a database not yet past 0011.
    const row: TeamsTable = {
      id,
      ...fields,
      ...(scopes ? { scopes } : {}),
      created_at: now,
      updated_at: now,
    };
    const result = await this.#ctx.db
      .insertInto('teams')
      .values(row)
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst();
    if (Number(result.numInsertedOrUpdatedRows ?? 0) === 0) {
      throw new StoreError('conflict', `team "${id}" already exists`, 'id');
    }
    return toTeam(row);
  }

  /** Creates or replaces a team wholesale (e.g. the static teams of the config file, at start-up). */
  async upsert(input: TeamInput): Promise<Team> {
    const id = checkId(input.id);
    const now = this.#ctx.now();
    const fields = toFields(input);
    await this.#ctx.db
      .insertInto('teams')
      .values({ id, ...fields, created_at: now, updated_at: now })
      .onConflict((oc) => oc.column('id').doUpdateSet({ ...fields, updated_at: now }))
      .execute();
    return (await this.get(id))!;
  }

  async get(id: string): Promise<Team | null> {
    const row = await this.#ctx.db.selectFrom('teams').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toTeam(row) : null;
  }

  async list(): Promise<Team[]> {
    const rows = await this.#ctx.db.selectFrom('teams').selectAll().orderBy('id').execute();
    return rows.map(toTeam);
  }

  /** Throws StoreError `not_found` for an unknown team. */
  async update(id: string, patch: TeamPatch): Promise<Team> {
    const current = await this.get(id);
    if (!current) throw new StoreError('not_found', `team "${id}" not found`, 'id');
    const fields = toFields(merge(current, patch));
    const now = this.#ctx.now();
    const result = await this.#ctx.db
      .updateTable('teams')
      .set({ ...fields, updated_at: now })
      .where('id', '=', id)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0)
      throw new StoreError('not_found', `team "${id}" not found`, 'id');
    return (await this.get(id))!;
  }

  /**
   * false when there is no such team. Throws StoreError `conflict` while the team has active keys;
   * otherwise deletes the team and its revoked/expired keys.
   */
  async delete(id: string): Promise<boolean> {
    const { engine, now } = this.#ctx;
    return this.#ctx.db.transaction().execute(async (trx) => {
      let lookup = trx.selectFrom('teams').select('id').where('id', '=', id);
      // Locks the row so a concurrent key insert (its foreign-key check) waits for us.
      if (engine === 'postgres') lookup = lookup.forUpdate();
      if (!(await lookup.executeTakeFirst())) return false;
      const { n } = await trx
        .selectFrom('keys')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('team_id', '=', id)
        .where('revoked_at', 'is', null)
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now())]))
        .executeTakeFirstOrThrow();
      if (Number(n) > 0) {
        throw new StoreError(
          'conflict',
          `team "${id}" has ${n} active key${Number(n) === 1 ? '' : 's'}; revoke ${Number(n) === 1 ? 'it' : 'them'} before deleting the team`,
          'id',
        );
      }
      await trx.deleteFrom('teams').where('id', '=', id).execute();
      return true;
    });
  }
}
