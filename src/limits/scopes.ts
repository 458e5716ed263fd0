/**
 * Budget scopes: whose counter a budget window is. A team's own budget keeps the team id as its
 * counter's subject (as before scopes existed, so counters and seeds carry over); a key's, an end
 * user's and a tag's are `<kind>/<team>/<id>`. Team ids never contain `/`, so the two cannot collide,
 * and the id comes last, so an end user or tag may contain anything.
 */
import type { BudgetPeriod, BudgetPolicy, RateLimits } from './types.ts';

export type ScopeKind = 'team' | 'key' | 'user' | 'tag';

export interface ScopeRef {
  kind: ScopeKind;
  team: string;
  /**
   * The team id (team), the key's ledger id (a stored key's id or `static:<name>`), the end user, or the
   * tag selector (`<name>` — any value — or `<name>:<value>`).
   */
  id: string;
}

/** The counter's subject (BudgetPolicy.team) of a scope. */
export function scopeSubject(ref: ScopeRef): string {
  return ref.kind === 'team' ? ref.team : `${ref.kind}/${ref.team}/${ref.id}`;
}

/** The scope a counter's subject names (a bare team id is a team's). */
export function parseSubject(subject: string): ScopeRef {
  const first = subject.indexOf('/');
  if (first < 0) return { kind: 'team', team: subject, id: subject };
  const second = subject.indexOf('/', first + 1);
  const kind = subject.slice(0, first) as ScopeKind;
  return { kind, team: subject.slice(first + 1, second), id: subject.slice(second + 1) };
}

/** How a refusal and the admin API name a scope: `team`, `key`, `user` or `tag:<selector>`. */
export function scopeLabel(ref: Pick<ScopeRef, 'kind' | 'id'>): string {
  return ref.kind === 'tag' ? `tag:${ref.id}` : ref.kind;
}

/** A tag selector (`<name>` or `<name>:<value>`, split at the first colon) as name and optional value. */
export function tagSelector(selector: string): { name: string; value?: string } {
  const colon = selector.indexOf(':');
  return colon < 0
    ? { name: selector }
    : { name: selector.slice(0, colon), value: selector.slice(colon + 1) };
}

/** Whether a request's tags match a selector. */
export function tagMatches(
  selector: string,
  tags: Readonly<Record<string, string>> | null | undefined,
): boolean {
  if (!tags) return false;
  const { name, value } = tagSelector(selector);
  const actual = tags[name];
  return typeof actual === 'string' && (value === undefined || actual === value);
}

/** One budget window of a scope, before it is bound to a counter. */
export interface BudgetWindow {
  limitUsd: number;
  period: BudgetPeriod;
  softLimitUsd?: number;
  alertThresholds?: readonly number[];
}

/** A scope's budget windows and rate limits. */
export interface ScopeRule {
  windows: readonly BudgetWindow[];
  limits: RateLimits | null;
}

/**
 * Everything a caller's requests may be held against besides the team's single `budget`: all the
 * team's windows, the key's own, each end user's (per team, on its own counter) and the tags'.
 */
export interface CallerScopes {
  team: readonly BudgetWindow[];
  key: ScopeRule | null;
  endUsers: ScopeRule | null;
  /** By selector (`<name>` or `<name>:<value>`). */
  tags: readonly (readonly [selector: string, rule: ScopeRule])[];
}

/** A window of a scope, bound to its counter: what admission holds and the admin API lists. */
export interface ScopedWindow {
  scope: ScopeRef;
  /** `team`, `key`, `user` or `tag:<selector>`: how a refusal names it. */
  label: string;
  /** `team` is the counter's subject. */
  policy: BudgetPolicy;
}

/** A scope's window bound to its counter. */
export function scopedWindow(
  scope: ScopeRef,
  window: BudgetWindow,
  limitUsd = window.limitUsd,
): ScopedWindow {
  return {
    scope,
    label: scopeLabel(scope),
    policy: {
      team: scopeSubject(scope),
      limitUsd,
      period: window.period,
      ...(window.softLimitUsd !== undefined ? { softLimitUsd: window.softLimitUsd } : {}),
      ...(window.alertThresholds?.length ? { alertThresholds: window.alertThresholds } : {}),
    },
  };
}

/** A config or store budget object (`{limit_usd, period, soft_limit_usd?, alerts?}`) as a window. */
export function windowOf(b: {
  limit_usd: number;
  period: BudgetPeriod;
  soft_limit_usd?: number | undefined;
  alerts?: readonly number[] | undefined;
}): BudgetWindow {
  return {
    limitUsd: b.limit_usd,
    period: b.period,
    ...(b.soft_limit_usd !== undefined ? { softLimitUsd: b.soft_limit_usd } : {}),
    ...(b.alerts?.length ? { alertThresholds: b.alerts } : {}),
  };
}

type BudgetInput = Parameters<typeof windowOf>[0];

/** `budget` and `budgets` of a config or store object, as one list of windows. */
export function windowsOf(s: {
  budget?: BudgetInput | null;
  budgets?: readonly BudgetInput[] | null;
}): BudgetWindow[] {
  return [...(s.budget ? [windowOf(s.budget)] : []), ...(s.budgets ?? []).map(windowOf)];
}

/** A scope's rule, or null when it has neither a budget nor a rate limit. */
export function ruleOf(s: {
  budget?: BudgetInput | null;
  budgets?: readonly BudgetInput[] | null;
  limits?: { rpm?: number | undefined; tpm?: number | undefined } | null;
}): ScopeRule | null {
  const windows = windowsOf(s);
  const limits = s.limits && (s.limits.rpm || s.limits.tpm) ? rates(s.limits) : null;
  return windows.length || limits ? { windows, limits } : null;
}

function rates(l: { rpm?: number | undefined; tpm?: number | undefined }): RateLimits {
  return { ...(l.rpm ? { rpm: l.rpm } : {}), ...(l.tpm ? { tpm: l.tpm } : {}) };
}

/** Temporary raises of scopes' limits (overrides.ts), answered from memory on the request path. */
export interface OverrideBook {
  /** The raised limit of a scope's window of `period` while a live override applies; else undefined. */
  limitFor(subject: string, period: BudgetPeriod): number | undefined;
  /** Reads the store again at once (after a change on this instance). */
  reload?(): Promise<void>;
}
