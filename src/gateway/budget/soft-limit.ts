/**
 * After a settle: a team budget's soft limit (a notice per instance: a log line and a metric) and its
 * alert thresholds (reported to the alerts, which record and deliver each once). The one spot where a
 * settled budget window is handed to the alerts; other scopes' windows use the same `AlertSink`.
 */
import type { AlertSink, AlertSubject } from '../../alerts/index.ts';
import type { ScopedWindow } from '../../limits/scopes.ts';
import type { BudgetPolicy, BudgetStatus } from '../../limits/types.ts';
import { metrics } from '../../telemetry/index.ts';
import type { LimitBackends } from './admission.ts';

export type WarnHook = (message: string, fields: Record<string, unknown>) => void;

/** One scope's budget window as the alerts see it. */
function subject(
  scope: AlertSubject['scope'],
  scopeId: string,
  team: string,
  policy: BudgetPolicy,
  status: BudgetStatus,
): AlertSubject {
  return {
    scope,
    scopeId,
    team,
    window: policy.period,
    periodKey: status.periodKey,
    limitUsd: status.limitUsd,
    spentUsd: status.spentUsd,
    softLimitUsd: policy.softLimitUsd,
    thresholds: policy.alertThresholds ?? [],
  };
}

/** A team budget's window as the alerts see it. */
export function teamSubject(policy: BudgetPolicy, status: BudgetStatus): AlertSubject {
  return subject('team', policy.team, policy.team, policy, status);
}

/** Any scope's budget window as the alerts see it (a team's is `teamSubject`'s). */
export function windowSubject(window: ScopedWindow, status: BudgetStatus): AlertSubject {
  return subject(window.scope.kind, window.scope.id, window.scope.team, window.policy, status);
}

/** Tells the operator, once per team and period, that a team's spend crossed its soft limit; feeds alerts. */
export class SoftLimitNotices {
  /** Team/period pairs already reported (one notice each per instance). */
  private readonly noticed = new Set<string>();
  private readonly limits: LimitBackends;
  private readonly onWarn: WarnHook | undefined;
  private readonly alerts: AlertSink | undefined;

  constructor(limits: LimitBackends, onWarn: WarnHook | undefined, alerts?: AlertSink) {
    this.limits = limits;
    this.onWarn = onWarn;
    this.alerts = alerts;
  }

  /**
   * After a settle: every window of the request (team, key, end user, tags) that has a soft limit or
   * alert thresholds is read and reported, so each scope and window alerts on its own.
   */
  async checkWindows(windows: readonly ScopedWindow[]): Promise<void> {
    await Promise.all(
      windows.map(async (w) => {
        const policy = w.policy;
        if (policy.softLimitUsd === undefined && !policy.alertThresholds?.length) return;
        if (w.scope.kind === 'team') return this.check(policy);
        const status = await this.limits.budget.status(policy);
        this.alerts?.observe(windowSubject(w, status));
        if (policy.softLimitUsd === undefined || !status.softLimitReached) return;
        const key = `${policy.team}:${status.periodKey}`;
        if (this.noticed.has(key)) return;
        this.noticed.add(key);
        metrics.softLimitCrossings.inc({ team: w.scope.team });
        this.onWarn?.(`${w.label} budget of team ${w.scope.team} crossed its soft limit`, {
          team: w.scope.team,
          scope: w.label,
          period: status.periodKey,
          spent_usd: status.spentUsd,
          soft_limit_usd: policy.softLimitUsd,
          limit_usd: status.limitUsd,
        });
      }),
    );
  }

  /**
   * A team window: when it has a soft limit or alert thresholds, read its budget status (only then) and
   * hand it to the alerts; the first time its spend is past the soft limit this period, log and count it.
   */
  async check(policy: BudgetPolicy): Promise<void> {
    if (policy.softLimitUsd === undefined && !policy.alertThresholds?.length) return;
    const status = await this.limits.budget.status(policy);
    this.alerts?.observe(teamSubject(policy, status));
    if (policy.softLimitUsd === undefined) return;
    const key = `${policy.team}:${status.periodKey}`;
    if (!status.softLimitReached || this.noticed.has(key)) return;
    this.noticed.add(key);
    metrics.softLimitCrossings.inc({ team: policy.team });
    this.onWarn?.(`team ${policy.team} crossed its soft budget limit`, {
      team: policy.team,
      period: status.periodKey,
      spent_usd: status.spentUsd,
      soft_limit_usd: policy.softLimitUsd,
      limit_usd: status.limitUsd,
    });
  }
}
