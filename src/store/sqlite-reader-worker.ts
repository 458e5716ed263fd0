/**
 * The thread behind SqliteReader: its own connection to the gateway's SQLite file, answering one
 * read-only query at a time. Self-contained (node: modules only), since it runs outside the app.
 */
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

interface Request {
  id: number;
  sql: string;
  params: SQLInputValue[];
}

const db = new DatabaseSync((workerData as { path: string }).path);
// Reads only; a writer's lock is waited for like the main connection does. Reports scan large ranges:
// memory-mapped reads skip a copy per page, and a larger cache keeps their sorts in memory.
db.exec('PRAGMA query_only = 1');
db.exec('PRAGMA busy_timeout = 5000');
db.exec('PRAGMA mmap_size = 268435456');
db.exec('PRAGMA cache_size = -32768');

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

parentPort!.on('message', ({ id, sql, params }: Request) => {
  try {
    parentPort!.postMessage({ id, rows: prepare(sql).all(...params) });
  } catch (err) {
    const e = err as { message?: string; code?: unknown; errcode?: unknown; errstr?: unknown };
    parentPort!.postMessage({
      id,
      error: { message: String(e.message ?? err), code: e.code, errcode: e.errcode, errstr: e.errstr },
    });
  }
});
