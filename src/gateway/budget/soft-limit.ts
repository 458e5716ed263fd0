import type { BudgetPolicy } from '../../limits/types.ts';
import { metrics } from '../../telemetry/index.ts';
import type { LimitBackends } from './admission.ts';

export type WarnHook = (message: string, fields: Record<string, unknown>) => void;

/** Tells the operator, once per team and period, that a team's spend crossed its soft limit. */
export class SoftLimitNotices {
  /** Team/period pairs already reported (one notice each per instance). */
  private readonly noticed = new Set<string>();
  private readonly limits: LimitBackends;
  private readonly onWarn: WarnHook | undefined;

  constructor(limits: LimitBackends, onWarn: WarnHook | undefined) {
    this.limits = limits;
    this.onWarn = onWarn;
  }

  /**
   * After a settle: when the team has a soft limit and its spend has crossed it this period, log and
   * count it once. Costs a status read only for teams that set a soft limit.
   */
  async check(policy: BudgetPolicy): Promise<void> {
    if (policy.softLimitUsd === undefined) return;
    const status = await this.limits.budget.status(policy);
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
