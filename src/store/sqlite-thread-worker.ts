/**
 * The thread behind SqliteThread: its own connection to the gateway's SQLite file. A reader answers one
 * read-only query at a time; a writer runs one batch of rows at a time, each batch one transaction.
 * It imports nothing of the app but sqlite-batch.ts (node: modules only), since it runs outside the app.
 */
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';
import { insertBatch } from './sqlite-batch.ts';

interface Request {
  id: number;
  sql: string;
  /** A query's parameters… */
  params?: SQLInputValue[];
  /** …or a batch: the statement run once per row, all in one transaction. */
  rows?: SQLInputValue[][];
}

const { path, role } = workerData as { path: string; role: 'reader' | 'writer' };
const db = new DatabaseSync(path);
// A lock another connection holds is waited for, as the main connection does.
db.exec('PRAGMA busy_timeout = 5000');
if (role === 'reader') {
  // Reports scan large ranges: memory-mapped reads skip a copy per page, and a larger cache keeps their
  // sorts in memory.
  db.exec('PRAGMA query_only = 1');
  db.exec('PRAGMA mmap_size = 268435456');
  db.exec('PRAGMA cache_size = -32768');
} else {
  db.exec('PRAGMA foreign_keys = ON');
}

const statements = new Map<string, StatementSync>();
function prepare(sql: string): StatementSync {
  let statement = statements.get(sql);
  if (!statement) {
    if (statements.size >= 64) statements.delete(statements.keys().next().value!);
    statement = db.prepare(sql);
    statements.set(sql, statement);
  }
  return statement;
}

parentPort!.on('message', ({ id, sql, params, rows }: Request) => {
  try {
    if (rows) {
      insertBatch(db, prepare, sql, rows);
      parentPort!.postMessage({ id });
    } else {
      parentPort!.postMessage({ id, rows: prepare(sql).all(...(params ?? [])) });
    }
  } catch (err) {
    const e = err as { message?: string; code?: unknown; errcode?: unknown; errstr?: unknown };
    parentPort!.postMessage({
      id,
      error: { message: String(e.message ?? err), code: e.code, errcode: e.errcode, errstr: e.errstr },
    });
  }
});
