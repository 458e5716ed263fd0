/**
 * Workflow run endpoints: start, read, the SSE event stream, corrections, approvals, re-runs, cancel.
 * Every one acts only on the caller's team's runs (another team's answer 404 as unknown ones do); the
 * operator acts on all.
 */

import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { GatewayError } from '../../../errors/index.ts';
import { type Gateway, ledgerKeyOf } from '../../../gateway/index.ts';
import type { Store } from '../../../store/index.ts';
import { validateDefinition } from '../../../workflows/definition/index.ts';
import type { Engine } from '../../../workflows/engine/index.ts';
import type { EventHub } from '../../../workflows/event-hub.ts';
import type { RunEvent, RunRecord } from '../../../workflows/state.ts';
import { stepModelProblems } from '../../../workflows/step-models.ts';
import { readJson } from '../../body.ts';
import type { AppEnv } from '../../env.ts';
import { domainError } from '../../errors.ts';
import { cursorOf, pageLimit, readCursor } from '../../paging.ts';
import { ErrorSchema } from '../../schemas.ts';
import { invalidWorkflow, WorkflowParams, WorkflowQuery } from './definitions.ts';
import { findWorkflow, workflowRef } from './find-workflow.ts';

/** The comment an events stream sends once its history has been replayed and it stays open. */
export const HISTORY_SENT = 'history sent; live events follow';

export interface RunDeps {
  gateway: Gateway;
  store: Store;
  engine: Engine;
  hub: EventHub;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The definition a run is of, as its view names it. */
export interface RunWorkflow {
  name: string;
  version: number;
}

/** The API's run object; with its definition known, also `workflow: {name, version}`. */
export function runView(run: RunRecord, workflow?: RunWorkflow) {
  const steps: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(run.steps)) {
    steps[name] = {
      status: s.status,
      output: s.output,
      attempts: s.attempts,
      iterations: s.iterations,
      cost_usd: s.cost_usd,
      started_at: iso(s.started_at),
      ended_at: iso(s.ended_at),
      error: s.error,
      ...(s.history.length ? { history: s.history } : {}),
    };
  }
  return {
    id: run.id,
    workflow_id: run.workflow_id,
    ...(workflow && { workflow: { name: workflow.name, version: workflow.version } }),
    status: run.status,
    inputs: run.inputs,
    outputs: run.outputs,
    cost_usd: run.cost_usd,
    error: run.error,
    steps,
    created_at: iso(run.created_at),
    updated_at: iso(run.updated_at),
  };
}

/** Engine calls whose refusals (not found, conflict, invalid) are mapped to the error table now. */
const call = async <T>(fn: () => Promise<T>) => {
  try {
    return await fn();
  } catch (err) {
    throw domainError(err) ?? err;
  }
};

const PAGE = 20;
const MAX_PAGE = 100;

const RunSchema = z
  .looseObject({
    id: z.string(),
    workflow_id: z.string(),
    workflow: z.object({ name: z.string(), version: z.number() }).optional(),
    status: z.string(),
  })
  .openapi('Run');
const errors = {
  400: { description: 'Invalid', content: { 'application/json': { schema: ErrorSchema } } },
  404: { description: 'Unknown', content: { 'application/json': { schema: ErrorSchema } } },
};
/** A /v1/runs route: answers with the run (or the given content), 400/404 otherwise. */
function runRoute(
  method: 'get' | 'put' | 'post',
  path: string,
  summary: string,
  content: Record<string, { schema: z.ZodType }> = { 'application/json': { schema: RunSchema } },
) {
  const params = path.includes('{step}')
    ? z.object({ id: z.string(), step: z.string() })
    : z.object({ id: z.string() });
  return createRoute({
    method,
    path,
    summary,
    security: [{ bearer: [] }],
    request: { params },
    responses: { 200: { description: 'The run', content }, ...errors },
  });
}

const routes = [
  createRoute({
    method: 'post',
    path: '/v1/workflows/{id}/runs',
    summary:
      "Start a run of a workflow, by id or by name (the latest version, or ?version=): 202 {run_id, status}; with ?wait=true, 200 with the run once it ends or waits for a person. Every model it names is checked against the catalog and the team's allow-list first (400 invalid_workflow, with the step's path)",
    security: [{ bearer: [] }],
    request: {
      params: WorkflowParams,
      query: z.object({ wait: z.enum(['true', 'false']).optional(), ...WorkflowQuery }),
      body: {
        content: {
          'application/json': { schema: z.object({ inputs: z.record(z.string(), z.unknown()).optional() }) },
        },
      },
    },
    responses: {
      202: {
        description: 'Started',
        content: { 'application/json': { schema: z.object({ run_id: z.string(), status: z.string() }) } },
      },
      200: { description: 'Finished or waiting', content: { 'application/json': { schema: RunSchema } } },
      ...errors,
    },
  }),
  createRoute({
    method: 'get',
    path: '/v1/runs',
    summary: "The caller's team's runs (every team's for the master key), newest first, paged by `cursor`",
    security: [{ bearer: [] }],
    request: {
      query: z.object({
        workflow: z
          .string()
          .optional()
          .openapi({ description: "A definition's id, or a workflow's name (its runs of every version)" }),
        status: z.string().optional().openapi({ description: 'One status, or several separated by commas' }),
        waiting: z.enum(['true', 'false']).optional(),
        limit: z
          .string()
          .optional()
          .openapi({ description: `1 to ${MAX_PAGE} (default ${PAGE})` }),
        cursor: z.string().optional().openapi({ description: 'next_cursor of the previous page' }),
      }),
    },
    responses: {
      200: {
        description: 'A page of runs',
        content: {
          'application/json': {
            schema: z.object({
              object: z.literal('list'),
              data: z.array(RunSchema),
              has_more: z.boolean(),
              next_cursor: z.string().nullable(),
            }),
          },
        },
      },
      400: errors[400],
    },
  }),
  runRoute('get', '/v1/runs/{id}', 'A run with every step'),
  runRoute('get', '/v1/runs/{id}/events', 'SSE: past events replayed, then live; honours Last-Event-ID', {
    'text/event-stream': { schema: z.string() },
  }),
  runRoute(
    'put',
    '/v1/runs/{id}/steps/{step}/output',
    "A person corrects a step's output: exactly its descendants re-run",
  ),
  runRoute(
    'post',
    '/v1/runs/{id}/steps/{step}/approve',
    'Release an approval step; approved: false fails it',
  ),
  runRoute('post', '/v1/runs/{id}/rerun', 'Re-run a step and its descendants'),
  runRoute('post', '/v1/runs/{id}/cancel', 'Cancel a run, aborting its in-flight upstream calls'),
];

const STATUSES = new Set<string>(['pending', 'running', 'waiting', 'succeeded', 'failed', 'cancelled']);

const badQuery = (param: string, message: string) =>
  new GatewayError('invalid_body', `${param}: ${message}`, { param });

/** The list's filters from the query string; every bad value is a 400 naming its parameter. */
function listQuery(c: Context<AppEnv>) {
  const q = c.req.query();
  let statuses: RunRecord['status'][] | undefined;
  if (q.status !== undefined) {
    const named = q.status.split(',').map((s) => s.trim());
    const unknown = named.find((s) => !STATUSES.has(s));
    if (unknown !== undefined) {
      throw badQuery('status', `unknown status "${unknown}"; use ${[...STATUSES].join(', ')}`);
    }
    statuses = named as RunRecord['status'][];
  }
  if (q.waiting !== undefined && q.waiting !== 'true' && q.waiting !== 'false') {
    throw badQuery('waiting', 'use true or false');
  }
  if (q.waiting === 'true') statuses = (statuses ?? ['waiting']).filter((s) => s === 'waiting');
  const limit = pageLimit(q.limit, PAGE, MAX_PAGE);
  const before = readCursor(q.cursor);
  return { statuses, limit, before, workflow: q.workflow };
}

const StartSchema = z.object({ inputs: z.record(z.string(), z.unknown()).optional() });

const TERMINAL = new Set(['run.succeeded', 'run.failed', 'run.cancelled']);
const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);

/** The sequence number to resume after: `Last-Event-ID` (or `?after=`), a non-negative integer. */
function resumeAfter(c: Context<AppEnv>): number {
  const header = c.req.header('last-event-id');
  const raw = header ?? c.req.query('after');
  if (raw === undefined || raw.trim() === '') return 0;
  const value = raw.trim();
  const seq = /^[0-9]+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(seq)) {
    const param = header === undefined ? 'after' : 'Last-Event-ID';
    throw new GatewayError(
      'invalid_body',
      `${param}: expected the non-negative integer id of an event already received`,
      { param },
    );
  }
  return seq;
}

const frame = (e: RunEvent) =>
  `id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify({ seq: e.seq, type: e.type, run_id: e.run_id, ...(e.step ? { step: e.step } : {}), ...e.data, at: new Date(e.at).toISOString() })}\n\n`;

export function registerWorkflowRuns(app: OpenAPIHono<AppEnv>, deps: RunDeps) {
  const { engine, store, hub, gateway } = deps;
  for (const r of routes) app.openAPIRegistry.registerPath(r);
  const max = gateway.config.server;

  /** The run's view, naming its workflow (definitions are never deleted, but a view does not depend on it). */
  const view = async (run: RunRecord) => {
    const workflow = await store.workflows.getWorkflow(run.workflow_id);
    return runView(run, workflow ?? undefined);
  };

  /** A run the caller's team may see (other teams' runs are reported as unknown). */
  const ownRun = async (c: Context<AppEnv>) => {
    const id = c.req.param('id')!;
    const run = await store.workflows.getRun(id);
    const caller = c.get('caller');
    if (!run || (!caller.operator && run.team !== caller.team)) {
      throw new GatewayError('not_found', `No run with id \`${id}\`.`, { param: 'id' });
    }
    return run;
  };

  app.post('/v1/workflows/:id/runs', async (c) => {
    // The body is optional: a workflow without inputs may be started with an empty POST.
    const empty = c.req.header('content-length') === '0' || !c.req.header('content-type');
    const body = empty ? {} : await readJson(c, StartSchema, max);
    const caller = c.get('caller');
    const workflow = await findWorkflow(store, caller, workflowRef(c));
    // The catalog, the presets and the team's allow-list may have changed since the definition was
    // stored: a run that could only fail midway (or reach a model no longer allowed) is refused up front.
    const parsed = validateDefinition(workflow.definition);
    const problems = parsed.ok ? stepModelProblems(gateway, caller, parsed.definition) : parsed.problems;
    if (problems.length) {
      const why = parsed.ok
        ? 'the models it names changed or are no longer allowed since it was stored'
        : 'its stored definition no longer validates';
      throw invalidWorkflow(
        problems,
        `Workflow \`${workflow.name}\` (version ${workflow.version}) cannot run for team \`${caller.team}\` now: ${why}; it has`,
      );
    }
    const idempotency = c.req.header('idempotency-key');
    const run = await call(() =>
      engine.start(workflow.id, body.inputs ?? {}, {
        team: caller.team,
        // A static key has no id: the run keeps it as the ledger names it (static:<name>).
        key_id: ledgerKeyOf(caller),
        ...(idempotency ? { idempotency_key: idempotency } : {}),
      }),
    );
    if (c.req.query('wait') === 'true') return c.json(runView(await engine.wait(run.id), workflow), 200);
    return c.json({ run_id: run.id, status: run.status }, 202);
  });

  app.get('/v1/runs', async (c) => {
    const { statuses, limit, before, workflow } = listQuery(c);
    const caller = c.get('caller');
    const team = caller.operator ? undefined : caller.team;
    // `workflow` is a definition id (one version) or a name (the runs of every version of it).
    let workflowIds: string | string[] | undefined;
    if (workflow !== undefined) {
      const byId = await store.workflows.getWorkflow(workflow, team);
      workflowIds = byId ? byId.id : await store.workflows.idsOfName(workflow, team);
    }
    const rows = await store.workflows.listRuns({
      limit: limit + 1,
      ...(statuses !== undefined && { status: statuses }),
      ...(workflowIds !== undefined && { workflow_id: workflowIds }),
      ...(!caller.operator && { team: caller.team }),
      ...(before !== undefined && { before }),
    });
    const page = rows.slice(0, limit);
    const workflows = await store.workflows.getWorkflows(page.map((r) => r.workflow_id));
    const more = rows.length > limit;
    return c.json({
      object: 'list' as const,
      data: page.map((run) => runView(run, workflows.get(run.workflow_id))),
      has_more: more,
      next_cursor: more ? cursorOf(page.at(-1)!) : null,
    });
  });

  app.get('/v1/runs/:id', async (c) => c.json(await view(await ownRun(c))));

  app.get('/v1/runs/:id/events', async (c) => {
    const run = await ownRun(c);
    const after = resumeAfter(c);
    // Subscribe first, then replay: anything published meanwhile is buffered and deduplicated by seq.
    let listener: (e: RunEvent) => void;
    const buffered: RunEvent[] = [];
    listener = (e) => buffered.push(e);
    // Set once the stream is open: the hub closing (a shutdown) ends it.
    let onHubClose = () => {};
    const unsubscribe = hub.subscribe(
      run.id,
      (e) => listener(e),
      () => onHubClose(),
    );
    let past: RunEvent[];
    let finished: boolean;
    try {
      past = await store.workflows.events(run.id, after);
      // Read after subscribing: a run finished by now has its last event in `past` or `buffered`, or
      // (when Last-Event-ID is at or past the end) nothing left to send at all.
      finished = FINISHED.has((await store.workflows.getRun(run.id))?.status ?? 'failed');
    } catch (err) {
      unsubscribe();
      throw err;
    }
    const encoder = new TextEncoder();
    let last = after;
    let closed = false;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        const end = () => {
          if (closed) return;
          closed = true;
          unsubscribe();
          controller.close();
        };
        const write = (e: RunEvent) => {
          if (closed || e.seq <= last) return;
          last = e.seq;
          controller.enqueue(encoder.encode(frame(e)));
        };
        // A live terminal event ends the stream even when Last-Event-ID was already past it.
        const send = (e: RunEvent) => {
          write(e);
          if (TERMINAL.has(e.type)) end();
        };
        // History may hold an end the run was re-opened from (a rerun, a correction): the run's status
        // says whether it is over, not the last event replayed.
        for (const e of past) write(e);
        for (const e of buffered.splice(0)) send(e);
        if (finished || hub.closed) end();
        else {
          // An SSE comment (clients ignore it): the history is all here, what follows is live.
          controller.enqueue(encoder.encode(`: ${HISTORY_SENT}\n\n`));
          listener = send;
          onHubClose = end;
        }
      },
      // The client went away: stop listening.
      cancel() {
        closed = true;
        unsubscribe();
      },
    });
    return c.body(body, 200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
    });
  });

  app.put('/v1/runs/:id/steps/:step/output', async (c) => {
    const run = await ownRun(c);
    const body = await readJson(c, z.object({ output: z.unknown(), comment: z.string().optional() }), max);
    return c.json(
      await view(await call(() => engine.editOutput(run.id, c.req.param('step'), body.output, body.comment))),
    );
  });

  app.post('/v1/runs/:id/steps/:step/approve', async (c) => {
    const run = await ownRun(c);
    const body = await readJson(c, z.object({ approved: z.boolean(), comment: z.string().optional() }), max);
    return c.json(
      await view(
        await call(() =>
          engine.approve(run.id, c.req.param('step'), {
            approved: body.approved,
            ...(body.comment ? { comment: body.comment } : {}),
          }),
        ),
      ),
    );
  });

  app.post('/v1/runs/:id/rerun', async (c) => {
    const run = await ownRun(c);
    const body = await readJson(c, z.object({ from: z.string().min(1) }), max);
    return c.json(await view(await call(() => engine.rerun(run.id, body.from))));
  });

  app.post('/v1/runs/:id/cancel', async (c) => {
    const run = await ownRun(c);
    return c.json(await view(await call(() => engine.cancel(run.id))));
  });
}
