/**
 * Budget periods in UTC: which period an instant falls in (its key) and when that period ends.
 * Pure functions of an epoch-ms instant, so callers inject their own clock.
 */
import type { BudgetPeriod } from './types.ts';

export interface PeriodWindow {
  /** `2026-11-22` (daily), `2026-W47` (ISO week), `2026-11` (monthly), `total`. */
  readonly key: string;
  /** Epoch ms the period ends and the next starts; null for `total`, which never resets. */
  readonly resetsAt: number | null;
}

const DAY_MS = 86_400_000;

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

const MINUTE_MS = 60_000;
/** The last window computed per period, with the minute it was computed for. */
const recent = new Map<BudgetPeriod, { minute: number; window: PeriodWindow }>();

/**
 * The period an instant falls in. Every period starts and ends on a whole UTC minute, so the window of
 * the same minute is reused: admission asks on every request, and building the key costs microseconds.
 */
export function periodWindow(period: BudgetPeriod, nowMs: number): PeriodWindow {
  const minute = Math.floor(nowMs / MINUTE_MS);
  const last = recent.get(period);
  if (last?.minute === minute) return last.window;
  const window = computeWindow(period, nowMs);
  recent.set(period, { minute, window });
  return window;
}

function computeWindow(period: BudgetPeriod, nowMs: number): PeriodWindow {
  const d = new Date(nowMs);
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth();
  const day = d.getUTCDate();
  switch (period) {
    case 'daily':
      return { key: `${year}-${pad(month + 1)}-${pad(day)}`, resetsAt: Date.UTC(year, month, day + 1) };
    case 'weekly': {
      // ISO 8601: weeks start on Monday and belong to the year of their Thursday.
      const isoDay = d.getUTCDay() || 7;
      const thursday = new Date(Date.UTC(year, month, day + 4 - isoDay));
      const isoYear = thursday.getUTCFullYear();
      const week = Math.floor((thursday.getTime() - Date.UTC(isoYear, 0, 1)) / DAY_MS / 7) + 1;
      return { key: `${isoYear}-W${pad(week)}`, resetsAt: Date.UTC(year, month, day + 8 - isoDay) };
    }
    case 'monthly':
      return { key: `${year}-${pad(month + 1)}`, resetsAt: Date.UTC(year, month + 1, 1) };
    case 'total':
      return { key: 'total', resetsAt: null };
  }
}

export const periodKey = (period: BudgetPeriod, nowMs: number) => periodWindow(period, nowMs).key;

/** The longest a period can last (a 31-day month), for key TTLs; null for `total`. */
export function periodMaxLengthMs(period: BudgetPeriod): number | null {
  switch (period) {
    case 'daily':
      return DAY_MS;
    case 'weekly':
      return 7 * DAY_MS;
    case 'monthly':
      return 31 * DAY_MS;
    case 'total':
      return null;
  }
}

/** The kind of period a key belongs to (keys come back on reservations and seeds without it). */
export function periodOfKey(key: string): BudgetPeriod {
  if (key === 'total') return 'total';
  if (key.includes('-W')) return 'weekly';
  return key.length > 7 ? 'daily' : 'monthly';
}

/** Epoch ms the period containing `nowMs` began (0 for `total`): where its spend starts counting. */
export function periodStart(period: BudgetPeriod, nowMs: number): number {
  const d = new Date(nowMs);
  const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  switch (period) {
    case 'daily':
      return day;
    case 'weekly':
      return day - ((d.getUTCDay() + 6) % 7) * DAY_MS; // back to Monday
    case 'monthly':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    case 'total':
      return 0;
  }
}
