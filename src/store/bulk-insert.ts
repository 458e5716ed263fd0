/**
 * A batch of rows into one table, in one transaction: what the ledger, the request log and learning's
 * subjects write after every request. On SQLite the batch runs between BEGIN and COMMIT through two
 * prepared statements, a 32-row INSERT for full groups and a one-row INSERT for the rest (sqlite-batch.ts;
 * a multi-row statement sized to each batch would be a new text to parse every time): on a file, by the
 * store's writer thread, so neither the inserts nor the commit's disk sync hold the event loop; in
 * memory, on the one connection there is. On Postgres it is one multi-row INSERT: one round trip.
 */
import type { SQLInputValue } from 'node:sqlite';
import { CompiledQuery } from 'kysely';
import type { StoreContext } from './context.ts';
import { insertBatch } from './sqlite-batch.ts';
import { toInput } from './sqlite-dialect.ts';

export interface BulkTable<R> {
  table: string;
  columns: readonly (keyof R & string)[];
  /** What follows the VALUES, e.g. `on conflict (id) do nothing`; the same text for both engines. */
  conflict?: string;
}

export async function insertRows<R>(
  ctx: StoreContext,
  spec: BulkTable<R>,
  rows: readonly R[],
): Promise<void> {
  if (!rows.length) return;
  if (!ctx.sqlite) {
    await ctx.db.executeQuery(multiRow(spec, rows));
    return;
  }
  const sql = singleRow(spec);
  const values = valuesOf(spec, rows);
  if (ctx.writer) {
    await ctx.writer.insert(sql, values);
    return;
  }
  // In memory there is no file for a thread to open: the batch runs on Kysely's one connection, which it
  // lends to a single user at a time, so no transaction of anyone else's is open on it and no other
  // statement interleaves (insertBatch is synchronous).
  const sqlite = ctx.sqlite;
  await ctx.db
    .connection()
    .execute(async () => insertBatch(sqlite.raw, (text) => sqlite.prepare(text).raw, sql, values));
}

/**
 * Each row's values in column order. Two things keep this cheap (callgrind, per request of three rows):
 * - one reader per table, compiled from its columns, reads `row.name` with a property load that sees
 *   one row shape, where `row[column]` in a loop shared by every table was a megamorphic lookup per
 *   value (12k instructions a request → 2k);
 * - it returns an array literal, which is packed: arrays from `map` are holey once optimized, and
 *   structured clone takes a slow path for holey arrays at both ends (posting a batch to the writer
 *   thread and reading it there cost about three times as much).
 */
export function valuesOf<R>(spec: BulkTable<R>, rows: readonly R[]): SQLInputValue[][] {
  const read = readerOf(spec);
  const out: SQLInputValue[][] = [];
  for (const row of rows) out.push(read(row));
  return out;
}

type RowReader = (row: unknown) => SQLInputValue[];
const readers = new WeakMap<BulkTable<never>, RowReader>();
const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

function readerOf<R>(spec: BulkTable<R>): RowReader {
  let read = readers.get(spec as BulkTable<never>);
  if (!read) {
    for (const column of spec.columns) {
      if (!IDENTIFIER.test(column)) throw new Error(`bulk insert: column "${column}" is not a plain name`);
    }
    const items = spec.columns.map((column) => `toInput(row.${column})`).join(',');
    read = new Function('toInput', `return (row) => [${items}];`)(toInput) as RowReader;
    readers.set(spec as BulkTable<never>, read);
  }
  return read;
}

const conflictOf = <R>(spec: BulkTable<R>) => (spec.conflict ? ` ${spec.conflict}` : '');

function singleRow<R>(spec: BulkTable<R>): string {
  return `insert into ${spec.table} (${spec.columns.join(',')}) values (${spec.columns.map(() => '?').join(',')})${conflictOf(spec)}`;
}

function multiRow<R>(spec: BulkTable<R>, rows: readonly R[]): CompiledQuery {
  const params: unknown[] = [];
  const tuples: string[] = [];
  for (const row of rows) {
    const marks: string[] = [];
    for (const column of spec.columns) {
      params.push(row[column]);
      marks.push(`$${params.length}`);
    }
    tuples.push(`(${marks.join(',')})`);
  }
  return CompiledQuery.raw(
    `insert into ${spec.table} (${spec.columns.join(',')}) values ${tuples.join(',')}${conflictOf(spec)}`,
    params,
  );
}
