/**
 * What the settlement path hands the alerts: one budget window of one scope after its spend changed
 * (an `AlertSubject`), and which of its thresholds that spend has reached (`crossingsOf`, pure). Each
 * crossing has a dedupe key — scope, window, period, threshold — that the store holds unique, so one
 * crossing is one alert however often, and wherever, it is seen.
 */

export type AlertScope = 'team' | 'key' | 'user' | 'tag';
export type AlertWindow = 'daily' | 'weekly' | 'monthly' | 'total';

/** One scope's budget window, as it stands after a settle. */
export interface AlertSubject {
  scope: AlertScope;
  /** The team id, key id (or `static:<name>`), end user, or tag name. */
  scopeId: string;
  /** The team the scope belongs to (itself for a team). */
  team: string;
  window: AlertWindow;
  /** The current period's key (`2026-11`, `2026-W47`, `2026-11-22`, `total`). */
  periodKey: string;
  limitUsd: number;
  spentUsd: number;
  softLimitUsd?: number | undefined;
  /** Percents of `limitUsd` (above 0, at most 100). */
  thresholds: readonly number[];
}

/** Where the settlement path reports a subject: in memory, at once; recording and delivery come later. */
export interface AlertSink {
  observe(subject: AlertSubject): void;
}

export type AlertKind = 'threshold' | 'soft_limit';

export interface Crossing {
  kind: AlertKind;
  /** The percent reached; null for a soft limit. */
  threshold: number | null;
  /** Unique per scope, window, period and threshold. */
  dedupeKey: string;
}

/** Spend within a part in 1e12 of a threshold counts as reaching it (float sums of exact nano-dollars). */
const EPSILON = 1e-12;

/** Whether the subject's spend has reached a threshold (a percent), or its soft limit (null). */
export function reaches(subject: AlertSubject, threshold: number | null): boolean {
  if (threshold === null) {
    const soft = subject.softLimitUsd;
    return soft !== undefined && subject.spentUsd >= soft * (1 - EPSILON);
  }
  return subject.limitUsd > 0 && subject.spentUsd * 100 >= subject.limitUsd * threshold * (1 - EPSILON);
}

/** The crossing of one threshold (or of the soft limit, null) of the subject's current period. */
export function crossing(subject: AlertSubject, threshold: number | null): Crossing {
  const base = `${subject.scope}:${subject.scopeId}|${subject.window}|${subject.periodKey}`;
  return threshold === null
    ? { kind: 'soft_limit', threshold: null, dedupeKey: `${base}|soft` }
    : { kind: 'threshold', threshold, dedupeKey: `${base}|${threshold}` };
}

/** The thresholds (and the soft limit) the subject's spend has reached in its current period. */
export function crossingsOf(subject: AlertSubject): Crossing[] {
  const reached: (number | null)[] = subject.thresholds.filter((t) => reaches(subject, t));
  if (reaches(subject, null)) reached.push(null);
  return reached.map((t) => crossing(subject, t));
}
