/**
 * Start-up rebuild of every budget window's spend from the ledger: each team's windows, each budgeted
 * key's, each tag selector's, and (in memory; Redis rebuilds them on first sight) each end user with
 * spend in a window's period. A seed only ever raises a
 * counter to the ledger's figure (never lowers, never adds), so seeding a counter that already counts
 * the same spend (another instance, Redis that kept it) counts it once. A window whose period changed
 * in the config is a new counter, rebuilt here from the ledger's rows of that new period.
 */
import type { GatewayConfig } from '../config/index.ts';
import type { LimitBackends } from '../limits/backends.ts';
import { usdOfNanos } from '../limits/nanos.ts';
import { periodKey, periodStart } from '../limits/periods.ts';
import { type BudgetWindow, type ScopeRef, scopeSubject, windowsOf } from '../limits/scopes.ts';
import type { Store } from '../store/index.ts';

type BudgetInput = Parameters<typeof windowsOf>[0]['budget'];

/** What a team (of the config or the store) says about its scopes. */
export interface TeamScopeSettings {
  id: string;
  budget?: BudgetInput;
  budgets?: readonly NonNullable<BudgetInput>[] | null | undefined;
  end_users?:
    | { budget?: BudgetInput; budgets?: readonly NonNullable<BudgetInput>[] | null | undefined }
    | null
    | undefined;
  tags?:
    | Record<
        string,
        { budget?: BudgetInput; budgets?: readonly NonNullable<BudgetInput>[] | null | undefined }
      >
    | null
    | undefined;
}

/** Seeds one scope's windows; returns how many counters were raised. */
export async function seedScope(
  store: Store,
  limits: Pick<LimitBackends, 'budget'>,
  scope: ScopeRef,
  windows: readonly BudgetWindow[],
  now: number,
): Promise<number> {
  let seeded = 0;
  const done = new Set<string>();
  for (const w of windows) {
    const key = periodKey(w.period, now);
    if (done.has(key)) continue;
    done.add(key);
    const nanos = await store.ledger.scopeSpentSince(scope, periodStart(w.period, now));
    if (nanos > 0) {
      await limits.budget.seed(scopeSubject(scope), key, usdOfNanos(nanos));
      seeded++;
    }
  }
  return seeded;
}

/** Every configured scope's windows (store teams' single budgets included), rebuilt from the ledger. */
export async function seedAllScopes(
  config: GatewayConfig,
  store: Store,
  limits: Pick<LimitBackends, 'budget'> & { kind?: LimitBackends['kind'] },
  now = Date.now(),
): Promise<void> {
  const configured = new Set(config.teams.map((t) => t.id));
  const teams: TeamScopeSettings[] = [
    ...(await store.teams.list()).filter((t) => !configured.has(t.id)),
    ...config.teams,
  ];
  for (const t of teams) {
    const team = t.id;
    await seedScope(store, limits, { kind: 'team', team, id: team }, windowsOf(t), now);
    for (const [selector, rule] of Object.entries(t.tags ?? {})) {
      await seedScope(store, limits, { kind: 'tag', team, id: selector }, windowsOf(rule), now);
    }
    const userWindows = t.end_users ? windowsOf(t.end_users) : [];
    // With Redis, an end user's counter without the seeded mark is rebuilt from the ledger on first
    // sight; in memory every end user with spend in a window's period is seeded here, one query per
    // period rather than one per user.
    if (userWindows.length && limits.kind !== 'redis') {
      const periods = new Set(userWindows.map((w) => w.period));
      for (const period of periods) {
        const spent = await store.ledger.endUserSpentSince(team, periodStart(period, now));
        const key = periodKey(period, now);
        for (const [user, nanos] of spent) {
          if (nanos > 0)
            await limits.budget.seed(scopeSubject({ kind: 'user', team, id: user }), key, usdOfNanos(nanos));
        }
      }
    }
  }
  for (const k of config.keys) {
    const windows = windowsOf(k);
    if (!windows.length || !k.name) continue;
    await seedScope(store, limits, { kind: 'key', team: k.team, id: `static:${k.name}` }, windows, now);
  }
  for (const k of await store.keys.list()) {
    if (k.revoked_at) continue;
    const windows = windowsOf({ budgets: k.budgets ?? null });
    if (windows.length) await seedScope(store, limits, { kind: 'key', team: k.team, id: k.id }, windows, now);
  }
}
