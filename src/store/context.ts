import type { Kysely } from 'kysely';
import type { Engine } from './migrations.ts';
import type { NodeSqliteDatabase } from './sqlite-dialect.ts';
import type { SqliteThread } from './sqlite-thread.ts';
import type { Database } from './types.ts';

/** What every repository is built from. */
export interface StoreContext {
  db: Kysely<Database>;
  engine: Engine;
  /** The SQLite connection under `db` (SQLite only): batched writes run prepared statements on it directly. */
  sqlite?: NodeSqliteDatabase;
  /** On a SQLite file: the thread that writes the batches (ledger, request log, learning) off the event loop. */
  writer?: SqliteThread;
  /** Clock in epoch ms (tests move it to expire keys). */
  now: () => number;
}
