/** Summary statistics and table layout shared by the bench phases (bench/run.ts, fanout.ts, limits.ts). */

import { loadavg } from 'node:os';

export const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

export interface Summary {
  n: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles over raw samples (ms, sub-millisecond precision). */
export function summarise(samples: number[]): Summary {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number) =>
    s.length ? (s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] as number) : NaN;
  const mean = s.length ? s.reduce((a, b) => a + b, 0) / s.length : NaN;
  return {
    n: s.length,
    mean: round(mean, 3),
    p50: round(at(0.5), 3),
    p90: round(at(0.9), 3),
    p99: round(at(0.99), 3),
    max: round(at(1), 3),
  };
}

/** The 1-, 5- and 15-minute load averages, to 2 decimals. */
export const loadAverage = () => loadavg().map((x) => round(x, 2));

/** Rows as aligned text lines: the first column padded right, the others left. */
export function columns(rows: string[][]): string[] {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map(
    (row) =>
      `  ${row[0]!.padEnd(w[0]!)}  ${row
        .slice(1)
        .map((c, i) => c.padStart(w[i + 1]!))
        .join('  ')}`,
  );
}
