/**
 * `openStore(QUORUM_DATABASE_URL)`: picks the engine, connects, brings the schema up to date, makes sure
 * the key pepper exists, and hands back the repositories. Everything above this file is engine-blind.
 */
import { resolve } from 'node:path';
import { type CompiledQuery, Kysely, sql } from 'kysely';
import { AlertsRepo } from './alerts.ts';
import { AuditRepo } from './audit.ts';
import type { StoreContext } from './context.ts';
import { parseDatabaseUrl, redactUrl } from './database-url.ts';
import { KeysRepo } from './keys.ts';
import { LearningRepo } from './learning.ts';
import { Ledger, type LedgerOptions } from './ledger.ts';
import { ensurePepper } from './meta.ts';
import { type Engine, migrateToLatest } from './migrations.ts';
import { OverridesRepo } from './overrides.ts';
import { cachedProbe, type StoreProbe } from './probe.ts';
import { type RequestLogOptions, RequestLogRepo } from './request-log.ts';
import { ResponsesRepo } from './responses.ts';
import { SpendRepo } from './spend.ts';
import {
  createSqliteDialect,
  MEMORY,
  type NodeSqliteDatabase,
  openSqliteDatabase,
} from './sqlite-dialect.ts';
import { SqliteThread } from './sqlite-thread.ts';
import { TeamsRepo } from './teams.ts';
import type { Database } from './types.ts';
import { type ReportSource, UsageRepo } from './usage.ts';
import { WorkflowsRepo } from './workflows.ts';

export interface OpenStoreOptions {
  /** Clock in epoch ms (default Date.now); key expiry, created_at/updated_at, ledger times. */
  now?: () => number;
  /** Background failures: ledger writes that will be retried, dropped ledger rows, idle pg connections. */
  onError?: (err: unknown) => void;
  /** Ledger batching (flushIntervalMs 250, batchSize 500, maxBuffered 100 000). */
  ledger?: Omit<LedgerOptions, 'onError'>;
  /** Request log batching (as the ledger's; maxBuffered 50 000 rows, maxBufferedBytes 64 MiB). */
  requestLog?: Omit<RequestLogOptions, 'onError'>;
  /** Postgres only: the schema holding the tables (sets search_path; it must exist). */
  schema?: string;
  /** Postgres only: pool size (default 10). */
  poolSize?: number;
}

export interface Store {
  readonly engine: Engine;
  readonly db: Kysely<Database>;
  readonly teams: TeamsRepo;
  readonly keys: KeysRepo;
  readonly ledger: Ledger;
  /** Workflow definitions and the durable state of their runs. */
  readonly workflows: WorkflowsRepo;
  /** Stored Responses API objects (`POST /v1/responses` with `store: true`). */
  readonly responses: ResponsesRepo;
  /** One record per proxied request (GET /v1/requests), written in batches like the ledger. */
  readonly requestLog: RequestLogRepo;
  /** Usage over time from the ledger (`GET /v1/usage`). */
  readonly usage: UsageRepo;
  /** What the router learnt from outcomes, shared by every instance (src/learning writes it in batches). */
  readonly learning: LearningRepo;
  /** Budget alerts and their webhook deliveries (an outbox). */
  readonly alerts: AlertsRepo;
  /** Admin actions: who did what, when. */
  readonly audit: AuditRepo;
  /** Temporary raises of budget scopes' limits. */
  readonly overrides: OverridesRepo;
  /** Spend by any combination of dimensions, paged (`GET /admin/spend`, `quorum spend`). */
  readonly spend: SpendRepo;
  /** The per-install secret mixed into key hashes (`hashKey(pepper, key)`). */
  readonly pepper: string;
  /** A trivial query, for /readyz. */
  ping(): Promise<void>;
  /** `ping` cached for a second and bounded in time: null while the database answers, else why not. */
  probe: StoreProbe;
  /**
   * Flushes the ledger and the request log, then closes the database (even if a flush failed; its error
   * is rethrown).
   */
  close(): Promise<void>;
}

export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<Store> {
  const target = parseDatabaseUrl(url);
  const onError = options.onError ?? (() => {});
  const now = options.now ?? Date.now;

  let db: Kysely<Database>;
  let sqlite: NodeSqliteDatabase | undefined;
  try {
    if (target.engine === 'sqlite') {
      sqlite = openSqliteDatabase(target.path);
      db = new Kysely<Database>({ dialect: createSqliteDialect(sqlite) });
    } else {
      // pg is loaded only for Postgres: most installs run on the embedded SQLite default.
      const { createPostgresDialect, createPostgresPool } = await import('./postgres-dialect.ts');
      db = new Kysely<Database>({
        dialect: createPostgresDialect(
          createPostgresPool(target.url, { schema: options.schema, max: options.poolSize, onError }),
        ),
      });
    }
  } catch (err) {
    throw new Error(`Cannot open database "${redactUrl(url)}": ${(err as Error).message}`, { cause: err });
  }

  let pepper: string;
  try {
    await migrateToLatest(db, target.engine);
    pepper = await ensurePepper(db);
  } catch (err) {
    await db.destroy().catch(() => {});
    throw new Error(`Cannot open database "${redactUrl(url)}": ${(err as Error).message}`, { cause: err });
  }

  // On a SQLite file, reports and the batched writes run on threads of their own, each with its own
  // connection (an in-memory database has no file another connection could open).
  const file = target.engine === 'sqlite' && target.path !== MEMORY ? resolve(target.path) : null;
  const reader = file ? new SqliteThread(file, 'reader') : null;
  const writer = file ? new SqliteThread(file, 'writer') : null;
  const ctx: StoreContext = {
    db,
    engine: target.engine,
    now,
    ...(sqlite && { sqlite }),
    ...(writer && { writer }),
  };
  const ledger = new Ledger(ctx, { ...options.ledger, onError });
  const requestLog = new RequestLogRepo(ctx, { ...options.requestLog, onError });
  let closing: Promise<void> | null = null;
  const reports: ReportSource = {
    flush: () => ledger.flush(),
    read: reader
      ? (query: CompiledQuery) => reader.all(query.sql, query.parameters)
      : async (query: CompiledQuery) => (await db.executeQuery(query)).rows,
  };
  const ping = async () => {
    await sql`select 1`.execute(db);
  };
  return {
    engine: target.engine,
    db,
    teams: new TeamsRepo(ctx),
    keys: new KeysRepo(ctx, pepper),
    ledger,
    workflows: new WorkflowsRepo(ctx),
    responses: new ResponsesRepo(ctx),
    requestLog,
    usage: new UsageRepo(ctx, reports),
    spend: new SpendRepo(ctx, reports),
    learning: new LearningRepo(ctx),
    alerts: new AlertsRepo(ctx),
    audit: new AuditRepo(ctx),
    overrides: new OverridesRepo(ctx),
    pepper,
    ping,
    probe: cachedProbe(ping),
    close() {
      closing ??= Promise.allSettled([ledger.close(), requestLog.close()])
        .then((results) => {
          const failed = results.find((r) => r.status === 'rejected');
          if (failed) throw failed.reason;
        })
        .finally(() => Promise.all([reader?.close(), writer?.close()]))
        .finally(() => db.destroy());
      return closing;
    },
  };
}
