/**
 * Kysely over Node's built-in `node:sqlite` (no native add-on to build). Kysely's SqliteDialect speaks
 * to a better-sqlite3-shaped database, so this file is the small adapter between the two, plus the
 * connection settings the store relies on: WAL (readers never block the ledger writer), a busy timeout
 * (another process — `quorum keys create` next to the server — may hold the write lock briefly) and
 * enforced foreign keys.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type SqliteDatabase,
  SqliteDialect,
  type SqliteDialectConfig,
  SqliteDriver,
  type SqliteStatement,
} from 'kysely';

export const MEMORY = ':memory:';
const BUSY_TIMEOUT_MS = 5000;
/** Prepared statements kept per database; the gateway issues a few dozen distinct queries. */
const STATEMENT_CACHE_SIZE = 200;

/** node:sqlite binds only null, numbers, bigints, strings and bytes. */
export function toInput(value: unknown): SQLInputValue {
  if (value === undefined) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value as SQLInputValue;
}

class NodeSqliteStatement implements SqliteStatement {
  readonly reader: boolean;
  /** node:sqlite's statement, for callers that bind values already converted (the store's batches). */
  readonly raw: StatementSync;

  constructor(statement: StatementSync) {
    this.raw = statement;
    // A statement that yields columns (SELECT, PRAGMA, … RETURNING) is read with all(), others run().
    this.reader = statement.columns().length > 0;
  }

  all(parameters: ReadonlyArray<unknown>): unknown[] {
    return this.raw.all(...parameters.map(toInput));
  }

  run(parameters: ReadonlyArray<unknown>): { changes: number | bigint; lastInsertRowid: number | bigint } {
    return this.raw.run(...parameters.map(toInput));
  }

  iterate(parameters: ReadonlyArray<unknown>): IterableIterator<unknown> {
    return this.raw.iterate(...parameters.map(toInput));
  }
}

export class NodeSqliteDatabase implements SqliteDatabase {
  readonly raw: DatabaseSync;
  readonly #statements = new Map<string, NodeSqliteStatement>();

  constructor(raw: DatabaseSync) {
    this.raw = raw;
  }

  prepare(sql: string): NodeSqliteStatement {
    const cached = this.#statements.get(sql);
    if (cached) return cached;
    const statement = new NodeSqliteStatement(this.raw.prepare(sql));
    if (this.#statements.size >= STATEMENT_CACHE_SIZE) {
      // Maps iterate in insertion order: drop the oldest.
      const oldest = this.#statements.keys().next();
      if (!oldest.done) this.#statements.delete(oldest.value);
    }
    this.#statements.set(sql, statement);
    return statement;
  }

  close(): void {
    this.#statements.clear();
    if (this.raw.isOpen) this.raw.close();
  }
}

/** Opens (creating the file and its directory when missing) and configures a SQLite database. */
export function openSqliteDatabase(path: string): NodeSqliteDatabase {
  const location = path === MEMORY ? MEMORY : resolve(path);
  if (location !== MEMORY) mkdirSync(dirname(location), { recursive: true });
  const raw = new DatabaseSync(location);
  try {
    raw.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // In-memory databases answer `memory` here: WAL only applies to files.
    raw.exec('PRAGMA journal_mode = WAL');
    raw.exec('PRAGMA foreign_keys = ON');
  } catch (err) {
    raw.close();
    throw err;
  }
  return new NodeSqliteDatabase(raw);
}

/**
 * Transactions begin IMMEDIATE: they take the write lock first (waiting for it like any write). The
 * store's writer thread commits batches on a connection of its own; a transaction that read before it
 * wrote would otherwise find its snapshot outdated by such a batch and fail at its first write.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class NodeSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;

  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
}

export function createSqliteDialect(database: NodeSqliteDatabase): SqliteDialect {
  return new NodeSqliteDialect({ database });
}
