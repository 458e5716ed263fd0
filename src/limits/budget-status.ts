/** What both budget backends report, built from integer counters so the two agree to the nano. */
import { limitNanos, usdOfNanos } from './nanos.ts';
import { periodMaxLengthMs } from './periods.ts';
import type { BudgetPeriod, BudgetPolicy, BudgetStatus } from './types.ts';

/**
 * How long a finished hold's id is remembered so a repeated settle/release is a no-op. Repeats come
 * from the same request's cleanup paths (or a replay after a Redis blip), so minutes are plenty.
 */
export const ENDED_RETENTION_MS = 10 * 60_000;

/** Counters outlive their period by this much (late settles, GET /v1/budget right after a reset). */
const PERIOD_TTL_MARGIN_MS = 86_400_000;

/** TTL for a period's counters; null for `total`, which must never expire. */
export function periodTtlMs(period: BudgetPeriod): number | null {
  const length = periodMaxLengthMs(period);
  return length === null ? null : length + PERIOD_TTL_MARGIN_MS;
}

export function budgetStatus(
  policy: BudgetPolicy,
  periodKey: string,
  resetsAt: number | null,
  spentNanos: number,
  reservedNanos: number,
): BudgetStatus {
  const limit = limitNanos(policy.limitUsd);
  return {
    team: policy.team,
    period: policy.period,
    periodKey,
    limitUsd: usdOfNanos(limit),
    spentUsd: usdOfNanos(spentNanos),
    reservedUsd: usdOfNanos(reservedNanos),
    remainingUsd: usdOfNanos(Math.max(0, limit - spentNanos - reservedNanos)),
    resetsAt: resetsAt === null ? null : new Date(resetsAt).toISOString(),
    softLimitReached: policy.softLimitUsd !== undefined && spentNanos >= limitNanos(policy.softLimitUsd),
  };
}
