import { createHash } from 'node:crypto';
import type { GatewayConfig } from '../config/index.ts';
import { GatewayError } from '../errors/index.ts';
import { type Caller, MASTER_CALLER, OPEN_CALLER } from '../gateway/index.ts';
import { type CallerScopes, ruleOf, type ScopeRule, windowsOf } from '../limits/scopes.ts';
import type { Store } from '../store/index.ts';

const hash = (key: string) => createHash('sha256').update(key).digest('base64url');

interface BudgetSettings {
  limit_usd: number;
  period: 'daily' | 'weekly' | 'monthly' | 'total';
  soft_limit_usd?: number | undefined;
  alerts?: readonly number[] | undefined;
}

interface ScopeSettings {
  budget?: BudgetSettings | null | undefined;
  budgets?: readonly BudgetSettings[] | null | undefined;
  limits?: { rpm?: number | undefined; tpm?: number | undefined } | null | undefined;
}

interface TeamSettings extends ScopeSettings {
  models?: string[] | null;
  end_users?: ScopeSettings | undefined;
  tags?: Record<string, ScopeSettings> | undefined;
}

/** A caller with its team's allow-list, budget and limits. */
export function callerFor(
  team: string,
  settings: TeamSettings | undefined,
  key: {
    id: string | null;
    name: string | null;
    limits?: TeamSettings['limits'];
    budget?: BudgetSettings | null | undefined;
    budgets?: readonly BudgetSettings[] | null | undefined;
  },
): Caller {
  const teamWindows = settings ? windowsOf(settings) : [];
  const first = teamWindows[0];
  const budget = first
    ? {
        limit_usd: first.limitUsd,
        period: first.period,
        soft_limit_usd: first.softLimitUsd,
        alerts: first.alertThresholds,
      }
    : undefined;
  const keyRule = ruleOf({ budget: key.budget ?? null, budgets: key.budgets ?? null, limits: null });
  const tags: [string, ScopeRule][] = [];
  for (const [selector, rule] of Object.entries(settings?.tags ?? {})) {
    const r = ruleOf(rule);
    if (r) tags.push([selector, r]);
  }
  const endUsers = settings?.end_users ? ruleOf(settings.end_users) : null;
  const scopes: CallerScopes | undefined =
    teamWindows.length > 1 || keyRule || endUsers || tags.length
      ? { team: teamWindows, key: keyRule, endUsers, tags }
      : undefined;
  return {
    team,
    keyId: key.id,
    keyName: key.name,
    allowedModels: settings?.models ? new Set(settings.models) : null,
    budget: budget
      ? {
          team,
          limitUsd: budget.limit_usd,
          period: budget.period,
          ...(budget.soft_limit_usd !== undefined ? { softLimitUsd: budget.soft_limit_usd } : {}),
          ...(budget.alerts?.length ? { alertThresholds: budget.alerts } : {}),
        }
      : null,
    teamLimits: settings?.limits ?? null,
    keyLimits: key.limits ?? null,
    ...(scopes ? { scopes } : {}),
    operator: false,
  };
}

/** How long team settings read from the store are reused (admin changes apply within this). */
const TEAM_CACHE_MS = 2_000;

/**
 * Resolves callers. Static keys from the config are held only as SHA-256 digests and looked up by
 * digest, so no comparison runs over the secret itself. Keys made through the admin API live in the
 * store (hashed with the install's pepper) and are looked up on every request, so a revocation or an
 * expiry takes effect on the next one.
 */
export class KeyRing {
  private readonly byHash = new Map<string, Caller>();
  private readonly store: Store | undefined;
  private readonly teams = new Map<string, { at: number; settings: TeamSettings | undefined }>();
  /** True when no keys and no master key are configured: everything is the default team's. */
  readonly open: boolean;

  /** Config teams: read-only, so their settings (several windows, end users, tags) are read from here. */
  private readonly configTeams: Map<string, TeamSettings>;

  constructor(config: GatewayConfig, masterKey?: string, store?: Store) {
    this.store = store;
    this.configTeams = new Map(config.teams.map((t) => [t.id, t]));
    for (const k of config.keys) {
      const team = config.teams.find((t) => t.id === k.team);
      this.byHash.set(
        hash(k.key),
        callerFor(k.team, team, {
          id: null,
          name: k.name ?? null,
          ...(k.limits ? { limits: k.limits } : {}),
          ...(k.budget ? { budget: k.budget } : {}),
          ...(k.budgets ? { budgets: k.budgets } : {}),
        }),
      );
    }
    // The master key may call the API too (as LiteLLM's does), as the operator: unrestricted, and
    // accounted under its own id rather than any team's.
    if (masterKey) this.byHash.set(hash(masterKey), MASTER_CALLER);
    this.open = this.byHash.size === 0;
  }

  /** Resolves the caller of a request from `Authorization: Bearer …` or `x-api-key`. */
  async authenticate(authorization: string | undefined, apiKeyHeader: string | undefined): Promise<Caller> {
    if (this.open) return OPEN_CALLER;
    const token = bearer(authorization) ?? apiKeyHeader?.trim();
    if (!token) {
      throw new GatewayError('invalid_api_key', 'Missing API key: send `Authorization: Bearer <key>`.');
    }
    const caller = this.byHash.get(hash(token));
    if (caller) return caller;
    const found = this.store ? await this.store.keys.lookup(token) : null;
    if (!found) throw new GatewayError('invalid_api_key', 'Incorrect API key provided.');
    if (found.status !== 'active') {
      throw new GatewayError(
        'invalid_api_key',
        `This API key was ${found.status === 'revoked' ? 'revoked' : 'valid only until ' + found.key.expires_at}.`,
      );
    }
    const k = found.key;
    return callerFor(k.team, await this.team(k.team), {
      id: k.id,
      name: k.name,
      ...(k.limits ? { limits: k.limits } : {}),
      ...(k.budgets ? { budgets: k.budgets } : {}),
    });
  }

  private async team(id: string): Promise<TeamSettings | undefined> {
    const configured = this.configTeams.get(id);
    if (configured) return configured;
    const cached = this.teams.get(id);
    if (cached && Date.now() - cached.at < TEAM_CACHE_MS) return cached.settings;
    const team = (await this.store?.teams.get(id)) ?? undefined;
    this.teams.set(id, { at: Date.now(), settings: team });
    return team;
  }
}

function bearer(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  return match?.[1]?.trim();
}
