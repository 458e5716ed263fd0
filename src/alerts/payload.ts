/**
 * An alert as the store keeps it and as a webhook receives it: the row of a crossing, its JSON body
 * (the same bytes on every try, so a receiver can deduplicate by `id`), and the sample the test
 * endpoint sends.
 */

import { usdWords } from '../limits/nanos.ts';
import { type AlertsTable, newAlertId } from '../store/index.ts';
import type { AlertScope, AlertSubject, Crossing } from './subject.ts';

/** The body's `type`: what happened. */
export type AlertType = 'budget.threshold' | 'budget.soft_limit' | 'test';

const WHO: Record<AlertScope, string> = { team: 'Team', key: 'Key', user: 'End user', tag: 'Tag' };

/** `Team research`, `Key ci of team research`: whose budget it is. */
function whose(scope: AlertScope, scopeId: string, team: string): string {
  return scope === 'team' ? `Team ${team}` : `${WHO[scope]} ${scopeId} of team ${team}`;
}

/** One line a person reads: in the log, and as the body's `message`. */
export function alertMessage(
  row: Pick<
    AlertsTable,
    | 'kind'
    | 'scope'
    | 'scope_id'
    | 'team_id'
    | 'budget_window'
    | 'period'
    | 'threshold'
    | 'limit_usd'
    | 'soft_limit_usd'
    | 'spent_usd'
  >,
): string {
  const who = whose(row.scope as AlertScope, row.scope_id, row.team_id);
  const window = row.budget_window === 'total' ? 'total' : row.budget_window;
  const spent = `${usdWords(row.spent_usd)} of its ${usdWords(row.limit_usd)} ${window} budget (period ${row.period})`;
  return row.kind === 'soft_limit'
    ? `${who} passed its soft limit of ${usdWords(row.soft_limit_usd ?? 0)}: spent ${spent}.`
    : `${who} reached ${row.threshold}% of its budget: spent ${spent}.`;
}

const percentOf = (spent: number, limit: number) =>
  limit > 0 ? Math.round((spent / limit) * 10_000) / 100 : null;

/** The store row (with its webhook body) of one crossing of one subject, seen at `nowMs`. */
export function alertRow(subject: AlertSubject, crossing: Crossing, nowMs: number): AlertsTable {
  const row: AlertsTable = {
    id: newAlertId(),
    dedupe_key: crossing.dedupeKey,
    kind: crossing.kind,
    scope: subject.scope,
    scope_id: subject.scopeId,
    team_id: subject.team,
    budget_window: subject.window,
    period: subject.periodKey,
    threshold: crossing.threshold,
    limit_usd: subject.limitUsd,
    soft_limit_usd: subject.softLimitUsd ?? null,
    spent_usd: subject.spentUsd,
    body: '',
    created_at: nowMs,
  };
  row.body = JSON.stringify({
    ...alertFields(row),
    spent_percent: percentOf(row.spent_usd, row.limit_usd),
    message: alertMessage(row),
    created_at: new Date(nowMs).toISOString(),
  });
  return row;
}

/** An alert's public fields, as the webhook body and GET /admin/alerts show them. */
export function alertFields(row: Omit<AlertsTable, 'body' | 'dedupe_key' | 'created_at'>) {
  return {
    id: row.id,
    object: 'alert' as const,
    type: row.kind === 'soft_limit' ? ('budget.soft_limit' as const) : ('budget.threshold' as const),
    scope: row.scope,
    scope_id: row.scope_id,
    team: row.team_id,
    window: row.budget_window,
    period: row.period,
    threshold_percent: row.threshold,
    limit_usd: row.limit_usd,
    soft_limit_usd: row.soft_limit_usd,
    spent_usd: row.spent_usd,
  };
}

/** What `POST /admin/alerts/test` sends: shaped like a real alert, marked `type: "test"`. */
export function sampleBody(id: string, nowMs: number): string {
  return JSON.stringify({
    id,
    object: 'alert',
    type: 'test' satisfies AlertType,
    scope: 'team',
    scope_id: 'example',
    team: 'example',
    window: 'monthly',
    period: new Date(nowMs).toISOString().slice(0, 7),
    threshold_percent: 80,
    limit_usd: 25,
    soft_limit_usd: null,
    spent_usd: 20,
    spent_percent: 80,
    message: 'A test alert from Quorum: your webhook receives and verifies alerts.',
    created_at: new Date(nowMs).toISOString(),
  });
}
