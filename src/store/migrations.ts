/**
 * The schema, as one ordered list of migrations shared by both engines and run at every open. Types are
 * the portable subset (text, integer, bigint, double precision): times are epoch ms in `bigint` (they
 * overflow a 32-bit Postgres integer) and money is integer nano-dollars in `bigint`; SQLite reads both
 * as 64-bit integers. The one engine difference is the ledger's auto-generated id.
 *
 * To change the schema, append a migration (never edit a shipped one): names sort, so keep the prefix.
 */
import { type Kysely, sql } from 'kysely';
import { type Migration, Migrator } from 'kysely/migration';

export type Engine = 'sqlite' | 'postgres';

function migrations(engine: Engine): Record<string, Migration> {
  return {
    '0001_teams_keys_ledger_meta': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('meta')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('value', 'text', (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('teams')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('budget_limit_usd', 'double precision')
          .addColumn('budget_period', 'text')
          .addColumn('soft_limit_usd', 'double precision')
          .addColumn('rpm', 'integer')
          .addColumn('tpm', 'integer')
          .addColumn('models', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('keys')
          .addColumn('id', 'text', (c) => c.primaryKey())
          // Cascade only ever removes dead keys: teams.delete refuses while a team has active ones.
          .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('key_hash', 'text', (c) => c.notNull())
          .addColumn('prefix', 'text', (c) => c.notNull())
          .addColumn('rpm', 'integer')
          .addColumn('tpm', 'integer')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('expires_at', 'bigint')
          .addColumn('revoked_at', 'bigint')
          .execute();
        await db.schema.createIndex('keys_key_hash_idx').on('keys').column('key_hash').unique().execute();
        await db.schema.createIndex('keys_team_id_idx').on('keys').column('team_id').execute();

        // No foreign keys: the ledger is history and outlives deleted teams and keys.
        await db.schema
          .createTable('ledger')
          .addColumn('id', engine === 'postgres' ? 'bigint' : 'integer', (c) =>
            engine === 'postgres' ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey(),
          )
          .addColumn('request_id', 'text', (c) => c.notNull())
          .addColumn('team_id', 'text', (c) => c.notNull())
          .addColumn('key_id', 'text')
          .addColumn('model', 'text', (c) => c.notNull())
          .addColumn('provider', 'text', (c) => c.notNull())
          .addColumn('input_tokens', 'integer', (c) => c.notNull())
          .addColumn('cached_tokens', 'integer', (c) => c.notNull())
          .addColumn('output_tokens', 'integer', (c) => c.notNull())
          .addColumn('cost_nanos', 'bigint', (c) => c.notNull())
          .addColumn('latency_ms', 'integer', (c) => c.notNull())
          .addColumn('status', 'integer', (c) => c.notNull())
          .addColumn('tags', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('ledger_team_created_idx')
          .on('ledger')
          .columns(['team_id', 'created_at'])
          .execute();
        await db.schema.createIndex('ledger_created_idx').on('ledger').column('created_at').execute();
      },
    },

    // Workflow definitions and the durable state of their runs (src/store/workflows.ts).
    '0002_workflows': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('workflows')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('version', 'integer', (c) => c.notNull())
          .addColumn('definition', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        // Also the index on name: lookups by name use its leading column.
        await db.schema
          .createIndex('workflows_name_version_idx')
          .on('workflows')
          .columns(['name', 'version'])
          .unique()
          .execute();

        // Runs keep their team and key without foreign keys: like the ledger, they outlive both.
        await db.schema
          .createTable('runs')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('workflow_id', 'text', (c) => c.notNull().references('workflows.id'))
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('inputs', 'text', (c) => c.notNull())
          .addColumn('outputs', 'text')
          .addColumn('cost_nanos', 'bigint', (c) => c.notNull().defaultTo(0))
          .addColumn('team_id', 'text', (c) => c.notNull())
          .addColumn('key_id', 'text')
          .addColumn('idempotency_key', 'text')
          .addColumn('error', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('runs_status_idx').on('runs').column('status').execute();
        await db.schema.createIndex('runs_workflow_id_idx').on('runs').column('workflow_id').execute();
        // A partial unique index, which both engines support alike.
        await db.schema
          .createIndex('runs_team_idempotency_key_idx')
          .on('runs')
          .columns(['team_id', 'idempotency_key'])
          .unique()
          .where(sql.ref('idempotency_key'), 'is not', null)
          .execute();

        await db.schema
          .createTable('run_steps')
          .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id').onDelete('cascade'))
          .addColumn('step', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('run_steps_pk', ['run_id', 'step'])
          .execute();

        await db.schema
          .createTable('run_events')
          .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id').onDelete('cascade'))
          .addColumn('seq', 'integer', (c) => c.notNull())
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('step', 'text')
          .addColumn('data', 'text')
          .addColumn('at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('run_events_pk', ['run_id', 'seq'])
          .execute();
      },
    },

    // Definitions belong to the team that stored them; names are unique (and versioned) per team.
    // Rows stored before this migration had no owner: they go to team `default`.
    '0003_workflow_teams': {
      async up(db: Kysely<any>) {
        await db.schema
          .alterTable('workflows')
          .addColumn('team_id', 'text', (c) => c.notNull().defaultTo('default'))
          .execute();
        await db.schema.dropIndex('workflows_name_version_idx').execute();
        await db.schema
          .createIndex('workflows_team_name_version_idx')
          .on('workflows')
          .columns(['team_id', 'name', 'version'])
          .unique()
          .execute();
      },
    },

    // Stored Responses API objects (src/store/responses.ts): owned by a team, read back by id, and
    // chained by `previous_response_id`. No foreign key to the previous one: deleting a response
    // leaves its followers in place (a later chain through it is refused, naming it).
    '0004_responses': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('responses')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('team_id', 'text', (c) => c.notNull())
          .addColumn('key_id', 'text')
          .addColumn('previous_response_id', 'text')
          .addColumn('chain', 'text', (c) => c.notNull())
          .addColumn('input', 'text', (c) => c.notNull())
          .addColumn('response', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
      },
    },

    // The request log (src/store/request-log.ts): one row per proxied request, newest read first,
    // by team or across teams, within a time range. `content` (prompt and answer text) is null unless
    // the operator turned content logging on, and is erased before the row itself expires.
    '0005_request_log': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('request_log')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('team_id', 'text', (c) => c.notNull())
          .addColumn('key_id', 'text')
          .addColumn('key_name', 'text')
          .addColumn('surface', 'text', (c) => c.notNull())
          .addColumn('model', 'text')
          .addColumn('models', 'text')
          .addColumn('status', 'integer', (c) => c.notNull())
          .addColumn('error_code', 'text')
          .addColumn('error_message', 'text')
          .addColumn('stream', 'integer', (c) => c.notNull())
          .addColumn('cache', 'text')
          .addColumn('tags', 'text')
          .addColumn('input_tokens', 'bigint', (c) => c.notNull())
          .addColumn('output_tokens', 'bigint', (c) => c.notNull())
          .addColumn('cost_nanos', 'bigint', (c) => c.notNull())
          .addColumn('latency_ms', 'double precision', (c) => c.notNull())
          .addColumn('overhead_ms', 'double precision')
          .addColumn('detail', 'text')
          .addColumn('content', 'text')
          .execute();
        // A team's page (team, newest first) and every team's (newest first; also the retention sweep).
        await db.schema
          .createIndex('request_log_team_created_idx')
          .on('request_log')
          .columns(['team_id', 'created_at'])
          .execute();
        await db.schema
          .createIndex('request_log_created_idx')
          .on('request_log')
          .column('created_at')
          .execute();
        // Only rows that still hold text: the content sweep never walks the rows it already erased.
        await db.schema
          .createIndex('request_log_content_created_idx')
          .on('request_log')
          .column('created_at')
          .where(sql.ref('content'), 'is not', null)
          .execute();
      },
    },

    // Usage reports (src/store/usage.ts) filtered by key read only that key's rows of the range; by
    // team, (team_id, created_at) of 0001 serves, and across teams (created_at).
    '0006_ledger_indexes': {
      async up(db: Kysely<any>) {
        await db.schema
          .createIndex('ledger_key_created_idx')
          .on('ledger')
          .columns(['key_id', 'created_at'])
          .execute();
      },
    },

    // Budget alerts (src/store/alerts.ts): an outbox. One row per alert, unique per scope, window,
    // period and threshold, so a restart or a second instance recording the same crossing writes
    // nothing; and one delivery row per webhook, claimed with a lease before it is sent. A team's
    // alert thresholds, and the audit log of admin actions (src/store/audit.ts).
    '0008_alerts_audit': {
      async up(db: Kysely<any>) {
        await db.schema.alterTable('teams').addColumn('budget_alerts', 'text').execute();

        await db.schema
          .createTable('alerts')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('dedupe_key', 'text', (c) => c.notNull().unique())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('scope', 'text', (c) => c.notNull())
          .addColumn('scope_id', 'text', (c) => c.notNull())
          .addColumn('team_id', 'text', (c) => c.notNull())
          .addColumn('budget_window', 'text', (c) => c.notNull())
          .addColumn('period', 'text', (c) => c.notNull())
          .addColumn('threshold', 'double precision')
          .addColumn('limit_usd', 'double precision', (c) => c.notNull())
          .addColumn('soft_limit_usd', 'double precision')
          .addColumn('spent_usd', 'double precision', (c) => c.notNull())
          .addColumn('body', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('alerts_created_idx')
          .on('alerts')
          .columns(['created_at', 'id'])
          .execute();
        await db.schema
          .createIndex('alerts_team_created_idx')
          .on('alerts')
          .columns(['team_id', 'created_at'])
          .execute();

        await db.schema
          .createTable('alert_deliveries')
          .addColumn('alert_id', 'text', (c) => c.notNull().references('alerts.id').onDelete('cascade'))
          .addColumn('webhook', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull())
          .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
          .addColumn('lease_until', 'bigint')
          .addColumn('lease_owner', 'text')
          .addColumn('last_attempt_at', 'bigint')
          .addColumn('last_http_status', 'integer')
          .addColumn('last_error', 'text')
          .addColumn('delivered_at', 'bigint')
          .addPrimaryKeyConstraint('alert_deliveries_pk', ['alert_id', 'webhook'])
          .execute();
        // The loop's question: which pending deliveries are due.
        await db.schema
          .createIndex('alert_deliveries_due_idx')
          .on('alert_deliveries')
          .columns(['status', 'next_attempt_at'])
          .execute();

        await db.schema
          .createTable('audit_log')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('actor', 'text', (c) => c.notNull())
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('target', 'text')
          .addColumn('details', 'text')
          .addColumn('request_id', 'text')
          .execute();
        await db.schema
          .createIndex('audit_log_created_idx')
          .on('audit_log')
          .columns(['created_at', 'id'])
          .execute();
      },
    },

    // Attribution (src/store/spend.ts): every ledger row also names its key's name, the end user, the
    // surface, the workflow run and step, and its tags as a sorted array of `name:value` (which splits a
    // multi-tag request's cost exactly). All nullable: rows written before keep working. Workflow calls
    // used to carry their run and step as tags: those move to the new columns, so tag reports no longer
    // split a step's cost with them.
    '0009_ledger_attribution': {
      async up(db: Kysely<any>) {
        for (const column of [
          'key_name',
          'end_user',
          'surface',
          'workflow_run',
          'workflow_step',
          'tag_pairs',
        ]) {
          await db.schema.alterTable('ledger').addColumn(column, 'text').execute();
        }
        const backfill =
          engine === 'postgres'
            ? sql`update ledger set
                surface = 'workflow',
                workflow_run = tags::json ->> 'workflow_run',
                workflow_step = tags::json ->> 'workflow_step',
                tags = nullif((tags::jsonb - 'workflow_run' - 'workflow_step')::text, '{}')
              where tags is not null and strpos(tags, '\\u0000') = 0
                and tags::json ->> 'workflow_run' is not null`
            : sql`update ledger set
                surface = 'workflow',
                workflow_run = json_extract(tags, '$.workflow_run'),
                workflow_step = json_extract(tags, '$.workflow_step'),
                tags = nullif(json_remove(tags, '$.workflow_run', '$.workflow_step'), '{}')
              where tags is not null and json_extract(tags, '$.workflow_run') is not null`;
        await backfill.execute(db);
        const pairs =
          engine === 'postgres'
            ? sql`update ledger set tag_pairs = (
                select json_agg(key || ':' || value order by key collate "C")::text
                from json_each_text(tags::json)
              ) where tags is not null and strpos(tags, '\\u0000') = 0`
            : sql`update ledger set tag_pairs = (
                select json_group_array(p) from (
                  select key || ':' || cast(value as text) as p from json_each(ledger.tags) order by key
                )
              ) where tags is not null`;
        await pairs.execute(db);
        // Filters on the end user and on the workflow run read only their rows.
        await db.schema
          .createIndex('ledger_user_created_idx')
          .on('ledger')
          .columns(['end_user', 'created_at'])
          .where(sql.ref('end_user'), 'is not', null)
          .execute();
        await db.schema
          .createIndex('ledger_run_idx')
          .on('ledger')
          .columns(['workflow_run', 'created_at'])
          .where(sql.ref('workflow_run'), 'is not', null)
          .execute();
      },
    },

    // Several instances on one store (src/workflows/jobs/): each change of a run is written only if the
    // run's version is still the one its writer read, so a step's result, a person's correction and a
    // cancel on different instances cannot overwrite each other, and a worker that lost its step cannot
    // record over the new owner's result.
    '0010_run_versions': {
      async up(db: Kysely<any>) {
        await db.schema
          .alterTable('runs')
          .addColumn('version', 'bigint', (c) => c.notNull().defaultTo(0))
          .execute();
      },
    },

    // Learning from outcomes (src/store/learning.ts). `learned_quality`: per model and category, the
    // decayed sums of the observed scores and of their weights, as of `updated_at` (each instance adds
    // its batches, decaying the row to the batch's time in the same statement). `learning_control`:
    // the operator's freeze (scope `*`) and resets (scope `*` or a model). `learning_subjects`: who
    // answered each recent request and in what category, so feedback finds them from any instance.
    '0011_learned_quality': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('learned_quality')
          .addColumn('model', 'text', (c) => c.notNull())
          .addColumn('category', 'text', (c) => c.notNull())
          .addColumn('successes', 'double precision', (c) => c.notNull())
          .addColumn('trials', 'double precision', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('learned_quality_pk', ['model', 'category'])
          .execute();
        await db.schema
          .createTable('learning_control')
          .addColumn('scope', 'text', (c) => c.primaryKey())
          .addColumn('frozen_at', 'bigint')
          .addColumn('reset_at', 'bigint')
          .execute();
        await db.schema
          .createTable('learning_subjects')
          .addColumn('request_id', 'text', (c) => c.primaryKey())
          .addColumn('team_id', 'text', (c) => c.notNull())
          .addColumn('model', 'text', (c) => c.notNull())
          .addColumn('category', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('feedback_at', 'bigint')
          .addColumn('feedback_score', 'double precision')
          .addColumn('feedback_comment', 'text')
          .execute();
        // The retention sweep.
        await db.schema
          .createIndex('learning_subjects_created_idx')
          .on('learning_subjects')
          .column('created_at')
          .execute();
      },
    },

    // `max_cost_usd` across instances: each capped call holds its worst case on the run's row (a
    // conditional UPDATE: held + spent + the call ≤ the cap) before it is made, and settles the hold to
    // what it cost after, so calls of one run on several instances cannot pass the cap together.
    '0012_run_cost_holds': {
      async up(db: Kysely<any>) {
        await db.schema.alterTable('runs').addColumn('cap_spent_nanos', 'bigint').execute();
        await db.schema
          .alterTable('runs')
          .addColumn('cap_held_nanos', 'bigint', (c) => c.notNull().defaultTo(0))
          .execute();
      },
    },

    // Budget scopes (src/limits/scopes.ts). `keys.budgets`: a created key's own budget windows (JSON
    // array of {limit_usd, period, soft_limit_usd?, alerts?}), inside its team's. `teams.scopes`: an
    // API team's further windows, end-user and tag budgets (JSON {budgets?, end_users?, tags?}). `budget_overrides`: a
    // temporary raise of one scope's limit (one window's, or every window's when `period` is null) until
    // `expires_at`, with the reason; every instance reads the live ones.
    '0013_budget_scopes': {
      async up(db: Kysely<any>) {
        await db.schema.alterTable('keys').addColumn('budgets', 'text').execute();
        await db.schema.alterTable('teams').addColumn('scopes', 'text').execute();
        await db.schema
          .createTable('budget_overrides')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('subject', 'text', (c) => c.notNull())
          .addColumn('scope', 'text', (c) => c.notNull())
          .addColumn('team_id', 'text', (c) => c.notNull())
          .addColumn('scope_id', 'text', (c) => c.notNull())
          .addColumn('period', 'text')
          .addColumn('limit_usd', 'double precision', (c) => c.notNull())
          .addColumn('reason', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('expires_at', 'bigint', (c) => c.notNull())
          .addColumn('revoked_at', 'bigint')
          .execute();
        await db.schema
          .createIndex('budget_overrides_expires_idx')
          .on('budget_overrides')
          .column('expires_at')
          .execute();
      },
    },
  };
}

/** Brings the schema up to date; safe to call from several processes at once on either engine. */
export async function migrateToLatest(db: Kysely<any>, engine: Engine): Promise<void> {
  // Kysely looks for its bookkeeping tables in every schema unless told which one: name ours, or a
  // quorum_migration table in another schema of the same database would be taken for this one's.
  const schema = engine === 'postgres' ? await currentSchema(db) : undefined;
  const run = async (target: Kysely<any>) => {
    const migrator = new Migrator({
      db: target,
      provider: { getMigrations: async () => migrations(engine) },
      // Our own names, so a database shared with another Kysely app keeps the two histories apart.
      migrationTableName: 'quorum_migration',
      migrationLockTableName: 'quorum_migration_lock',
      ...(schema ? { migrationTableSchema: schema } : {}),
    });
    const { error, results } = await migrator.migrateToLatest();
    if (error) {
      const failed = results?.find((r) => r.status === 'Error')?.migrationName;
      throw new Error(
        `Database migration ${failed ?? ''} failed: ${String((error as Error).message ?? error)}`,
        {
          cause: error,
        },
      );
    }
  };
  if (engine === 'postgres') {
    // Kysely runs Postgres migrations in a transaction under an advisory lock.
    await run(db);
    return;
  }
  // Kysely's SQLite migration lock is a no-op (it assumes one connection), but two processes can open
  // the same file. BEGIN IMMEDIATE takes SQLite's write lock for the whole run (DDL is transactional in
  // SQLite), so a second process waits for the first and then finds nothing left to do.
  await db.connection().execute(async (conn) => {
    await sql`begin immediate`.execute(conn);
    try {
      await run(conn);
    } catch (err) {
      await sql`rollback`.execute(conn);
      throw err;
    }
    await sql`commit`.execute(conn);
  });
}

async function currentSchema(db: Kysely<any>): Promise<string> {
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
  const schema = rows[0]?.schema;
  if (!schema) throw new Error('no schema of the search_path exists (create it first)');
  return schema;
}
