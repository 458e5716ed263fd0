/**
 * Teams as the admin API shows them: the store's teams plus those of the config file (which win, being
 * the source of truth for their own ids), each with its current budget period's spend when it has one.
 */

import { seedScope } from '../../../boot/seed-scopes.ts';
import type { TeamConfig } from '../../../config/schema.ts';
import { type Gateway, unavailable } from '../../../gateway/index.ts';
import { usdOfNanos } from '../../../limits/nanos.ts';
import { periodKey, periodStart } from '../../../limits/periods.ts';
import { windowsOf } from '../../../limits/scopes.ts';
import type { BudgetPeriod } from '../../../limits/types.ts';
import type { Store, Team, TeamBudget, TeamScopes } from '../../../store/index.ts';

export interface TeamView {
  id: string;
  budget?: TeamBudget;
  limits?: { rpm?: number; tpm?: number };
  models?: string[];
  budgets?: TeamScopes['budgets'];
  end_users?: TeamScopes['end_users'];
  tags?: TeamScopes['tags'];
  source: 'config' | 'api';
  created_at: string | null;
  updated_at: string | null;
  spent_usd?: number;
  reserved_usd?: number;
  remaining_usd?: number;
  resets_at?: string | null;
  soft_limit_reached?: boolean;
}

export function configTeam(gateway: Gateway, id: string): TeamConfig | undefined {
  return gateway.config.teams.find((t) => t.id === id);
}

function fromConfig(t: TeamConfig, stored: Team | null): TeamView {
  // With several windows, the first is the one team views show (GET /admin/budgets lists them all).
  const budget = t.budget ?? t.budgets?.[0];
  return {
    id: t.id,
    source: 'config',
    ...(budget
      ? {
          budget: {
            limit_usd: budget.limit_usd,
            period: budget.period,
            ...(budget.soft_limit_usd !== undefined ? { soft_limit_usd: budget.soft_limit_usd } : {}),
            ...(budget.alerts?.length ? { alerts: [...budget.alerts] } : {}),
          },
        }
      : {}),
    ...(t.limits ? { limits: { ...t.limits } } : {}),
    ...(t.models ? { models: [...t.models] } : {}),
    created_at: stored?.created_at ?? null,
    updated_at: stored?.updated_at ?? null,
  };
}

function fromStore(t: Team): TeamView {
  return {
    id: t.id,
    source: 'api',
    ...(t.budget ? { budget: t.budget } : {}),
    ...(t.limits ? { limits: t.limits } : {}),
    ...(t.models ? { models: t.models } : {}),
    ...(t.budgets ? { budgets: t.budgets } : {}),
    ...(t.end_users ? { end_users: t.end_users } : {}),
    ...(t.tags ? { tags: t.tags } : {}),
    created_at: t.created_at,
    updated_at: t.updated_at,
  };
}

/** A team's view; `stored` is its store row (null for a config team not mirrored yet). */
export async function teamView(gateway: Gateway, stored: Team | null, id: string): Promise<TeamView> {
  const cfg = configTeam(gateway, id);
  const view: TeamView = cfg ? fromConfig(cfg, stored) : fromStore(stored!);
  const budget = view.budget;
  if (!budget) return view;
  const st = await unavailable(() =>
    gateway.limits.budget.status({
      team: id,
      limitUsd: budget.limit_usd,
      period: budget.period,
      ...(budget.soft_limit_usd !== undefined ? { softLimitUsd: budget.soft_limit_usd } : {}),
    }),
  );
  return {
    ...view,
    spent_usd: st.spentUsd,
    reserved_usd: st.reservedUsd,
    remaining_usd: st.remainingUsd,
    resets_at: st.resetsAt,
    soft_limit_reached: st.softLimitReached,
  };
}

/** Every team, by id. */
export async function listTeams(gateway: Gateway, store: Store): Promise<TeamView[]> {
  const stored = new Map((await store.teams.list()).map((t) => [t.id, t]));
  const ids = new Set([...stored.keys(), ...gateway.config.teams.map((t) => t.id)]);
  const sorted = [...ids].sort();
  return Promise.all(sorted.map((id) => teamView(gateway, stored.get(id) ?? null, id)));
}

/**
 * Brings the budget counter up to what the ledger holds for the current period, so a budget added to
 * (or re-shaped on) a team that has already spent counts that spend from the next request on.
 */
export async function seedBudget(gateway: Gateway, store: Store, team: string, period: BudgetPeriod) {
  const now = Date.now();
  const nanos = await store.ledger.spentSince(team, periodStart(period, now));
  if (nanos > 0) {
    await unavailable(() => gateway.limits.budget.seed(team, periodKey(period, now), usdOfNanos(nanos)));
  }
}

/**
 * Rebuilds an API team's further windows and its tags' from the ledger (end users' are rebuilt on
 * first sight with Redis, and only count from now on in memory until a restart), as `seedBudget` does
 * for its budget.
 */
export async function seedTeamScopes(gateway: Gateway, store: Store, team: Team): Promise<void> {
  const now = Date.now();
  const scope = { kind: 'team' as const, team: team.id, id: team.id };
  await unavailable(() =>
    seedScope(store, gateway.limits, scope, windowsOf({ budgets: team.budgets ?? null }), now),
  );
  for (const [selector, rule] of Object.entries(team.tags ?? {})) {
    await unavailable(() =>
      seedScope(store, gateway.limits, { kind: 'tag', team: team.id, id: selector }, windowsOf(rule), now),
    );
  }
}

/** Copies a config team into the store (as start-up does) so store keys can reference it. */
export async function mirrorConfigTeam(store: Store, t: TeamConfig): Promise<void> {
  await store.teams.upsert({
    id: t.id,
    budget: t.budget ?? t.budgets?.[0] ?? null,
    limits: t.limits ?? null,
    models: t.models ?? null,
  });
}
