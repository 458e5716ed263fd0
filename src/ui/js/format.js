// How figures are written: money exactly as the API gives it (no rounding that would make a sum on the
// page differ from the ledger's), counts with separators, times in the viewer's time zone.

const grouped = new Intl.NumberFormat('en-US');

/** USD: cents for whole dollars and up; below that every significant digit, up to the ledger's nine places. */
export function usd(value) {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  if (value === 0) return '$0';
  const abs = Math.abs(value);
  const sign = value < 0 ? '-' : '';
  if (abs >= 1) {
    return `${sign}$${abs.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  }
  return `${sign}$${abs.toFixed(9).replace(/0+$/, '').replace(/\.$/, '')}`;
}

export function int(value) {
  if (value === null || value === undefined) return '—';
  return grouped.format(value);
}

export function pct(value) {
  if (value === null || value === undefined) return '—';
  return `${Math.round(value * 1000) / 10}%`;
}

export function ms(value) {
  if (value === null || value === undefined) return '—';
  return value < 1000 ? `${Math.round(value)} ms` : `${(value / 1000).toFixed(2)} s`;
}

const pad = (n) => String(n).padStart(2, '0');

/** A local date and time, minutes precision: 2026-12-03 14:05. */
export function dateTime(value) {
  if (value === null || value === undefined) return '—';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** "in 3 h", "5 min ago". */
export function relative(value, now = Date.now()) {
  if (value === null || value === undefined) return '';
  const diff = new Date(value).getTime() - now;
  const abs = Math.abs(diff);
  const [n, unit] =
    abs < 60_000
      ? [Math.round(abs / 1000), 's']
      : abs < 3_600_000
        ? [Math.round(abs / 60_000), 'min']
        : abs < 172_800_000
          ? [Math.round(abs / 3_600_000), 'h']
          : [Math.round(abs / 86_400_000), 'days'];
  return diff >= 0 ? `in ${n} ${unit}` : `${n} ${unit} ago`;
}

/** A UTC calendar date N days before today (the ledger's days are UTC). */
export function daysAgo(days, now = new Date()) {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - days));
  return d.toISOString().slice(0, 10);
}
