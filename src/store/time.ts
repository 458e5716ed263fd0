/** Times are stored as epoch ms and shown as ISO 8601 strings. */
import { StoreError } from './errors.ts';

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * An ISO 8601 string (a bare `YYYY-MM-DD` is UTC midnight) or epoch milliseconds → epoch ms.
 * `endOfDay` makes a bare date mean the end of that day, for inclusive `to` bounds.
 */
export function toEpochMs(value: string | number, param: string, endOfDay = false): number {
  let ms: number;
  if (typeof value === 'number') ms = value;
  else if (/^\d+$/.test(value.trim())) ms = Number(value.trim());
  else {
    ms = Date.parse(DATE_ONLY.test(value) ? `${value}T00:00:00Z` : value);
    if (endOfDay && DATE_ONLY.test(value)) ms += 86_400_000;
  }
  if (!Number.isFinite(ms)) {
    throw new StoreError('invalid', `${param}: expected an ISO 8601 date-time or epoch milliseconds`, param);
  }
  return Math.trunc(ms);
}

export const toIso = (ms: number) => new Date(ms).toISOString();
export const toIsoOrNull = (ms: number | null) => (ms === null ? null : toIso(ms));
