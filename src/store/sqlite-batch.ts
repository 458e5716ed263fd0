/**
 * One batch of rows in one SQLite transaction: `statement` (one row's INSERT) run once per row between
 * BEGIN IMMEDIATE and COMMIT, every row written or none. Shared by the writer thread and the in-memory
 * store's own connection; node: modules only, since the thread runs outside the app.
 */
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';

export function insertBatch(
  db: DatabaseSync,
  statement: StatementSync,
  rows: readonly (readonly SQLInputValue[])[],
): void {
  db.exec('BEGIN IMMEDIATE');
  try {
    for (const row of rows) statement.run(...row);
    db.exec('COMMIT');
  } catch (err) {
    // A failed COMMIT (busy) leaves the transaction open; a failed BEGIN leaves none to roll back.
    try {
      db.exec('ROLLBACK');
    } catch {}
    throw err;
  }
}
