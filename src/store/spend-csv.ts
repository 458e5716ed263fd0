/**
 * A spend report as CSV (`GET /admin/spend?format=csv`, `quorum spend --format csv`): a header line,
 * then one line per row — the dimensions in `group_by` order (`key_name` after `key`), then the figures.
 * RFC 4180 quoting (csv-stringify). A value a spreadsheet would run as a formula (starting with `=`, `+`,
 * `-`, `@`, tab or carriage return: tags and end users are the client's text) is prefixed with `'`.
 * Cost in USD is written as an exact decimal (`0.000000334`, never `3.34e-7`).
 */
import { stringify } from 'csv-stringify/sync';
import { usdText } from '../limits/nanos.ts';
import type { SpendRow } from './spend.ts';

const FIGURES = [
  'requests',
  'calls',
  'input_tokens',
  'output_tokens',
  'cached_tokens',
  'cost_nanos',
  'cost_usd',
] as const;

/** The CSV columns of a report grouped by `groupBy` (its `group_by` field names). */
export function spendCsvColumns(groupBy: readonly string[]): string[] {
  return [...groupBy.flatMap((d) => (d === 'key' ? ['key', 'key_name'] : [d])), ...FIGURES];
}

/** Rows as CSV lines; `header` puts the column names first (the first page of an export). */
export function spendCsv(groupBy: readonly string[], rows: readonly SpendRow[], header = true): string {
  const columns = spendCsvColumns(groupBy);
  const records = rows.map((row) =>
    columns.map((column) => {
      const value = row[column];
      if (column === 'cost_usd') return usdText(Number(value));
      return value === null || value === undefined ? '' : String(value);
    }),
  );
  return stringify(records, { header, columns, escape_formulas: true, record_delimiter: 'unix' });
}
