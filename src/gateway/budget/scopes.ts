/**
 * The budget scopes a request is held against: its team's windows, its key's, its end user's (per
 * team) and those of each of its tags that has a budget, each window raised by a live override. All
 * are held in one atomic step (reserveMany); a refusal names the scope that tripped and only that
 * scope's figures.
 */
import { GatewayError } from '../../errors/index.ts';
import { usdWords } from '../../limits/nanos.ts';
import {
  type BudgetWindow,
  type OverrideBook,
  type ScopedWindow,
  type ScopeRef,
  scopedWindow,
  scopeSubject,
  tagMatches,
} from '../../limits/scopes.ts';
import type { BudgetStatus, RateLimits } from '../../limits/types.ts';
import { type Caller, ledgerKeyOf } from '../access/index.ts';

/** What a request names besides its caller: the scopes it may be counted in. */
export interface RequestScope {
  endUser?: string | null | undefined;
  tags?: Readonly<Record<string, string>> | null | undefined;
}

/** Every window that applies to a request, team first; each limit raised by a live override. */
export function budgetWindows(caller: Caller, scope: RequestScope, overrides?: OverrideBook): ScopedWindow[] {
  const out: ScopedWindow[] = [];
  const add = (ref: ScopeRef, windows: readonly BudgetWindow[]) => {
    if (!windows.length) return;
    const subject = scopeSubject(ref);
    for (const w of windows) {
      const raised = overrides?.limitFor(subject, w.period);
      out.push(scopedWindow(ref, w, raised !== undefined ? Math.max(raised, w.limitUsd) : w.limitUsd));
    }
  };
  const team = caller.team;
  const s = caller.scopes;
  if (s) add({ kind: 'team', team, id: team }, s.team);
  else if (caller.budget) add({ kind: 'team', team, id: team }, [caller.budget]);
  if (!s) return out;
  const keyId = ledgerKeyOf(caller);
  if (s.key && keyId !== null) add({ kind: 'key', team, id: keyId }, s.key.windows);
  if (s.endUsers && scope.endUser) add({ kind: 'user', team, id: scope.endUser }, s.endUsers.windows);
  for (const [selector, rule] of s.tags) {
    if (tagMatches(selector, scope.tags)) add({ kind: 'tag', team, id: selector }, rule.windows);
  }
  return out;
}

/** Rate-limit subjects of the end user and tags (the key's and team's are admission's own). */
export function scopeRateSubjects(
  caller: Caller,
  scope: RequestScope,
): { subject: string; limits: RateLimits }[] {
  const s = caller.scopes;
  if (!s) return [];
  const team = caller.team;
  const out: { subject: string; limits: RateLimits }[] = [];
  if (s.endUsers?.limits && scope.endUser) {
    out.push({
      subject: `scope:${scopeSubject({ kind: 'user', team, id: scope.endUser })}`,
      limits: s.endUsers.limits,
    });
  }
  for (const [selector, rule] of s.tags) {
    if (rule.limits && tagMatches(selector, scope.tags)) {
      out.push({
        subject: `scope:${scopeSubject({ kind: 'tag', team, id: selector })}`,
        limits: rule.limits,
      });
    }
  }
  return out;
}

/** Who a refusal is about, in words: only the scope that tripped. */
function whose(window: ScopedWindow): string {
  const { kind, team, id } = window.scope;
  switch (kind) {
    case 'team':
      return `Team \`${team}\` has`;
    case 'key':
      return 'This key has';
    case 'user':
      return `End user \`${id}\` has`;
    case 'tag':
      return `Requests tagged \`${id}\` have`;
  }
}

/**
 * The 429 for a window that cannot cover the request: `param` and `x-quorum-budget-scope` name its
 * scope (`team`, `key`, `user`, `tag:<selector>`), and the message gives that scope's figures only.
 */
export function budgetRefusal(
  window: ScopedWindow,
  st: BudgetStatus,
  amountUsd: number,
  hint?: string,
  /** How the cost was priced (the output cap, the floor): said right after it. */
  costDetail = '',
): GatewayError {
  const which = window.scope.kind === 'team' ? 'its' : 'its own';
  return new GatewayError(
    'budget_exceeded',
    `${whose(window)} spent ${usdWords(st.spentUsd)} (${usdWords(st.reservedUsd)} reserved) of ${which} ${usdWords(st.limitUsd)} ${st.period} budget, ${usdWords(st.remainingUsd)} remaining; this request may cost up to ${usdWords(amountUsd)}${costDetail}.${hint ? ` ${hint}` : ''}${st.resetsAt ? ` The budget resets at ${st.resetsAt}.` : ''}`,
    {
      param: window.label,
      headers: { 'x-should-retry': 'false', 'x-quorum-budget-scope': window.label },
    },
  );
}
