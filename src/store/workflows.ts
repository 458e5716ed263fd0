/**
 * Workflow definitions (owned by a team, versioned per team and name) and the durable state of their runs: the run
 * row, one row per step holding its `StepState` as JSON, and the run's events numbered 1, 2, 3… without
 * gaps. The engine changes a run only through `transition`, which writes the run row, the changed
 * steps and the events that report the change in one transaction — so after a crash the store says
 * exactly which steps finished (never run again) and which were running (run again), and the event
 * log never shows a change the state does not have, nor the reverse.
 *
 * Everything that goes to JSON is serialised before the transaction starts, so a value JSON cannot
 * hold (a BigInt, a cycle) fails the call with StoreError `invalid` and writes nothing. Values go
 * through JSON: `undefined` fields are dropped, Dates become strings. Run cost is kept in integer
 * nano-dollars (`cost_usd` at the edge); a step's `cost_usd` lives inside its JSON state.
 */

import { randomBytes } from 'node:crypto';
import { type Selectable, sql, type Transaction, type Updateable } from 'kysely';
import { amountNanos, usdOfNanos } from '../limits/nanos.ts';
import type {
  EventType,
  RunEvent,
  RunRecord,
  RunStatus,
  StepState,
  StepStatus,
  WorkflowRecord,
} from '../workflows/state.ts';
import type { StoreContext } from './context.ts';
import { StoreError } from './errors.ts';
import { type LedgerEntry, ledgerRow } from './ledger.ts';
import type { Database, RunEventsTable, RunStepsTable, RunsTable, WorkflowsTable } from './types.ts';

export interface WorkflowInput {
  /** The owning team: only it (and the operator) may read or run the definition. */
  team: string;
  name: string;
  /** The validated definition; stored as JSON. */
  definition: unknown;
}

/** A stored definition with its owner. */
export interface StoredWorkflow extends WorkflowRecord {
  team: string;
}

export interface StoreWorkflowResult {
  workflow: StoredWorkflow;
  /** false when the team's latest version of the name was identical: `workflow` is that one. */
  created: boolean;
}

export interface ListWorkflowsQuery {
  /** `latest` (default): the newest version of each name; `all`: every version. */
  versions?: 'latest' | 'all';
  /** Only this name's. */
  name?: string;
  /** Only this team's definitions; absent = every team's (the operator's view). */
  team?: string;
}

export interface CreateRunInput {
  workflow_id: string;
  inputs: Record<string, unknown>;
  team: string;
  key_id?: string | null;
  /** The `Idempotency-Key` of the request: a second run with the same key in the same team is not made. */
  idempotency_key?: string | null;
  /** Every step's initial state (usually `pending`). */
  steps: Record<string, StepState>;
}

export interface CreateRunResult {
  run: RunRecord;
  /** false when the (team, idempotency_key) pair already named a run: `run` is that one, unchanged. */
  created: boolean;
}

export interface ListRunsQuery {
  status?: RunStatus | RunStatus[];
  /** One definition id, or several (every version of a name). */
  workflow_id?: string | string[];
  team?: string;
  /** Only runs older than this one (the last of a previous page), in the list's order. */
  before?: { created_at: number; id: string };
  /** The newest `limit` runs. */
  limit?: number;
}

/** An event as the engine emits it; the store adds `seq`, `run_id` and `at`. */
export type NewRunEvent = Omit<RunEvent, 'seq' | 'run_id' | 'at'>;

export interface RunChange {
  /** Fields of the run row; absent = unchanged (`outputs: null` / `error: null` clear them). */
  run?: Partial<Pick<RunRecord, 'status' | 'outputs' | 'error'>> & {
    /** Added to the run's cost (non-negative; kept in integer nano-dollars). */
    addCostUsd?: number;
  };
  /** Whole new states of the steps that changed (inserted when the step has no row yet). */
  steps?: Record<string, StepState>;
  /** The events reporting the change, in order; they get the next sequence numbers. */
  events: NewRunEvent[];
}

export type TransitionStage = 'run' | 'steps' | 'events';

/** How a transition is written when several instances share the store. */
export interface TransitionOptions {
  /**
   * Write only if the run's version is still this one (the version of the read the change was made
   * from); otherwise nothing is written and StoreError `conflict` with param `version` is thrown, so
   * the writer reads the run again and decides again.
   */
  expectVersion?: number;
  /** Postgres: tell the instances listening (`LISTEN`) which events this transition added, on commit. */
  notify?: boolean;
  /** Ledger rows written in the same transaction (a step's spend, recorded with the run's cost). */
  ledger?: readonly LedgerEntry[];
}

/** The channel `transition({notify})` announces on: one per schema, so installs sharing a database stay apart. */
export const RUN_CHANNEL_SQL = sql<string>`'quorum_runs_' || current_schema()`;

/** A transition refused because the run changed since it was read (`expectVersion`). */
export const isVersionConflict = (err: unknown): boolean =>
  err instanceof StoreError && err.code === 'conflict' && err.param === 'version';

export interface WorkflowsRepoOptions {
  /**
   * For tests: awaited inside a transition's transaction after each of its writes (the run row, the
   * step rows, the events). A throw rolls the whole transition back.
   */
  onTransitionWrite?: (stage: TransitionStage, runId: string) => void | Promise<void>;
}

// Records keyed by every member of the union, so adding a status or event type without listing it
// here fails to compile.
const RUN_STATUSES: Record<RunStatus, true> = {
  pending: true,
  running: true,
  waiting: true,
  succeeded: true,
  failed: true,
  cancelled: true,
};
const STEP_STATUSES: Record<StepStatus, true> = { ...RUN_STATUSES, skipped: true };
const EVENT_TYPES: Record<EventType, true> = {
  'run.started': true,
  'step.started': true,
  'step.succeeded': true,
  'step.failed': true,
  'step.waiting': true,
  'step.edited': true,
  'step.iteration': true,
  'run.succeeded': true,
  'run.failed': true,
  'run.cancelled': true,
};

/** What `unfinishedRuns` returns: runs to resume at start-up. */
export const UNFINISHED_STATUSES: readonly RunStatus[] = ['pending', 'running', 'waiting'];

const MAX_NAME_LENGTH = 200;
const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
/** Rows per multi-row INSERT: far under both engines' bound-parameter limits. */
const CHUNK = 500;
/** A run's cost hold (`holdCost`): whether it was taken, and the run's capped spend and holds. */
export interface CostHold {
  held: boolean;
  spentNanos: number;
  heldNanos: number;
}

function checkNanos(value: number, param: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new StoreError('invalid', `${param}: expected a non-negative integer of nano-dollars`, param);
  }
}

/** createWorkflow retries when a concurrent create took the same version (Postgres only). */
const VERSION_ATTEMPTS = 10;

const has = <K extends string>(set: Record<K, true>, value: unknown): value is K =>
  typeof value === 'string' && Object.hasOwn(set, value);

/** Code-unit order, the same on both engines (SQL ORDER BY on text follows each engine's collation). */
const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function chunks<T>(items: T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function toJson(value: unknown, param: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new StoreError('invalid', `${param}: not serialisable as JSON (${(err as Error).message})`, param);
  }
  if (text === undefined) throw new StoreError('invalid', `${param}: not serialisable as JSON`, param);
  return text;
}

function checkString(value: unknown, param: string, max = MAX_NAME_LENGTH): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > max) {
    throw new StoreError(
      'invalid',
      `${param}: expected a non-empty string of at most ${max} characters`,
      param,
    );
  }
  return value;
}

function checkObject(value: unknown, param: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new StoreError('invalid', `${param}: expected an object`, param);
  }
  return value as Record<string, unknown>;
}

function checkRunStatus(value: unknown, param: string): RunStatus {
  if (!has(RUN_STATUSES, value)) {
    throw new StoreError(
      'invalid',
      `${param}: expected one of ${Object.keys(RUN_STATUSES).join(', ')}`,
      param,
    );
  }
  return value;
}

function optionalString(value: unknown, param: string, max?: number): string | null {
  return value === undefined || value === null ? null : checkString(value, param, max);
}

/** A step's state as stored: validated, `output: undefined` kept as null so it survives JSON. */
function stepJson(name: string, state: StepState): string {
  const param = `steps.${name}`;
  checkString(name, param);
  checkObject(state, param);
  if (!has(STEP_STATUSES, state.status)) {
    throw new StoreError(
      'invalid',
      `${param}.status: expected one of ${Object.keys(STEP_STATUSES).join(', ')}`,
      `${param}.status`,
    );
  }
  return toJson({ ...state, output: state.output ?? null }, param);
}

function stepRows(runId: string, steps: Record<string, StepState> | undefined, now: number): RunStepsTable[] {
  if (steps === undefined) return [];
  checkObject(steps, 'steps');
  return Object.entries(steps).map(([step, state]) => ({
    run_id: runId,
    step,
    state: stepJson(step, state),
    updated_at: now,
  }));
}

function toWorkflow(row: WorkflowsTable): StoredWorkflow {
  return {
    id: row.id,
    team: row.team_id,
    name: row.name,
    version: Number(row.version),
    definition: JSON.parse(row.definition),
    created_at: Number(row.created_at),
  };
}

function toRun(row: RunsTable, steps: Record<string, StepState>): RunRecord {
  return {
    id: row.id,
    workflow_id: row.workflow_id,
    status: row.status,
    inputs: JSON.parse(row.inputs),
    outputs: row.outputs === null ? null : JSON.parse(row.outputs),
    cost_usd: usdOfNanos(Number(row.cost_nanos)),
    steps,
    team: row.team_id,
    key_id: row.key_id,
    idempotency_key: row.idempotency_key,
    error: row.error,
    created_at: Number(row.created_at),
    updated_at: Number(row.updated_at),
    version: Number(row.version ?? 0),
  };
}

function toEvent(row: RunEventsTable): RunEvent {
  const event: RunEvent = { seq: Number(row.seq), type: row.type, run_id: row.run_id, at: Number(row.at) };
  if (row.step !== null) event.step = row.step;
  if (row.data !== null) event.data = JSON.parse(row.data);
  return event;
}

/** A unique-constraint violation, on either engine. */
function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: unknown; errcode?: unknown; message?: unknown } | null;
  if (!e) return false;
  if (e.code === '23505') return true; // Postgres unique_violation
  if (e.errcode === 2067 || e.errcode === 1555) return true; // SQLITE_CONSTRAINT_UNIQUE / _PRIMARYKEY
  return typeof e.message === 'string' && e.message.includes('UNIQUE constraint failed');
}

const newId = (prefix: string) => prefix + randomBytes(12).toString('base64url');

export class WorkflowsRepo {
  readonly #ctx: StoreContext;
  readonly #onTransitionWrite: WorkflowsRepoOptions['onTransitionWrite'];

  constructor(ctx: StoreContext, options: WorkflowsRepoOptions = {}) {
    this.#ctx = ctx;
    this.#onTransitionWrite = options.onTransitionWrite;
  }

  // ---- definitions -------------------------------------------------------------------------------

  /** `storeWorkflow`, for callers that do not care whether a new version was made. */
  async createWorkflow(input: WorkflowInput): Promise<StoredWorkflow> {
    return (await this.storeWorkflow(input)).workflow;
  }

  /**
   * Stores a definition as the next version of the team's name (1 for a name new to the team); when the
   * team's latest version of the name is identical, returns it instead (`created: false`). Throws
   * StoreError `invalid` for an empty team or name or a definition JSON cannot hold.
   */
  async storeWorkflow(input: WorkflowInput): Promise<StoreWorkflowResult> {
    const team = checkString(input.team, 'team');
    const name = checkString(input.name, 'name');
    const definition = toJson(input.definition, 'definition');
    const { db } = this.#ctx;
    const latest = await this.#latestRow(team, name);
    if (latest && latest.definition === definition) return { workflow: toWorkflow(latest), created: false };
    for (let attempt = 1; ; attempt++) {
      const id = newId('wf_');
      const createdAt = this.#ctx.now();
      try {
        // One statement, so the version is read and taken atomically: SQLite holds its write lock for
        // the whole statement; on Postgres two concurrent creates may pick the same version, the
        // unique (team, name, version) index refuses the second, and it tries again.
        const row = await db
          .insertInto('workflows')
          .columns(['id', 'team_id', 'name', 'version', 'definition', 'created_at'])
          .expression((eb) =>
            eb
              .selectFrom('workflows')
              .select((s) => [
                s.cast<string>(s.val(id), 'text').as('id'),
                s.cast<string>(s.val(team), 'text').as('team_id'),
                s.cast<string>(s.val(name), 'text').as('name'),
                s(s.fn.coalesce(s.fn.max('version'), s.lit(0)), '+', s.lit(1)).as('version'),
                s.cast<string>(s.val(definition), 'text').as('definition'),
                s.cast<number>(s.val(createdAt), 'bigint').as('created_at'),
              ])
              .where('team_id', '=', team)
              .where('name', '=', name),
          )
          .returningAll()
          .executeTakeFirstOrThrow();
        return { workflow: toWorkflow(row), created: true };
      } catch (err) {
        if (attempt >= VERSION_ATTEMPTS || !isUniqueViolation(err)) throw err;
      }
    }
  }

  /**
   * A definition by id; with `team`, only when that team owns it (another team's is reported as absent,
   * exactly like an unknown id).
   */
  async getWorkflow(id: string, team?: string): Promise<StoredWorkflow | null> {
    let select = this.#ctx.db.selectFrom('workflows').selectAll().where('id', '=', id);
    if (team !== undefined) select = select.where('team_id', '=', team);
    const row = await select.executeTakeFirst();
    return row ? toWorkflow(row) : null;
  }

  /**
   * A name's definitions, one per team that has it: its newest version, or `version` (teams without that
   * version are left out). Only `team`'s when given. Ordered by team (code-unit order).
   */
  async findByName(
    name: string,
    options: { team?: string; version?: number } = {},
  ): Promise<StoredWorkflow[]> {
    let select = this.#ctx.db.selectFrom('workflows as w').selectAll('w').where('w.name', '=', name);
    if (options.team !== undefined) select = select.where('w.team_id', '=', options.team);
    if (options.version !== undefined) select = select.where('w.version', '=', options.version);
    else {
      select = select.where('w.version', '=', (eb) =>
        eb
          .selectFrom('workflows as v')
          .select((v) => v.fn.max('v.version').as('latest'))
          .whereRef('v.team_id', '=', 'w.team_id')
          .whereRef('v.name', '=', 'w.name'),
      );
    }
    return (await select.execute()).map(toWorkflow).sort((a, b) => byString(a.team, b.team));
  }

  /** The ids of every version of a name (only `team`'s when given): to list the runs of a workflow by name. */
  async idsOfName(name: string, team?: string): Promise<string[]> {
    let select = this.#ctx.db.selectFrom('workflows').select('id').where('name', '=', name);
    if (team !== undefined) select = select.where('team_id', '=', team);
    return (await select.execute()).map((r) => r.id);
  }

  /** Definitions by id, in one query per 500 ids (to name the workflows of a page of runs). */
  async getWorkflows(ids: readonly string[]): Promise<Map<string, StoredWorkflow>> {
    const out = new Map<string, StoredWorkflow>();
    for (const batch of chunks([...new Set(ids)])) {
      const rows = await this.#ctx.db.selectFrom('workflows').selectAll().where('id', 'in', batch).execute();
      for (const row of rows) out.set(row.id, toWorkflow(row));
    }
    return out;
  }

  /** The team's newest version of a name, or null when it has none. */
  async latestByName(team: string, name: string): Promise<StoredWorkflow | null> {
    const row = await this.#latestRow(team, name);
    return row ? toWorkflow(row) : null;
  }

  /**
   * By default the newest version of each name; `{versions: 'all'}` every version. Only the given team's,
   * or every team's without one. Ordered by name (code-unit order), team, then version.
   */
  async listWorkflows(query: ListWorkflowsQuery = {}): Promise<StoredWorkflow[]> {
    let select = this.#ctx.db.selectFrom('workflows as w').selectAll('w');
    if (query.team !== undefined) select = select.where('w.team_id', '=', query.team);
    if (query.name !== undefined) select = select.where('w.name', '=', query.name);
    if (query.versions !== 'all') {
      select = select.where('w.version', '=', (eb) =>
        eb
          .selectFrom('workflows as v')
          .select((v) => v.fn.max('v.version').as('latest'))
          .whereRef('v.team_id', '=', 'w.team_id')
          .whereRef('v.name', '=', 'w.name'),
      );
    }
    const rows = await select.execute();
    return rows
      .map(toWorkflow)
      .sort((a, b) => byString(a.name, b.name) || byString(a.team, b.team) || a.version - b.version);
  }

  #latestRow(team: string, name: string): Promise<WorkflowsTable | undefined> {
    return this.#ctx.db
      .selectFrom('workflows')
      .selectAll()
      .where('team_id', '=', team)
      .where('name', '=', name)
      .orderBy('version', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  // ---- runs ----------------------------------------------------------------------------------------

  /**
   * Creates a `pending` run with its steps' initial states (the engine then emits `run.started` through
   * `transition`). With an `idempotency_key` already used by the team, returns that run instead,
   * `created: false` — or throws StoreError `conflict` if that run is of another workflow. Throws
   * `not_found` for an unknown workflow and `invalid` for a bad field.
   */
  async createRun(input: CreateRunInput): Promise<CreateRunResult> {
    const workflowId = checkString(input.workflow_id, 'workflow_id');
    const team = checkString(input.team, 'team');
    const keyId = optionalString(input.key_id, 'key_id');
    const idempotencyKey = optionalString(
      input.idempotency_key,
      'idempotency_key',
      MAX_IDEMPOTENCY_KEY_LENGTH,
    );
    const inputs = toJson(checkObject(input.inputs, 'inputs'), 'inputs');
    const now = this.#ctx.now();
    const id = newId('run_');
    const steps = stepRows(id, checkObject(input.steps, 'steps') as Record<string, StepState>, now);

    const { db } = this.#ctx;
    if (idempotencyKey !== null) {
      const existing = await this.#byIdempotencyKey(team, idempotencyKey, workflowId);
      if (existing) return { run: existing, created: false };
    }
    // Definitions are never deleted, so checking outside the transaction is enough.
    const workflow = await db
      .selectFrom('workflows')
      .select('id')
      .where('id', '=', workflowId)
      .executeTakeFirst();
    if (!workflow) throw new StoreError('not_found', `workflow "${workflowId}" not found`, 'workflow_id');

    const row: RunsTable = {
      id,
      workflow_id: workflowId,
      status: 'pending',
      inputs,
      outputs: null,
      cost_nanos: 0,
      team_id: team,
      key_id: keyId,
      idempotency_key: idempotencyKey,
      error: null,
      created_at: now,
      updated_at: now,
      version: 0,
      cap_spent_nanos: 0,
      cap_held_nanos: 0,
    };
    const created = await db.transaction().execute(async (trx) => {
      // Run row first: a write as the first statement takes SQLite's write lock up front.
      const result = await trx
        .insertInto('runs')
        .values(row)
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst();
      if (Number(result.numInsertedOrUpdatedRows ?? 0) === 0) return false;
      for (const batch of chunks(steps)) await trx.insertInto('run_steps').values(batch).execute();
      return true;
    });
    if (created) return { run: (await this.getRun(id))!, created: true };

    // Lost a race for the same idempotency key: the winner's run is committed by now.
    const existing =
      idempotencyKey === null ? null : await this.#byIdempotencyKey(team, idempotencyKey, workflowId);
    if (!existing)
      throw new Error(`run insert for workflow "${workflowId}" conflicted without an idempotent match`);
    return { run: existing, created: false };
  }

  async getRun(id: string): Promise<RunRecord | null> {
    const row = await this.#ctx.db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return null;
    return (await this.#assemble([row]))[0]!;
  }

  /** Runs with their steps, newest first; filtered by status (one or several), workflow, team. */
  async listRuns(query: ListRunsQuery = {}): Promise<RunRecord[]> {
    let select = this.#ctx.db.selectFrom('runs').selectAll();
    if (query.status !== undefined) {
      const statuses = (Array.isArray(query.status) ? query.status : [query.status]).map((s) =>
        checkRunStatus(s, 'status'),
      );
      if (statuses.length === 0) return [];
      select = select.where('status', 'in', statuses);
    }
    if (query.workflow_id !== undefined) {
      const ids = Array.isArray(query.workflow_id) ? query.workflow_id : [query.workflow_id];
      if (ids.length === 0) return [];
      select = select.where('workflow_id', 'in', ids);
    }
    if (query.team !== undefined) select = select.where('team_id', '=', query.team);
    const before = query.before;
    if (before !== undefined) {
      select = select.where((eb) =>
        eb.or([
          eb('created_at', '<', before.created_at),
          eb.and([eb('created_at', '=', before.created_at), eb('id', '<', before.id)]),
        ]),
      );
    }
    select = select.orderBy('created_at', 'desc').orderBy('id', 'desc');
    if (query.limit !== undefined) {
      if (!Number.isSafeInteger(query.limit) || query.limit < 1) {
        throw new StoreError('invalid', 'limit: expected a positive integer', 'limit');
      }
      select = select.limit(query.limit);
    }
    return this.#assemble(await select.execute());
  }

  /** Runs still `pending`, `running` or `waiting`, oldest first: what to resume at start-up. */
  async unfinishedRuns(): Promise<RunRecord[]> {
    const rows = await this.#ctx.db
      .selectFrom('runs')
      .selectAll()
      .where('status', 'in', UNFINISHED_STATUSES)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return this.#assemble(rows);
  }

  /**
   * Changes a run in one transaction: its row (status, outputs, error, added cost; `updated_at` always),
   * the given steps' states, and appends the events with the run's next sequence numbers. Returns the
   * events as stored. Concurrent transitions of one run are serialised, so sequence numbers are
   * consecutive and never repeat. Throws StoreError `not_found` for an unknown run and `invalid` for a
   * bad field or a value JSON cannot hold — in every failure case nothing is written.
   */
  async transition(runId: string, change: RunChange, options: TransitionOptions = {}): Promise<RunEvent[]> {
    const now = this.#ctx.now();
    const ledger = (options.ledger ?? []).map((entry) => ledgerRow(entry, now));
    // Everything is checked and serialised before the transaction starts.
    const set: Updateable<RunsTable> = { updated_at: now };
    let addNanos = 0;
    const run = change.run;
    if (run !== undefined) {
      checkObject(run, 'run');
      if (run.status !== undefined) set.status = checkRunStatus(run.status, 'run.status');
      if (run.outputs !== undefined) {
        set.outputs =
          run.outputs === null ? null : toJson(checkObject(run.outputs, 'run.outputs'), 'run.outputs');
      }
      if (run.error !== undefined) {
        if (run.error !== null && typeof run.error !== 'string') {
          throw new StoreError('invalid', 'run.error: expected a string or null', 'run.error');
        }
        set.error = run.error;
      }
      if (run.addCostUsd !== undefined) {
        if (typeof run.addCostUsd !== 'number' || !Number.isFinite(run.addCostUsd) || run.addCostUsd < 0) {
          throw new StoreError(
            'invalid',
            'run.addCostUsd: expected a non-negative number of USD',
            'run.addCostUsd',
          );
        }
        addNanos = amountNanos(run.addCostUsd);
      }
    }
    const steps = stepRows(runId, change.steps, now);
    if (!Array.isArray(change.events)) throw new StoreError('invalid', 'events: expected an array', 'events');
    const events = change.events.map((event, i) => {
      const param = `events[${i}]`;
      checkObject(event, param);
      if (!has(EVENT_TYPES, event.type)) {
        throw new StoreError(
          'invalid',
          `${param}.type: expected one of ${Object.keys(EVENT_TYPES).join(', ')}`,
          `${param}.type`,
        );
      }
      return {
        type: event.type,
        step: optionalString(event.step, `${param}.step`),
        data:
          event.data === undefined || event.data === null
            ? null
            : toJson(checkObject(event.data, `${param}.data`), `${param}.data`),
      };
    });

    const hook = this.#onTransitionWrite;
    return this.#transaction(async (trx) => {
      // The run row is written first. On Postgres the UPDATE takes the row's lock (as SELECT … FOR
      // UPDATE would) until commit, so a concurrent transition of the same run waits here and then
      // reads the sequence numbers this one appended. On SQLite a write as the first statement takes
      // the database's write lock up front (waiting out busy_timeout if another process holds it).
      let update = trx
        .updateTable('runs')
        .set((eb) => ({
          ...set,
          version: eb('version', '+', 1),
          ...(addNanos > 0 && { cost_nanos: eb('cost_nanos', '+', addNanos) }),
        }))
        .where('id', '=', runId);
      if (options.expectVersion !== undefined) update = update.where('version', '=', options.expectVersion);
      const updated = await update.executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0) {
        const exists = await trx.selectFrom('runs').select('id').where('id', '=', runId).executeTakeFirst();
        if (!exists) throw new StoreError('not_found', `run "${runId}" not found`, 'id');
        throw new StoreError('conflict', `run "${runId}" changed since it was read`, 'version');
      }
      await hook?.('run', runId);
      for (const batch of chunks(ledger)) await trx.insertInto('ledger').values(batch).execute();

      for (const batch of chunks(steps)) {
        await trx
          .insertInto('run_steps')
          .values(batch)
          .onConflict((oc) =>
            oc.columns(['run_id', 'step']).doUpdateSet((eb) => ({
              state: eb.ref('excluded.state'),
              updated_at: eb.ref('excluded.updated_at'),
            })),
          )
          .execute();
      }
      await hook?.('steps', runId);

      if (events.length === 0) return [];
      const { last } = await trx
        .selectFrom('run_events')
        .select((eb) => eb.fn.coalesce(eb.fn.max('seq'), eb.lit(0)).as('last'))
        .where('run_id', '=', runId)
        .executeTakeFirstOrThrow();
      const rows: RunEventsTable[] = events.map((event, i) => ({
        run_id: runId,
        seq: Number(last) + i + 1,
        ...event,
        at: now,
      }));
      for (const batch of chunks(rows)) await trx.insertInto('run_events').values(batch).execute();
      await hook?.('events', runId);
      if (options.notify && this.#ctx.engine === 'postgres') {
        // Delivered to the listeners only once this transaction commits, and in commit order.
        const payload = JSON.stringify({ r: runId, f: rows[0]!.seq, l: rows.at(-1)!.seq });
        await sql`select pg_notify(${RUN_CHANNEL_SQL}, ${payload})`.execute(trx);
      }
      return rows.map(toEvent);
    });
  }

  /**
   * `max_cost_usd` across instances: holds `nanos` (a call's worst case) on the run's row only if what
   * its capped calls have cost, what they hold and `nanos` together stay within `capNanos` — checked and
   * taken in one conditional UPDATE, so holds made at once on several instances cannot pass the cap
   * together. Returns whether it was held, and the run's spent and held nanos as this statement saw them.
   */
  async holdCost(runId: string, nanos: number, capNanos: number): Promise<CostHold> {
    checkNanos(nanos, 'nanos');
    checkNanos(capNanos, 'capNanos');
    const spent = sql<number>`coalesce(cap_spent_nanos, cost_nanos)`;
    const held = await this.#ctx.db
      .updateTable('runs')
      .set({ cap_spent_nanos: spent, cap_held_nanos: sql`cap_held_nanos + ${nanos}` })
      .where('id', '=', runId)
      .where(sql`coalesce(cap_spent_nanos, cost_nanos) + cap_held_nanos + ${nanos}`, '<=', capNanos)
      .returning(['cap_spent_nanos', 'cap_held_nanos'])
      .executeTakeFirst();
    if (held) {
      return { held: true, spentNanos: Number(held.cap_spent_nanos), heldNanos: Number(held.cap_held_nanos) };
    }
    const row = await this.#ctx.db
      .selectFrom('runs')
      .select([spent.as('spent'), 'cap_held_nanos'])
      .where('id', '=', runId)
      .executeTakeFirst();
    if (!row) throw new StoreError('not_found', `run "${runId}" not found`, 'id');
    return { held: false, spentNanos: Number(row.spent), heldNanos: Number(row.cap_held_nanos) };
  }

  /** Ends a hold of `holdCost`: `heldNanos` let go, `spentNanos` (what the call cost) counted in one UPDATE. */
  async settleCost(runId: string, heldNanos: number, spentNanos: number): Promise<void> {
    checkNanos(heldNanos, 'heldNanos');
    checkNanos(spentNanos, 'spentNanos');
    await this.#ctx.db
      .updateTable('runs')
      .set({
        cap_spent_nanos: sql`coalesce(cap_spent_nanos, cost_nanos) + ${spentNanos}`,
        cap_held_nanos: sql`cap_held_nanos - ${heldNanos}`,
      })
      .where('id', '=', runId)
      .execute();
  }

  /** The run's events with `seq > afterSeq` (default: all), in order — for SSE replay after Last-Event-ID. */
  async events(runId: string, afterSeq = 0): Promise<RunEvent[]> {
    if (!Number.isSafeInteger(afterSeq) || afterSeq < 0) {
      throw new StoreError('invalid', 'afterSeq: expected a non-negative integer', 'afterSeq');
    }
    const rows = await this.#ctx.db
      .selectFrom('run_events')
      .selectAll()
      .where('run_id', '=', runId)
      .where('seq', '>', afterSeq)
      .orderBy('seq')
      .execute();
    return rows.map(toEvent);
  }

  // ---- internals -----------------------------------------------------------------------------------

  /**
   * Postgres runs transitions at READ COMMITTED whatever the server's default, so a transition that
   * waited for the run's lock sees the events committed before it.
   */
  #transaction<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    const { db, engine } = this.#ctx;
    const builder =
      engine === 'postgres' ? db.transaction().setIsolationLevel('read committed') : db.transaction();
    return builder.execute(fn);
  }

  async #byIdempotencyKey(team: string, key: string, workflowId: string): Promise<RunRecord | null> {
    const row = await this.#ctx.db
      .selectFrom('runs')
      .selectAll()
      .where('team_id', '=', team)
      .where('idempotency_key', '=', key)
      .executeTakeFirst();
    if (!row) return null;
    if (row.workflow_id !== workflowId) {
      throw new StoreError(
        'conflict',
        `idempotency key "${key}" was already used for a run of another workflow (${row.workflow_id})`,
        'idempotency_key',
      );
    }
    return (await this.#assemble([row]))[0]!;
  }

  /** Attaches each run's steps (one query per 500 runs), steps in code-unit order of their names. */
  async #assemble(rows: Selectable<RunsTable>[]): Promise<RunRecord[]> {
    const steps = new Map<string, [string, StepState][]>(rows.map((r) => [r.id, []]));
    for (const batch of chunks(rows.map((r) => r.id))) {
      const stepRows = await this.#ctx.db
        .selectFrom('run_steps')
        .select(['run_id', 'step', 'state'])
        .where('run_id', 'in', batch)
        .execute();
      for (const s of stepRows) steps.get(s.run_id)?.push([s.step, JSON.parse(s.state) as StepState]);
    }
    return rows.map((row) => {
      const entries = steps.get(row.id)!.sort(([a], [b]) => byString(a, b));
      return toRun(row, Object.fromEntries(entries));
    });
  }
}
