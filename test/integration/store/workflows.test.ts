import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CreateRunInput,
  isVersionConflict,
  type Store,
  StoreError,
  type TransitionStage,
  WorkflowsRepo,
} from '../../../src/store/index.ts';
import { freshStep } from '../../../src/workflows/engine/step-state.ts';
import type { RunRecord, StepState } from '../../../src/workflows/state.ts';
import { type Backend, backends, SqliteBackend, undoLedgerAttribution } from './backends.ts';

const run = promisify(execFile);
const STORE_MODULE = fileURLToPath(new URL('../../../src/store/index.ts', import.meta.url));

const T0 = Date.parse('2026-11-23T09:00:00Z');

const DEFINITION = {
  name: 'hometown-distance',
  inputs: { a: { type: 'string' }, b: { type: 'string' } },
  steps: {
    town_a: { prompt: 'Home town of {{ inputs.a }}?' },
    town_b: { prompt: 'Home town of {{ inputs.b }}?' },
    distance: { needs: ['town_a', 'town_b'], prompt: 'Distance?' },
  },
  outputs: { km: '{{ steps.distance.output }}' },
};

function step(over: Partial<StepState> = {}): StepState {
  return { ...freshStep(), ...over };
}

const STEPS = { town_a: step(), town_b: step(), distance: step() };

/** Takes a database back to before 0008 (alerts, audit log, a team's alert thresholds). */
async function undoAlertsAudit(db: Kysely<any>): Promise<void> {
  for (const table of ['alert_deliveries', 'alerts', 'audit_log'])
    await sql`drop table ${sql.table(table)}`.execute(db);
  await sql`alter table teams drop column budget_alerts`.execute(db);
  await sql`delete from quorum_migration where name = '0008_alerts_audit'`.execute(db);
}

/** Everything the database holds about a run, to compare before and after a failed transition. */
async function snapshot(store: Store, runId: string) {
  return {
    run: await store.db.selectFrom('runs').selectAll().where('id', '=', runId).executeTakeFirst(),
    steps: await store.db
      .selectFrom('run_steps')
      .selectAll()
      .where('run_id', '=', runId)
      .orderBy('step')
      .execute(),
    events: await store.db
      .selectFrom('run_events')
      .selectAll()
      .where('run_id', '=', runId)
      .orderBy('seq')
      .execute(),
  };
}

describe.each(backends())('workflows on $name', ({ make }) => {
  const backend: Backend = make();
  let clock = T0;
  let store: Store;
  let workflowId: string;

  const newRun = async (over: Partial<CreateRunInput> = {}) =>
    (
      await store.workflows.createRun({
        workflow_id: workflowId,
        inputs: { a: 'Ada Lovelace', b: 'Alan Turing' },
        team: 'research',
        steps: STEPS,
        ...over,
      })
    ).run;

  beforeAll(async () => {
    store = await (await backend.fresh()).open({ now: () => clock });
    workflowId = (
      await store.workflows.createWorkflow({
        team: 'research',
        name: 'hometown-distance',
        definition: DEFINITION,
      })
    ).id;
  });
  afterAll(() => backend.cleanup());

  describe('definitions', () => {
    it('numbers versions per name and finds the latest', async () => {
      const a1 = await store.workflows.createWorkflow({
        team: 'research',
        name: 'plan',
        definition: { v: 1 },
      });
      clock += 1000;
      const a2 = await store.workflows.createWorkflow({
        team: 'research',
        name: 'plan',
        definition: { v: 2 },
      });
      const b1 = await store.workflows.createWorkflow({
        team: 'research',
        name: 'draft',
        definition: { v: 1 },
      });
      expect(a1).toEqual({
        id: expect.stringMatching(/^wf_/),
        team: 'research',
        name: 'plan',
        version: 1,
        definition: { v: 1 },
        created_at: T0,
      });
      expect(a2).toMatchObject({ name: 'plan', version: 2, definition: { v: 2 }, created_at: T0 + 1000 });
      expect(b1).toMatchObject({ name: 'draft', version: 1 });
      expect(new Set([a1.id, a2.id, b1.id]).size).toBe(3);

      expect(await store.workflows.getWorkflow(a1.id)).toEqual(a1);
      expect(await store.workflows.getWorkflow('wf_nope')).toBeNull();
      expect(await store.workflows.latestByName('research', 'plan')).toEqual(a2);
      expect(await store.workflows.latestByName('research', 'nope')).toBeNull();

      const latest = await store.workflows.listWorkflows();
      expect(latest.map((w) => [w.name, w.version])).toEqual([
        ['draft', 1],
        ['hometown-distance', 1],
        ['plan', 2],
      ]);
      const all = await store.workflows.listWorkflows({ versions: 'all' });
      expect(all.map((w) => [w.name, w.version])).toEqual([
        ['draft', 1],
        ['hometown-distance', 1],
        ['plan', 1],
        ['plan', 2],
      ]);
    });

    it('gives concurrent creates of one name distinct, consecutive versions', async () => {
      const made = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          store.workflows.createWorkflow({ team: 'research', name: 'race', definition: { i } }),
        ),
      );
      expect(made.map((w) => w.version).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 12 }, (_, i) => i + 1),
      );
    });

    it('refuses an empty name and a definition JSON cannot hold', async () => {
      await expect(
        store.workflows.createWorkflow({ team: 'research', name: ' ', definition: {} }),
      ).rejects.toMatchObject({
        code: 'invalid',
        param: 'name',
      });
      await expect(
        store.workflows.createWorkflow({ team: 'research', name: 'x', definition: { n: 1n } }),
      ).rejects.toMatchObject({
        code: 'invalid',
        param: 'definition',
      });
      expect(await store.workflows.latestByName('research', 'x')).toBeNull();
    });

    it('keeps definitions per team: the same name is each team its own version 1, listed only to it', async () => {
      const a = await store.workflows.createWorkflow({
        team: 'team-a',
        name: 'shared-name',
        definition: { a: 1 },
      });
      const b = await store.workflows.createWorkflow({
        team: 'team-b',
        name: 'shared-name',
        definition: { b: 1 },
      });
      expect([a.version, b.version]).toEqual([1, 1]);
      expect(a).toMatchObject({ team: 'team-a' });
      expect(await store.workflows.latestByName('team-a', 'shared-name')).toEqual(a);
      expect(await store.workflows.latestByName('team-b', 'shared-name')).toEqual(b);
      expect(await store.workflows.getWorkflow(a.id, 'team-b')).toBeNull();
      expect(await store.workflows.getWorkflow(a.id, 'team-a')).toEqual(a);
      const listed = await store.workflows.listWorkflows({ team: 'team-b' });
      expect(listed.map((w) => [w.team, w.name, w.version])).toEqual([['team-b', 'shared-name', 1]]);
      const everyone = await store.workflows.listWorkflows();
      expect(everyone.filter((w) => w.name === 'shared-name').map((w) => w.team)).toEqual([
        'team-a',
        'team-b',
      ]);
    });

    it('returns the existing version for an identical definition, a new one when it differs', async () => {
      const first = await store.workflows.storeWorkflow({
        team: 'team-c',
        name: 'same',
        definition: { x: 1 },
      });
      const again = await store.workflows.storeWorkflow({
        team: 'team-c',
        name: 'same',
        definition: { x: 1 },
      });
      expect(first.created).toBe(true);
      expect(again).toEqual({ workflow: first.workflow, created: false });
      const changed = await store.workflows.storeWorkflow({
        team: 'team-c',
        name: 'same',
        definition: { x: 2 },
      });
      expect(changed).toMatchObject({ created: true, workflow: { version: 2 } });
      // Another team storing the very same text gets a definition of its own.
      const other = await store.workflows.storeWorkflow({
        team: 'team-d',
        name: 'same',
        definition: { x: 1 },
      });
      expect(other.created).toBe(true);
      expect(other.workflow.id).not.toBe(first.workflow.id);
    });
  });

  describe('runs', () => {
    it('creates a pending run with its steps', async () => {
      const { run, created } = await store.workflows.createRun({
        workflow_id: workflowId,
        inputs: { a: 'Ada', b: 'Alan' },
        team: 'research',
        key_id: 'key_1',
        steps: { ...STEPS, town_a: step({ output: undefined }) },
      });
      expect(created).toBe(true);
      expect(run).toEqual({
        id: expect.stringMatching(/^run_/),
        workflow_id: workflowId,
        status: 'pending',
        inputs: { a: 'Ada', b: 'Alan' },
        outputs: null,
        cost_usd: 0,
        steps: STEPS,
        team: 'research',
        key_id: 'key_1',
        idempotency_key: null,
        error: null,
        created_at: clock,
        updated_at: clock,
        version: 0,
      } satisfies RunRecord);
      expect(await store.workflows.getRun(run.id)).toEqual(run);
      expect(await store.workflows.getRun('run_nope')).toBeNull();
      expect(await store.workflows.events(run.id)).toEqual([]);
    });

    it('returns the existing run for a repeated idempotency key of the same team', async () => {
      const first = await store.workflows.createRun({
        workflow_id: workflowId,
        inputs: { a: 'x', b: 'y' },
        team: 'research',
        idempotency_key: 'idem-1',
        steps: STEPS,
      });
      expect(first.created).toBe(true);
      const again = await store.workflows.createRun({
        workflow_id: workflowId,
        inputs: { a: 'other', b: 'inputs' },
        team: 'research',
        idempotency_key: 'idem-1',
        steps: STEPS,
      });
      expect(again).toEqual({ run: first.run, created: false });

      const otherTeam = await store.workflows.createRun({
        workflow_id: workflowId,
        inputs: { a: 'x', b: 'y' },
        team: 'ops',
        idempotency_key: 'idem-1',
        steps: STEPS,
      });
      expect(otherTeam.created).toBe(true);
      expect(otherTeam.run.id).not.toBe(first.run.id);

      // Without a key, every call is a new run.
      const a = await newRun();
      const b = await newRun();
      expect(a.id).not.toBe(b.id);

      // The same key for another workflow is a mistake, not a replay.
      const other = await store.workflows.createWorkflow({ team: 'research', name: 'other', definition: {} });
      await expect(
        store.workflows.createRun({
          workflow_id: other.id,
          inputs: {},
          team: 'research',
          idempotency_key: 'idem-1',
          steps: {},
        }),
      ).rejects.toMatchObject({ code: 'conflict', param: 'idempotency_key' });
    });

    it('makes one run for concurrent creates with the same key', async () => {
      const results = await Promise.all(
        Array.from({ length: 10 }, () =>
          store.workflows.createRun({
            workflow_id: workflowId,
            inputs: {},
            team: 'research',
            idempotency_key: 'idem-race',
            steps: STEPS,
          }),
        ),
      );
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.run.id)).size).toBe(1);
      const rows = await store.db
        .selectFrom('runs')
        .select('id')
        .where('idempotency_key', '=', 'idem-race')
        .execute();
      expect(rows).toHaveLength(1);
      const steps = await store.db
        .selectFrom('run_steps')
        .select('step')
        .where('run_id', '=', rows[0]!.id)
        .execute();
      expect(steps).toHaveLength(3);
    });

    it('refuses an unknown workflow and bad fields', async () => {
      await expect(newRun({ workflow_id: 'wf_nope' })).rejects.toMatchObject({
        code: 'not_found',
        param: 'workflow_id',
      });
      await expect(newRun({ team: '' })).rejects.toMatchObject({ code: 'invalid', param: 'team' });
      await expect(newRun({ inputs: [] as unknown as Record<string, unknown> })).rejects.toMatchObject({
        code: 'invalid',
        param: 'inputs',
      });
      await expect(newRun({ steps: { s: step({ output: { big: 1n } }) } })).rejects.toMatchObject({
        code: 'invalid',
        param: 'steps.s',
      });
      await expect(newRun({ steps: { s: step({ status: 'done' as never }) } })).rejects.toMatchObject({
        code: 'invalid',
        param: 'steps.s.status',
      });
    });
  });

  describe('transition', () => {
    it('changes the run, its steps and appends numbered events together', async () => {
      const run = await newRun();
      clock += 500;
      const started = await store.workflows.transition(run.id, {
        run: { status: 'running' },
        steps: { town_a: step({ status: 'running', started_at: clock, attempts: 1 }) },
        events: [{ type: 'run.started' }, { type: 'step.started', step: 'town_a', data: { attempt: 1 } }],
      });
      expect(started).toEqual([
        { seq: 1, type: 'run.started', run_id: run.id, at: clock },
        { seq: 2, type: 'step.started', run_id: run.id, step: 'town_a', data: { attempt: 1 }, at: clock },
      ]);

      clock += 500;
      const done = await store.workflows.transition(run.id, {
        run: { addCostUsd: 0.1 },
        steps: {
          town_a: step({
            status: 'succeeded',
            output: 'London',
            attempts: 1,
            cost_usd: 0.1,
            ended_at: clock,
          }),
        },
        events: [{ type: 'step.succeeded', step: 'town_a', data: { cost_usd: 0.1 } }],
      });
      expect(done.map((e) => e.seq)).toEqual([3]);
      await store.workflows.transition(run.id, {
        run: { addCostUsd: 0.2, status: 'succeeded', outputs: { km: 42 } },
        events: [{ type: 'run.succeeded' }],
      });

      const after = await store.workflows.getRun(run.id);
      expect(after).toMatchObject({
        status: 'succeeded',
        outputs: { km: 42 },
        // Integer nano-dollars: 0.1 + 0.2 is exactly 0.3 here.
        cost_usd: 0.3,
        created_at: run.created_at,
        updated_at: clock,
        steps: { ...STEPS, town_a: { status: 'succeeded', output: 'London', cost_usd: 0.1 } },
      });
      expect(after!.steps.town_a?.ended_at).toBe(clock);

      const all = await store.workflows.events(run.id);
      expect(all.map((e) => [e.seq, e.type])).toEqual([
        [1, 'run.started'],
        [2, 'step.started'],
        [3, 'step.succeeded'],
        [4, 'run.succeeded'],
      ]);
      expect(await store.workflows.events(run.id, 2)).toEqual(all.slice(2));
      expect(await store.workflows.events(run.id, 4)).toEqual([]);
      await expect(store.workflows.events(run.id, Number.NaN)).rejects.toMatchObject({ code: 'invalid' });

      // Clearing the outputs and error is explicit (null); absent fields stay.
      await store.workflows.transition(run.id, { run: { error: 'boom' }, events: [] });
      await store.workflows.transition(run.id, { run: { outputs: null }, events: [] });
      expect(await store.workflows.getRun(run.id)).toMatchObject({
        status: 'succeeded',
        outputs: null,
        error: 'boom',
      });
      expect(await store.workflows.events(run.id)).toHaveLength(4);
    });

    it('adds a step that had no row', async () => {
      const run = await newRun({ steps: {} });
      await store.workflows.transition(run.id, { steps: { extra: step({ status: 'skipped' }) }, events: [] });
      expect((await store.workflows.getRun(run.id))!.steps).toEqual({ extra: step({ status: 'skipped' }) });
    });

    it('writes nothing when a step cannot be serialised', async () => {
      const run = await newRun();
      await store.workflows.transition(run.id, {
        run: { status: 'running' },
        events: [{ type: 'run.started' }],
      });
      const before = await snapshot(store, run.id);
      clock += 1000;
      const err = await store.workflows
        .transition(run.id, {
          run: { status: 'failed', addCostUsd: 1 },
          steps: {
            town_a: step({ status: 'succeeded', output: 'fine' }),
            town_b: step({ status: 'succeeded', output: { tokens: 12n } }),
          },
          events: [
            { type: 'step.succeeded', step: 'town_a' },
            { type: 'step.succeeded', step: 'town_b' },
          ],
        })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect(err).toMatchObject({ code: 'invalid', param: 'steps.town_b' });
      expect(await snapshot(store, run.id)).toEqual(before);
    });

    it.each<TransitionStage>(['run', 'steps', 'events'])(
      'rolls everything back when the transaction fails after its %s write',
      async (stage) => {
        const failing = new WorkflowsRepo(
          { db: store.db, engine: store.engine, now: () => clock },
          {
            onTransitionWrite: (at) => {
              if (at === stage) throw new Error(`injected failure after ${at}`);
            },
          },
        );
        const run = await newRun();
        await store.workflows.transition(run.id, {
          run: { status: 'running' },
          events: [{ type: 'run.started' }],
        });
        const before = await snapshot(store, run.id);
        clock += 1000;
        await expect(
          failing.transition(run.id, {
            run: { status: 'waiting', addCostUsd: 0.5, outputs: { x: 1 }, error: 'e' },
            steps: { town_a: step({ status: 'succeeded', output: 'Paris' }), newcomer: step() },
            events: [
              { type: 'step.succeeded', step: 'town_a' },
              { type: 'step.waiting', step: 'check' },
            ],
          }),
        ).rejects.toThrow(`injected failure after ${stage}`);
        expect(await snapshot(store, run.id)).toEqual(before);

        // The run is not stuck: the next transition continues the sequence.
        const next = await store.workflows.transition(run.id, {
          events: [{ type: 'step.started', step: 'town_a' }],
        });
        expect(next[0]?.seq).toBe(2);
      },
    );

    it('refuses an unknown run, an unknown event type and a negative cost, writing nothing', async () => {
      await expect(
        store.workflows.transition('run_nope', { events: [{ type: 'run.started' }] }),
      ).rejects.toMatchObject({
        code: 'not_found',
      });
      expect(await store.workflows.events('run_nope')).toEqual([]);
      const run = await newRun();
      const before = await snapshot(store, run.id);
      await expect(
        store.workflows.transition(run.id, { events: [{ type: 'run.exploded' as never }] }),
      ).rejects.toMatchObject({ code: 'invalid', param: 'events[0].type' });
      await expect(
        store.workflows.transition(run.id, { run: { addCostUsd: -1 }, events: [] }),
      ).rejects.toMatchObject({ code: 'invalid', param: 'run.addCostUsd' });
      await expect(
        store.workflows.transition(run.id, { run: { status: 'done' as never }, events: [] }),
      ).rejects.toMatchObject({ code: 'invalid', param: 'run.status' });
      expect(await snapshot(store, run.id)).toEqual(before);
    });

    it('keeps sequence numbers consecutive and gap-free under 50 concurrent transitions of one run', async () => {
      const run = await newRun();
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          store.workflows.transition(run.id, {
            run: { addCostUsd: 0.001 },
            steps: { town_a: step({ status: 'running', attempts: i + 1 }) },
            events: [
              { type: 'step.started', step: 'town_a', data: { i } },
              { type: 'step.failed', step: 'town_a', data: { i } },
            ],
          }),
        ),
      );
      // Each transition got two adjacent numbers; together they are 1..100.
      for (const events of results) expect(events[1]!.seq).toBe(events[0]!.seq + 1);
      const seqs = results.flatMap((events) => events.map((e) => e.seq)).sort((a, b) => a - b);
      expect(seqs).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));

      const stored = await store.workflows.events(run.id);
      expect(stored.map((e) => e.seq)).toEqual(seqs);
      // Stored pairs are never interleaved with another transition's events.
      for (let i = 0; i < 100; i += 2) expect(stored[i]!.data).toEqual(stored[i + 1]!.data);
      const after = await store.workflows.getRun(run.id);
      expect(after!.cost_usd).toBe(0.05);
      // The last transition to commit wrote the step: the one that owns the highest seq.
      const last = stored[99]!.data as { i: number };
      expect(after!.steps.town_a?.attempts).toBe(last.i + 1);
    });

    it('writes over the version read, or nothing: the run, its steps, its events and ledger rows all refused together', async () => {
      const run = await newRun();
      expect(run.version).toBe(0);
      const row = (request_id: string) => ({
        request_id,
        team_id: 'research',
        model: 'm',
        provider: 'p',
        input_tokens: 1,
        output_tokens: 1,
        cost_nanos: 7,
        latency_ms: 1,
        status: 200,
      });
      await store.workflows.transition(
        run.id,
        {
          run: { addCostUsd: 7e-9 },
          steps: { town_a: step({ cost_usd: 7e-9 }) },
          events: [{ type: 'run.started' }],
        },
        { expectVersion: 0, ledger: [row('wf-fence-1')] },
      );
      const read = (await store.workflows.getRun(run.id))!;
      expect(read.version).toBe(1);
      // A writer that decided from version 0 is refused: nothing of its change is written.
      const stale = store.workflows.transition(
        run.id,
        {
          run: { status: 'failed', addCostUsd: 7e-9 },
          steps: { town_a: step({ status: 'failed' }) },
          events: [{ type: 'run.failed' }],
        },
        { expectVersion: 0, ledger: [row('wf-fence-2')] },
      );
      await expect(stale).rejects.toSatisfy(isVersionConflict);
      const after = (await store.workflows.getRun(run.id))!;
      expect(after).toEqual(read);
      expect((await store.workflows.events(run.id)).map((e) => e.type)).toEqual(['run.started']);
      await store.ledger.flush();
      const rows = await sql<{
        request_id: string;
      }>`select request_id from ledger where request_id like 'wf-fence-%'`.execute(store.db);
      expect(rows.rows.map((r) => r.request_id)).toEqual(['wf-fence-1']);
      // An unknown run is still not_found, not a conflict.
      await expect(
        store.workflows.transition('run_nope', { events: [] }, { expectVersion: 0 }),
      ).rejects.toMatchObject({ code: 'not_found' });
    });
  });

  describe('cost holds', () => {
    it('holds a call only within the cap, even when many hold at once; a settle frees the unspent part', async () => {
      const run = await newRun();
      // Ten calls of 3,000 nanos ask at the same moment under a 10,000-nano cap: exactly three fit.
      const asked = await Promise.all(
        Array.from({ length: 10 }, () => store.workflows.holdCost(run.id, 3000, 10_000)),
      );
      expect(asked.filter((h) => h.held)).toHaveLength(3);
      expect(await store.workflows.holdCost(run.id, 1001, 10_000)).toEqual({
        held: false,
        spentNanos: 0,
        heldNanos: 9000,
      });
      // One call cost 1,000 of its 3,000: 2,000 are free again, and what it cost counts.
      await store.workflows.settleCost(run.id, 3000, 1000);
      expect(await store.workflows.holdCost(run.id, 3000, 10_000)).toEqual({
        held: true,
        spentNanos: 1000,
        heldNanos: 9000,
      });
      await expect(store.workflows.holdCost('run_nope', 1, 10)).rejects.toMatchObject({ code: 'not_found' });
      await expect(store.workflows.holdCost(run.id, -1, 10)).rejects.toMatchObject({ code: 'invalid' });
    });

    it("counts a run's earlier cost when its holds start after an upgrade", async () => {
      const run = await newRun();
      await store.workflows.transition(run.id, { run: { addCostUsd: 0.000008 }, events: [] });
      // A run created before the holds existed: nothing counted yet, so its cost so far is what it spent.
      await sql`update runs set cap_spent_nanos = null where id = ${run.id}`.execute(store.db);
      expect(await store.workflows.holdCost(run.id, 3000, 10_000)).toEqual({
        held: false,
        spentNanos: 8000,
        heldNanos: 0,
      });
      expect((await store.workflows.holdCost(run.id, 2000, 10_000)).held).toBe(true);
    });
  });

  describe('listing', () => {
    it('lists runs by status and finds unfinished runs, oldest first', async () => {
      const wf = await store.workflows.createWorkflow({ team: 'research', name: 'listing', definition: {} });
      const ids: string[] = [];
      for (const status of ['pending', 'running', 'waiting', 'succeeded', 'failed', 'cancelled'] as const) {
        clock += 10;
        const run = await newRun({ workflow_id: wf.id, team: 'listing' });
        if (status !== 'pending') await store.workflows.transition(run.id, { run: { status }, events: [] });
        ids.push(run.id);
      }
      const mine = (runs: RunRecord[]) => runs.filter((r) => r.workflow_id === wf.id).map((r) => r.id);

      expect(mine(await store.workflows.unfinishedRuns())).toEqual(ids.slice(0, 3));
      const unfinished = await store.workflows.unfinishedRuns();
      expect(unfinished.every((r) => ['pending', 'running', 'waiting'].includes(r.status))).toBe(true);
      expect(unfinished.find((r) => r.id === ids[1])!.steps).toEqual(STEPS);

      expect(await store.workflows.listRuns({ workflow_id: wf.id }).then((r) => r.map((x) => x.id))).toEqual(
        [...ids].reverse(),
      );
      expect(mine(await store.workflows.listRuns({ status: 'waiting' }))).toEqual([ids[2]]);
      expect(mine(await store.workflows.listRuns({ status: ['succeeded', 'failed'] }))).toEqual([
        ids[4],
        ids[3],
      ]);
      expect(mine(await store.workflows.listRuns({ team: 'listing', limit: 2 }))).toEqual([ids[5], ids[4]]);
      expect(await store.workflows.listRuns({ status: [] })).toEqual([]);
    });

    it('pages through runs after a given one, runs made in the same millisecond included', async () => {
      const wf = await store.workflows.createWorkflow({ team: 'research', name: 'paging', definition: {} });
      clock += 10;
      for (let i = 0; i < 5; i++) await newRun({ workflow_id: wf.id, team: 'paging' });
      const all = (await store.workflows.listRuns({ team: 'paging' })).map((r) => r.id);
      expect(all).toHaveLength(5);
      const seen: string[] = [];
      let before: { created_at: number; id: string } | undefined;
      for (;;) {
        const page = await store.workflows.listRuns({ team: 'paging', limit: 2, ...(before && { before }) });
        if (!page.length) break;
        seen.push(...page.map((r) => r.id));
        const last = page.at(-1)!;
        before = { created_at: last.created_at, id: last.id };
      }
      expect(seen).toEqual(all);
    });
  });

  describe('durability', () => {
    it('keeps definitions, runs, steps and events across close and reopen', async () => {
      const target = await backend.fresh();
      const first = await target.open({ now: () => clock });
      const wf = await first.workflows.createWorkflow({
        team: 'research',
        name: 'durable',
        definition: DEFINITION,
      });
      const { run } = await first.workflows.createRun({
        workflow_id: wf.id,
        inputs: { a: 'é', b: '🙂' },
        team: 'research',
        key_id: 'key_9',
        idempotency_key: 'k',
        steps: STEPS,
      });
      await first.workflows.transition(run.id, {
        run: { status: 'running', addCostUsd: 0.000123 },
        steps: {
          town_a: step({
            status: 'succeeded',
            output: { town: 'London', nested: [1, { x: null }] },
            history: [{ output: 'London', source: 'model', at: clock }],
          }),
          town_b: step({ status: 'running', attempts: 1 }),
        },
        events: [
          { type: 'run.started' },
          { type: 'step.succeeded', step: 'town_a', data: { cost_usd: 0.000123 } },
        ],
      });
      const before = {
        run: await first.workflows.getRun(run.id),
        events: await first.workflows.events(run.id),
      };
      await first.close();

      const second = await target.open();
      expect(await second.workflows.getWorkflow(wf.id)).toEqual(wf);
      expect(await second.workflows.getRun(run.id)).toEqual(before.run);
      expect(before.run!.cost_usd).toBe(0.000123);
      expect(await second.workflows.events(run.id)).toEqual(before.events);
      expect((await second.workflows.unfinishedRuns()).map((r) => r.id)).toEqual([run.id]);
      // The idempotency key still holds after the restart.
      const again = await second.workflows.createRun({
        workflow_id: wf.id,
        inputs: {},
        team: 'research',
        idempotency_key: 'k',
        steps: {},
      });
      expect(again.created).toBe(false);
      expect(again.run.id).toBe(run.id);
      // And the sequence continues where it stopped.
      const next = await second.workflows.transition(run.id, {
        events: [{ type: 'step.started', step: 'distance' }],
      });
      expect(next[0]?.seq).toBe(3);
    });

    it('upgrades a database that has only migration 0001', async () => {
      const target = await backend.fresh();
      // Make the database exactly what the 0001-only release left: its tables and its migration row.
      const setup = await target.open();
      await sql`drop table run_events`.execute(setup.db);
      await sql`drop table run_steps`.execute(setup.db);
      await sql`drop table runs`.execute(setup.db);
      await sql`drop table workflows`.execute(setup.db);
      await sql`drop table responses`.execute(setup.db);
      await sql`drop table request_log`.execute(setup.db);
      await sql`drop index ledger_key_created_idx`.execute(setup.db);
      for (const table of ['learned_quality', 'learning_control', 'learning_subjects']) {
        await sql`drop table ${sql.table(table)}`.execute(setup.db);
      }
      await undoLedgerAttribution(setup);
      await sql`delete from quorum_migration where name in ('0002_workflows', '0003_workflow_teams', '0004_responses', '0005_request_log', '0006_ledger_indexes', '0010_run_versions', '0011_learned_quality')`.execute(
        setup.db,
      );
      await setup.teams.create({ id: 'old-team' });
      const { key } = await setup.keys.create({ team: 'old-team', name: 'old-key' });
      await undoAlertsAudit(setup.db);
      const pepper = setup.pepper;
      await setup.close();

      const upgraded = await target.open();
      const names = await sql<{ name: string }>`select name from quorum_migration order by name`.execute(
        upgraded.db,
      );
      expect(names.rows.map((r) => r.name)).toEqual([
        '0001_teams_keys_ledger_meta',
        '0002_workflows',
        '0003_workflow_teams',
        '0004_responses',
        '0005_request_log',
        '0006_ledger_indexes',
        '0008_alerts_audit',
        '0009_ledger_attribution',
        '0010_run_versions',
        '0011_learned_quality',
        '0012_run_cost_holds',
        '0013_budget_scopes',
      ]);
      expect(upgraded.pepper).toBe(pepper);
      expect(await upgraded.teams.get('old-team')).toMatchObject({ id: 'old-team' });
      expect((await upgraded.keys.findByKey(key))?.team).toBe('old-team');

      const wf = await upgraded.workflows.createWorkflow({
        team: 'research',
        name: 'after-upgrade',
        definition: {},
      });
      const { run } = await upgraded.workflows.createRun({
        workflow_id: wf.id,
        inputs: {},
        team: 'old-team',
        steps: STEPS,
      });
      const events = await upgraded.workflows.transition(run.id, { events: [{ type: 'run.started' }] });
      expect(events[0]?.seq).toBe(1);
    });

    it('gives definitions stored before teams owned them to team default, keeping their runs', async () => {
      const target = await backend.fresh();
      // The 0002-era shape: a definition row without an owner, and a run of it.
      const setup = await target.open();
      const old = await setup.workflows.createWorkflow({ team: 'x', name: 'legacy', definition: { v: 1 } });
      const { run } = await setup.workflows.createRun({
        workflow_id: old.id,
        inputs: {},
        team: 'research',
        steps: STEPS,
      });
      await sql`drop index workflows_team_name_version_idx`.execute(setup.db);
      await sql`alter table workflows drop column team_id`.execute(setup.db);
      await sql`create unique index workflows_name_version_idx on workflows (name, version)`.execute(
        setup.db,
      );
      await sql`drop table responses`.execute(setup.db);
      await sql`drop table request_log`.execute(setup.db);
      await sql`drop index ledger_key_created_idx`.execute(setup.db);
      for (const table of ['learned_quality', 'learning_control', 'learning_subjects']) {
        await sql`drop table ${sql.table(table)}`.execute(setup.db);
      }
      await undoAlertsAudit(setup.db);
      await undoLedgerAttribution(setup);
      await sql`delete from quorum_migration where name in ('0003_workflow_teams', '0004_responses', '0005_request_log', '0006_ledger_indexes', '0008_alerts_audit', '0010_run_versions', '0011_learned_quality')`.execute(
        setup.db,
      );
      await setup.close();

      const upgraded = await target.open();
      expect(await upgraded.workflows.getWorkflow(old.id)).toMatchObject({ team: 'default', version: 1 });
      expect(await upgraded.workflows.getWorkflow(old.id, 'research')).toBeNull();
      expect((await upgraded.workflows.listWorkflows({ team: 'default' })).map((w) => w.id)).toEqual([
        old.id,
      ]);
      expect((await upgraded.workflows.getRun(run.id))?.workflow_id).toBe(old.id);
      // Names are now unique per team: another team starts its own version 1 of the same name.
      const mine = await upgraded.workflows.createWorkflow({
        team: 'research',
        name: 'legacy',
        definition: {},
      });
      expect(mine.version).toBe(1);
      const next = await upgraded.workflows.createWorkflow({
        team: 'default',
        name: 'legacy',
        definition: {},
      });
      expect(next.version).toBe(2);
    });
  });
});

describe('workflows on sqlite: several processes', () => {
  const backend = new SqliteBackend();
  afterAll(() => backend.cleanup());

  it('serialises transitions and versions across processes sharing the file', async () => {
    const target = await backend.fresh();
    const store = await target.open();
    const wf = await store.workflows.createWorkflow({ team: 'research', name: 'shared', definition: {} });
    const { run: shared } = await store.workflows.createRun({
      workflow_id: wf.id,
      inputs: {},
      team: 'research',
      steps: {},
    });
    const script = `import { openStore } from ${JSON.stringify(STORE_MODULE)};
      const store = await openStore(${JSON.stringify(target.url)});
      for (let i = 0; i < 20; i++) {
        const data = { pid: process.pid, i };
        await store.workflows.transition(${JSON.stringify(shared.id)}, {
          run: { addCostUsd: 0.001 },
          events: [{ type: 'step.started', data }, { type: 'step.succeeded', data }],
        });
        await store.workflows.createWorkflow({ team: 'research', name: 'shared', definition: data });
      }
      await store.close();`;
    await Promise.all(
      Array.from({ length: 4 }, () => run(process.execPath, ['--input-type=module', '-e', script])),
    );

    const events = await store.workflows.events(shared.id);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 160 }, (_, i) => i + 1));
    for (let i = 0; i < 160; i += 2) expect(events[i]!.data).toEqual(events[i + 1]!.data);
    expect((await store.workflows.getRun(shared.id))!.cost_usd).toBe(0.08);
    const versions = (await store.workflows.listWorkflows({ versions: 'all' })).map((w) => w.version);
    expect(versions).toEqual(Array.from({ length: 81 }, (_, i) => i + 1));
  });
});
