import type { CallerScopes } from '../../limits/scopes.ts';
import type { BudgetPolicy, RateLimits } from '../../limits/types.ts';

/** Who is calling: the team a key belongs to, what it may use, and what it may spend. */
export interface Caller {
  team: string;
  /** The key's id in the store, or null for static keys and open access. */
  keyId: string | null;
  /** The key's name (never the key itself). */
  keyName: string | null;
  /** Model names, aliases and presets the team may use; null = everything. */
  allowedModels: ReadonlySet<string> | null;
  /** The team's (first) budget; null = unlimited. What GET /v1/budget shows. */
  budget: BudgetPolicy | null;
  /**
   * Every budget window that may apply (the team's several, the key's, each end user's, the tags');
   * absent: only `budget`.
   */
  scopes?: CallerScopes | undefined;
  /** Rate limits of the team and of the key itself. */
  teamLimits: RateLimits | null;
  keyLimits: RateLimits | null;
  /**
   * True only for the master key (and for open mode, where there are no keys at all): the operator's
   * principal, which may read and act on every team's definitions and runs. Never derived from a team
   * name, so a team an operator happens to call `default` gets no more than any other team.
   */
  operator: boolean;
}

/** How the ledger (and spend by key) names a static key of the config file, which has no id. */
export const STATIC_KEY_PREFIX = 'static:';

/**
 * The key a caller's spend is recorded under: a stored key's id, or `static:<name>` for a named key
 * from the config file, so spend by key tells static keys apart instead of lumping them as "no key";
 * null for the master key, open mode and an unnamed static key.
 */
export function ledgerKeyOf(caller: Caller): string | null {
  if (caller.keyId !== null) return caller.keyId;
  return !caller.operator && caller.keyName ? `${STATIC_KEY_PREFIX}${caller.keyName}` : null;
}

export const OPEN_CALLER: Caller = {
  team: 'default',
  keyId: null,
  keyName: null,
  allowedModels: null,
  budget: null,
  teamLimits: null,
  keyLimits: null,
  operator: true,
};

/**
 * The master key's principal. Its spend is recorded under a team id that no team can take (team ids
 * start with a letter or digit), so an operator's own calls never count against, nor share workflows
 * with, a team that happens to be called `default`.
 */
export const MASTER_CALLER: Caller = { ...OPEN_CALLER, team: '@master', keyName: 'master' };
