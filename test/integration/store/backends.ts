/**
 * The store suites run once per engine: SQLite always (files in a temp dir), Postgres when
 * QUORUM_TEST_POSTGRES_URL is set — each fresh database there is its own `quorum_test_<random>` schema,
 * dropped at the end, so runs sharing a server never see each other.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import pg from 'pg';
import { type OpenStoreOptions, openStore, type Store } from '../../../src/store/index.ts';

const run = promisify(execFile);
const STORE_MODULE = fileURLToPath(new URL('../../../src/store/index.ts', import.meta.url));

export const POSTGRES_URL = process.env.QUORUM_TEST_POSTGRES_URL;

/** One database: open it as often as needed (every store opened is closed by cleanup). */
export interface Target {
  url: string;
  options: OpenStoreOptions;
  open(extra?: OpenStoreOptions): Promise<Store>;
}

export interface Backend {
  /** A new, empty database. */
  fresh(): Promise<Target>;
  /** Whether `needle` appears anywhere in the database: raw file bytes, or every row as text. */
  contains(target: Target, needle: string): Promise<boolean>;
  /**
   * Opens the database `n` times at once, as separate processes would (SQLite: child processes, since
   * one thread cannot wait on its own lock; Postgres: separate pools); returns each one's pepper.
   */
  openConcurrently(target: Target, n: number): Promise<string[]>;
  /** Closes every store opened and removes every database made. */
  cleanup(): Promise<void>;
}

abstract class BaseBackend implements Backend {
  protected stores: Store[] = [];

  abstract fresh(): Promise<Target>;
  abstract contains(target: Target, needle: string): Promise<boolean>;
  abstract cleanup(): Promise<void>;

  async openConcurrently(target: Target, n: number): Promise<string[]> {
    const stores = await Promise.all(Array.from({ length: n }, () => target.open()));
    return stores.map((s) => s.pepper);
  }

  protected target(url: string, options: OpenStoreOptions): Target {
    return {
      url,
      options,
      open: async (extra = {}) => {
        const store = await openStore(url, { ...options, ...extra });
        this.stores.push(store);
        return store;
      },
    };
  }

  protected async closeStores(): Promise<void> {
    await Promise.allSettled(this.stores.map((s) => s.close()));
    this.stores = [];
  }
}

export class SqliteBackend extends BaseBackend {
  readonly dir = mkdtempSync(join(tmpdir(), 'quorum-store-'));
  #n = 0;

  async fresh(): Promise<Target> {
    const path = join(this.dir, `db-${++this.#n}`, 'quorum.db');
    return this.target(`sqlite:${path}`, {});
  }

  async contains(target: Target, needle: string): Promise<boolean> {
    const path = target.url.slice('sqlite:'.length);
    const files = [path, `${path}-wal`, `${path}-shm`, `${path}-journal`].filter((f) => existsSync(f));
    return files.some((f) => readFileSync(f).includes(needle));
  }

  override async openConcurrently(target: Target, n: number): Promise<string[]> {
    const script = `import { openStore } from ${JSON.stringify(STORE_MODULE)};
      const store = await openStore(${JSON.stringify(target.url)});
      process.stdout.write(store.pepper);
      await store.close();`;
    const runs = Array.from({ length: n }, () =>
      run(process.execPath, ['--input-type=module', '-e', script]).then((r) => r.stdout),
    );
    return Promise.all(runs);
  }

  async cleanup(): Promise<void> {
    await this.closeStores();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export class PostgresBackend extends BaseBackend {
  readonly url: string;
  readonly #schemas: string[] = [];
  #admin: pg.Client | null = null;

  constructor(url: string) {
    super();
    this.url = url;
  }

  async #client(): Promise<pg.Client> {
    if (!this.#admin) {
      this.#admin = new pg.Client({ connectionString: this.url });
      await this.#admin.connect();
    }
    return this.#admin;
  }

  async fresh(): Promise<Target> {
    const schema = `quorum_test_${randomBytes(6).toString('hex')}`;
    await (await this.#client()).query(`create schema ${schema}`);
    this.#schemas.push(schema);
    return this.target(this.url, { schema });
  }

  async contains(target: Target, needle: string): Promise<boolean> {
    const client = await this.#client();
    const schema = target.options.schema!;
    const tables = await client.query<{ table_name: string }>(
      'select table_name from information_schema.tables where table_schema = $1',
      [schema],
    );
    for (const { table_name } of tables.rows) {
      const rows = await client.query<{ row: string }>(
        `select t::text as row from ${schema}."${table_name}" t`,
      );
      if (rows.rows.some((r) => r.row.includes(needle))) return true;
    }
    return false;
  }

  async cleanup(): Promise<void> {
    await this.closeStores();
    if (!this.#admin) return;
    for (const schema of this.#schemas) await this.#admin.query(`drop schema if exists ${schema} cascade`);
    await this.#admin.end();
    this.#admin = null;
  }
}

/** For `describe.each`: SQLite, plus Postgres when configured. */
export function backends(): { name: string; make: () => Backend }[] {
  const list: { name: string; make: () => Backend }[] = [{ name: 'sqlite', make: () => new SqliteBackend() }];
  if (POSTGRES_URL) list.push({ name: 'postgres', make: () => new PostgresBackend(POSTGRES_URL) });
  return list;
}

/**
 * Takes a database back to before migration 0009 (the ledger's attribution columns), so an upgrade
 * test can start from an older release's schema.
 */
export async function undoLedgerAttribution(store: Store): Promise<void> {
  // Migrations apply in name order only: a database before 0009 has none of the later ones either.
  await sql`drop table if exists budget_overrides`.execute(store.db);
  await sql`alter table keys drop column budgets`.execute(store.db).catch(() => {});
  await sql`alter table teams drop column scopes`.execute(store.db).catch(() => {});
  await sql`delete from quorum_migration where name = '0013_budget_scopes'`.execute(store.db);
  // 0012 (runs' cost holds); a test that dropped the runs table already has nothing to undo there.
  for (const column of ['cap_spent_nanos', 'cap_held_nanos']) {
    await sql`alter table runs drop column ${sql.ref(column)}`.execute(store.db).catch(() => {});
  }
  await sql`delete from quorum_migration where name = '0012_run_cost_holds'`.execute(store.db);
  for (const table of ['learned_quality', 'learning_control', 'learning_subjects']) {
    await sql`drop table if exists ${sql.table(table)}`.execute(store.db);
  }
  await sql`delete from quorum_migration where name = '0011_learned_quality'`.execute(store.db);
  // 0010 (runs.version); a test that dropped the runs table already has nothing to undo there.
  await sql`alter table runs drop column version`.execute(store.db).catch(() => {});
  await sql`delete from quorum_migration where name = '0010_run_versions'`.execute(store.db);
  await sql`drop index ledger_user_created_idx`.execute(store.db);
  await sql`drop index ledger_run_idx`.execute(store.db);
  for (const column of ['key_name', 'end_user', 'surface', 'workflow_run', 'workflow_step', 'tag_pairs']) {
    await sql`alter table ledger drop column ${sql.ref(column)}`.execute(store.db);
  }
  await sql`delete from quorum_migration where name = '0009_ledger_attribution'`.execute(store.db);
}
