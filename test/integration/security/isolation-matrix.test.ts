/**
 * The two-tenant isolation matrix. Team `beta` (made through the admin API, with an admin-made key)
 * owns a workflow definition and runs waiting for approval; three principals attack them: team `alpha`
 * with a static key and with an admin-made key, and a team literally named `default` (its own static
 * key), which must get exactly what any team gets. One row per endpoint: every attempt on beta's
 * definitions (by id and by name), runs, events, corrections, approvals, reruns, cancels, idempotency
 * keys, stored responses (read, items, delete, continued), budget, spend, usage and the admin API is answered 404 (403 for the admin API) and changes nothing —
 * beta's own view, compared before and after each row, proves it. Rows run on SQLite and, with
 * QUORUM_TEST_POSTGRES_URL, on Postgres. The master key is a principal of its own: it reads beta's, and
 * its own workflows and runs are no team's (the `default` team's included).
 *
 * Then allow-lists: alpha may use `oa-model` and its preset `a-panel` only; `default` only `oa-model`.
 * Every path to another model — named, alias, `auto`, another team's preset, inline ensemble members
 * and judge on an allowed preset, /v1/consensus, /v1/reviews reviewers and author, request and config
 * fallbacks of a single model and of every fan-out member, workflow step models — is refused (403, or
 * 400 for a workflow definition) or filtered to an allowed model, and the fake upstreams of the
 * forbidden models receive nothing. GET /v1/models lists only the caller's models.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../store/backends.ts';
import { isOpenAIError, type Reply } from './helpers/in-process.ts';
import {
  ACTORS,
  type Actor,
  ALLOWED,
  ATTACKERS,
  answerNormally,
  betaView,
  FORBIDDEN_MODELS,
  freshBetaRun,
  KEYS,
  MASTER,
  SECRET_PROMPT,
  startTenants,
  type Tenants,
} from './helpers/tenants.ts';

interface Attempt {
  /** method + path, as the row is named */
  name: string;
  send(t: Tenants, key: string): Promise<Reply>;
  /** What the attacker must be answered. */
  expect: (res: Reply, t: Tenants, actor: Actor) => void | Promise<void>;
}

const refusedAs = (status: number) => (res: Reply) => {
  expect(res.status, res.text.slice(0, 300)).toBe(status);
  expect(isOpenAIError(res.json), res.text.slice(0, 300)).toBe(true);
};
const notFound = refusedAs(404);
const adminOnly = refusedAs(403);

const call =
  (method: string, path: (t: Tenants) => string, json?: unknown, peek = false) =>
  (t: Tenants, key: string) =>
    t.gw.call(method, path(t), { key, ...(json === undefined ? {} : { json }), peek });

/** A list that answers and holds nothing of beta's (the caller may have a `beta-flow` of its own). */
const listWithoutBeta = (res: Reply, t: Tenants) => {
  expect(res.status, res.text.slice(0, 300)).toBe(200);
  expect(res.text).not.toContain(t.betaWorkflow);
  expect(res.text).not.toContain(t.betaRun);
  expect(res.text).not.toContain(SECRET_PROMPT);
  for (const item of res.json.data) expect(item.team ?? '(none)').not.toBe('beta');
};

const CROSS_TENANT: Attempt[] = [
  {
    name: 'GET /v1/workflows/:id',
    send: call('GET', (t) => `/v1/workflows/${t.betaWorkflow}`),
    expect: notFound,
  },
  {
    // Names are per team: beta's name is not found, or (once the attacker's team stored its own
    // `beta-flow`, further down) is the attacker's own definition — never beta's.
    name: 'GET /v1/workflows/:name',
    send: call('GET', () => '/v1/workflows/beta-flow'),
    expect: (res, t, actor) => {
      if (res.status === 404) return notFound(res);
      expect(res.status, res.text.slice(0, 300)).toBe(200);
      expect(res.json.team).toBe(actor);
      expect(res.json.id).not.toBe(t.betaWorkflow);
    },
  },
  {
    name: 'GET /v1/workflows/:id/graph',
    send: call('GET', (t) => `/v1/workflows/${t.betaWorkflow}/graph`),
    expect: notFound,
  },
  { name: 'GET /v1/workflows', send: call('GET', () => '/v1/workflows'), expect: listWithoutBeta },
  {
    name: 'GET /v1/workflows?versions=all',
    send: call('GET', () => '/v1/workflows?versions=all'),
    expect: listWithoutBeta,
  },
  {
    name: 'POST /v1/workflows/:id/runs',
    send: call('POST', (t) => `/v1/workflows/${t.betaWorkflow}/runs`, { inputs: {} }),
    expect: notFound,
  },
  {
    name: 'POST /v1/workflows/:id/runs?wait=true',
    send: call('POST', (t) => `/v1/workflows/${t.betaWorkflow}/runs?wait=true`, { inputs: {} }),
    expect: notFound,
  },
  {
    // As above: not found, or a run of the attacker's own `beta-flow`.
    name: 'POST /v1/workflows/:name/runs',
    send: call('POST', () => '/v1/workflows/beta-flow/runs', { inputs: {} }),
    expect: async (res, t, actor) => {
      if (res.status === 404) return notFound(res);
      expect(res.status, res.text.slice(0, 300)).toBe(202);
      const run = await t.gw.call('GET', `/v1/runs/${res.json.run_id}`, { key: MASTER });
      expect(run.json.workflow_id).not.toBe(t.betaWorkflow);
      const workflow = await t.gw.call('GET', `/v1/workflows/${run.json.workflow_id}`, { key: MASTER });
      expect(workflow.json.team).toBe(actor);
    },
  },
  {
    // Names are per team: storing beta's name makes the attacker's own definition (201, or 200 when it
    // stored the same one before), never beta's latest.
    name: 'POST /v1/workflows (same name as beta)',
    send: call('POST', () => '/v1/workflows', {
      name: 'beta-flow',
      steps: { draft: { prompt: 'hijacked', model: 'oa-model', max_tokens: 5 } },
    }),
    expect: (res) => expect([200, 201], res.text.slice(0, 300)).toContain(res.status),
  },
  {
    // Idempotency keys are per team: beta's key on the attacker's own workflow starts the attacker's run.
    name: "POST /v1/workflows/:id/runs (beta's Idempotency-Key)",
    send: async (t, key) => {
      const own = await t.gw.call('POST', '/v1/workflows', {
        key,
        json: { name: 'own-flow', steps: { gate: { type: 'approval' } } },
      });
      return t.gw.call('POST', `/v1/workflows/${own.json.id}/runs`, {
        key,
        json: {},
        headers: { 'idempotency-key': t.betaIdempotencyKey },
      });
    },
    expect: (res, t) => {
      expect([200, 202], res.text.slice(0, 300)).toContain(res.status);
      expect(res.text).not.toContain(t.betaRun);
    },
  },
  { name: 'GET /v1/runs/:id', send: call('GET', (t) => `/v1/runs/${t.betaRun}`), expect: notFound },
  {
    name: 'GET /v1/runs/:id/events',
    send: call('GET', (t) => `/v1/runs/${t.betaRun}/events`, undefined, true),
    expect: notFound,
  },
  { name: 'GET /v1/runs', send: call('GET', () => '/v1/runs'), expect: listWithoutBeta },
  {
    name: 'GET /v1/runs?workflow=:id',
    send: call('GET', (t) => `/v1/runs?workflow=${t.betaWorkflow}`),
    expect: listWithoutBeta,
  },
  {
    name: 'GET /v1/runs?waiting=true',
    send: call('GET', () => '/v1/runs?waiting=true'),
    expect: listWithoutBeta,
  },
  {
    name: 'PUT /v1/runs/:id/steps/:step/output',
    send: call('PUT', (t) => `/v1/runs/${t.betaRun}/steps/draft/output`, { output: 'pwned' }),
    expect: notFound,
  },
  {
    name: 'POST /v1/runs/:id/steps/:step/approve (approved)',
    send: call('POST', (t) => `/v1/runs/${t.betaRun}/steps/check/approve`, { approved: true }),
    expect: notFound,
  },
  {
    name: 'POST /v1/runs/:id/steps/:step/approve (rejected)',
    send: call('POST', (t) => `/v1/runs/${t.betaRun}/steps/check/approve`, { approved: false }),
    expect: notFound,
  },
  {
    name: 'POST /v1/runs/:id/rerun',
    send: call('POST', (t) => `/v1/runs/${t.betaRun}/rerun`, { from: 'draft' }),
    expect: notFound,
  },
  {
    name: 'POST /v1/runs/:id/cancel',
    send: call('POST', (t) => `/v1/runs/${t.betaRun}/cancel`),
    expect: notFound,
  },
  {
    name: 'GET /v1/responses/:id',
    send: call('GET', (t) => `/v1/responses/${t.betaResponse}`),
    expect: notFound,
  },
  {
    name: 'GET /v1/responses/:id/input_items',
    send: call('GET', (t) => `/v1/responses/${t.betaResponse}/input_items`),
    expect: notFound,
  },
  {
    name: 'DELETE /v1/responses/:id',
    send: call('DELETE', (t) => `/v1/responses/${t.betaResponse}`),
    expect: notFound,
  },
  {
    // Continuing beta's conversation would send beta's prompt upstream under the attacker's name.
    name: 'POST /v1/responses (previous_response_id of beta)',
    send: (t, key) =>
      t.gw.call('POST', '/v1/responses', {
        key,
        json: { model: 'oa-model', previous_response_id: t.betaResponse, input: 'go on' },
      }),
    expect: (res, t) => {
      notFound(res);
      expect(res.json.error.code).toBe('previous_response_not_found');
      expect(t.gw.fakes.openai.received.map((r) => JSON.stringify(r.body)).join()).not.toContain(
        SECRET_PROMPT,
      );
    },
  },
  {
    name: 'GET /v1/budget?team=beta',
    send: call('GET', () => '/v1/budget?team=beta'),
    expect: (res, _t, actor) => {
      expect(res.status, res.text.slice(0, 300)).toBe(200);
      expect(res.json.team).toBe(actor);
    },
  },
  { name: 'GET /v1/usage?team=beta', send: call('GET', () => '/v1/usage?team=beta'), expect: notFound },
  {
    name: 'GET /v1/usage?group_by=team',
    send: call('GET', () => '/v1/usage?group_by=team&limit=50'),
    expect: (res, _t, actor) => {
      expect(res.status, res.text.slice(0, 300)).toBe(200);
      expect(res.json.filters.team).toBe(actor);
      for (const g of res.json.groups) expect(g.group).toBe(actor);
    },
  },
  {
    name: "GET /v1/usage?key=<beta's key>",
    send: call('GET', (t) => `/v1/usage?group_by=key&key=${t.betaKeyId}`),
    expect: (res) => {
      expect(res.status, res.text.slice(0, 300)).toBe(200);
      expect(res.json.totals.calls).toBe(0);
      expect(res.json.groups).toEqual([]);
    },
  },
  {
    name: 'GET /v1/usage/budgets',
    send: call('GET', () => '/v1/usage/budgets'),
    expect: (res, _t, actor) => {
      expect(res.status, res.text.slice(0, 300)).toBe(200);
      expect(res.json.data.map((b: { team: string }) => b.team)).toEqual([actor]);
    },
  },
  {
    // Spending is charged to the caller's own team: beta's budget and spend do not move.
    name: 'POST /v1/chat/completions (own spend)',
    send: call('POST', () => '/v1/chat/completions', {
      model: 'oa-model',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 5,
    }),
    expect: (res) => expect(res.status, res.text.slice(0, 300)).toBe(200),
  },
  { name: 'GET /admin/teams', send: call('GET', () => '/admin/teams'), expect: adminOnly },
  { name: 'GET /admin/teams/:id', send: call('GET', () => '/admin/teams/beta'), expect: adminOnly },
  {
    name: 'PATCH /admin/teams/:id',
    send: call('PATCH', () => '/admin/teams/beta', { budget: { limit_usd: 0 }, models: ['oa-model'] }),
    expect: adminOnly,
  },
  { name: 'DELETE /admin/teams/:id', send: call('DELETE', () => '/admin/teams/beta'), expect: adminOnly },
  {
    name: 'POST /admin/teams',
    send: call('POST', () => '/admin/teams', { id: 'intruder' }),
    expect: adminOnly,
  },
  {
    name: 'POST /admin/keys',
    send: call('POST', () => '/admin/keys', { team: 'beta', name: 'stolen' }),
    expect: adminOnly,
  },
  { name: 'GET /admin/keys?team=beta', send: call('GET', () => '/admin/keys?team=beta'), expect: adminOnly },
  {
    name: 'DELETE /admin/keys/:id',
    send: call('DELETE', (t) => `/admin/keys/${t.betaKeyId}`),
    expect: adminOnly,
  },
  {
    name: 'GET /admin/spend?team=beta',
    send: call('GET', () => '/admin/spend?team=beta'),
    expect: adminOnly,
  },
  {
    name: 'GET /admin/alerts?team=beta',
    send: call('GET', () => '/admin/alerts?team=beta'),
    expect: adminOnly,
  },
  { name: 'POST /admin/alerts/test', send: call('POST', () => '/admin/alerts/test', {}), expect: adminOnly },
  { name: 'GET /admin/audit', send: call('GET', () => '/admin/audit'), expect: adminOnly },
  {
    name: 'GET /admin/budgets?team=beta',
    send: call('GET', () => '/admin/budgets?team=beta'),
    expect: adminOnly,
  },
  {
    name: 'PUT /admin/keys/:id/budgets',
    send: call('PUT', (t) => `/admin/keys/${t.betaKeyId}/budgets`, {
      budgets: [{ limit_usd: 0, period: 'daily' }],
    }),
    expect: adminOnly,
  },
  {
    name: 'POST /admin/overrides',
    send: call('POST', () => '/admin/overrides', {
      scope: 'team',
      team: 'alpha',
      limit_usd: 1_000_000,
      expires_at: new Date(Date.now() + 3_600_000).toISOString(),
      reason: 'a team raising its own cap',
    }),
    expect: adminOnly,
  },
  { name: 'GET /admin/overrides', send: call('GET', () => '/admin/overrides'), expect: adminOnly },
  {
    name: 'DELETE /admin/overrides/:id',
    send: call('DELETE', () => '/admin/overrides/any-id'),
    expect: adminOnly,
  },
];

describe.each(backends())(
  'team A acting on team B ($name store): not found, forbidden, nothing changes',
  ({ make }) => {
    let t: Tenants;
    const backend = make();
    beforeAll(async () => {
      t = await startTenants(backend);
    }, 60_000);
    afterAll(async () => {
      await t?.gw.close();
      await backend.cleanup();
    });

    it("beta's view is stable when nobody acts (so the comparisons below mean something)", async () => {
      const before = await betaView(t);
      expect(before.run.body.status).toBe('waiting');
      expect(before.team.status).toBe(200);
      expect(await betaView(t)).toEqual(before);
    });

    for (const attacker of ATTACKERS) {
      describe(attacker.name, () => {
        it.each(CROSS_TENANT.map((a) => [a.name, a] as const))('%s', async (_name, attempt) => {
          await freshBetaRun(t);
          const before = await betaView(t);
          const res = await attempt.send(t, attacker.key(t));
          await attempt.expect(res, t, attacker.team);
          expect(res.text, 'nothing of beta in the answer').not.toContain(SECRET_PROMPT);
          expect(await betaView(t), "beta's own view afterwards").toEqual(before);
        });
      });
    }

    it("the master key, a principal of its own, reads beta's definition and run", async () => {
      await freshBetaRun(t);
      const wf = await t.gw.call('GET', `/v1/workflows/${t.betaWorkflow}`, { key: MASTER });
      expect(wf.status, wf.text.slice(0, 300)).toBe(200);
      const run = await t.gw.call('GET', `/v1/runs/${t.betaRun}`, { key: MASTER });
      expect(run.status, run.text.slice(0, 300)).toBe(200);
      expect(run.json.status).toBe('waiting');
    });

    it("a team out of budget is refused while beta's requests still go through", async () => {
      const team = await t.gw.call('POST', '/admin/teams', {
        key: MASTER,
        json: { id: 'broke', budget: { limit_usd: 0.000001, period: 'total' } },
      });
      expect(team.status, team.text).toBe(201);
      const made = await t.gw.call('POST', '/admin/keys', {
        key: MASTER,
        json: { team: 'broke', name: 'broke' },
      });
      const ask = (key: string, model: string) =>
        t.gw.call('POST', '/v1/chat/completions', {
          key,
          json: { model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 50 },
        });
      const broke = await ask(made.json.key, 'oa-model');
      expect(broke.status, broke.text.slice(0, 300)).toBe(429);
      expect(broke.json.error.code).toBe('budget_exceeded');
      const beta = await ask(t.betaKey, 'an-model');
      expect(beta.status, beta.text.slice(0, 300)).toBe(200);
    });

    it('beta still runs its own workflow by id, and its latest version is its own', async () => {
      const list = await t.gw.call('GET', '/v1/workflows', { key: t.betaKey });
      const mine = list.json.data.filter((w: { name: string }) => w.name === 'beta-flow');
      expect(mine.map((w: { id: string }) => w.id)).toEqual([t.betaWorkflow]);
    });
  },
);

/** A request that tries to reach a forbidden model. */
interface ModelAttempt {
  name: string;
  /** `refused`: 403 (400 also accepted for workflow definitions); `filtered`: served by an allowed model. */
  outcome: 'refused' | 'filtered' | 'refused-or-filtered';
  /** Make every oa-model call fail, so fallbacks are tried. */
  failAllowed?: boolean;
  send(t: Tenants, key: string): Promise<Reply>;
}

const chat = (body: Record<string, unknown>) => (t: Tenants, key: string) =>
  t.gw.call('POST', '/v1/chat/completions', {
    key,
    json: { messages: [{ role: 'user', content: 'Which is better?' }], max_tokens: 5, ...body },
  });
const consensus = (body: Record<string, unknown>) => (t: Tenants, key: string) =>
  t.gw.call('POST', '/v1/consensus', {
    key,
    json: { messages: [{ role: 'user', content: 'Which is better?' }], max_tokens: 5, ...body },
  });
const review = (body: Record<string, unknown>) => (t: Tenants, key: string) =>
  t.gw.call('POST', '/v1/reviews', {
    key,
    json: { artifact: 'a draft', instructions: 'review it', ...body },
  });

/** Stores a one-step workflow and, when it is accepted, runs it to the end. */
const workflow =
  (step: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  async (t: Tenants, key: string) => {
    const stored = await t.gw.call('POST', '/v1/workflows', {
      key,
      json: {
        name: `reach-${Math.random().toString(36).slice(2, 8)}`,
        steps: { first: { prompt: 'hi', ...step }, ...extra },
      },
    });
    if (stored.status !== 201) return stored;
    const run = await t.gw.call('POST', `/v1/workflows/${stored.json.id}/runs?wait=true`, { key, json: {} });
    return run;
  };

const MODEL_ATTEMPTS: ModelAttempt[] = [
  { name: 'chat: a forbidden model by id', outcome: 'refused', send: chat({ model: 'an-model' }) },
  { name: 'chat: a forbidden model by alias', outcome: 'refused', send: chat({ model: 'an-alias' }) },
  {
    name: 'responses: a forbidden model',
    outcome: 'refused',
    send: (t, key) => t.gw.call('POST', '/v1/responses', { key, json: { model: 'an-model', input: 'hi' } }),
  },
  {
    name: 'responses (stream): a forbidden model by alias',
    outcome: 'refused',
    send: (t, key) =>
      t.gw.call('POST', '/v1/responses', { key, json: { model: 'an-alias', input: 'hi', stream: true } }),
  },
  {
    name: 'chat (stream): a forbidden model',
    outcome: 'refused',
    send: chat({ model: 'ge-model', stream: true }),
  },
  { name: "chat: another team's preset", outcome: 'refused', send: chat({ model: 'panel' }) },
  {
    name: 'chat: auto:quality (the best model is forbidden)',
    outcome: 'filtered',
    send: chat({ model: 'auto:quality' }),
  },
  {
    name: 'chat: auto:cost (the cheapest model is forbidden)',
    outcome: 'filtered',
    send: chat({ model: 'auto:cost' }),
  },
  {
    name: 'chat: auto with quorum.route.models naming a forbidden model',
    outcome: 'refused-or-filtered',
    send: chat({ model: 'auto', quorum: { route: { models: ['an-model'] } } }),
  },
  {
    name: 'chat: allowed preset with inline ensemble members',
    outcome: 'refused',
    send: chat({
      model: 'a-panel',
      quorum: { ensemble: { strategy: 'consensus', models: ['an-model', 'ge-model'] } },
    }),
  },
  {
    name: 'chat: allowed preset with an inline judge',
    outcome: 'refused',
    send: chat({
      model: 'a-panel',
      quorum: { ensemble: { strategy: 'best_of_n', models: ['oa-model'], judge: 'an-model' } },
    }),
  },
  {
    name: 'chat: allowed model with an inline ensemble',
    outcome: 'refused',
    send: chat({
      model: 'oa-model',
      quorum: { ensemble: { strategy: 'consensus', models: ['oa-model', 'ge-model'] } },
    }),
  },
  {
    name: 'consensus: forbidden members',
    outcome: 'refused',
    send: consensus({ strategy: 'consensus', models: ['an-model', 'ge-model'] }),
  },
  {
    name: 'consensus: allowed members, forbidden judge',
    outcome: 'refused',
    send: consensus({ strategy: 'best_of_n', models: ['oa-model', 'oa-model'], judge: 'an-model' }),
  },
  {
    name: 'consensus: naming an allowed preset, forbidden members',
    outcome: 'refused',
    send: consensus({ model: 'a-panel', strategy: 'consensus', models: ['ge-model'] }),
  },
  { name: 'reviews: a forbidden reviewer', outcome: 'refused', send: review({ reviewers: ['an-model'] }) },
  {
    name: 'reviews: a forbidden author',
    outcome: 'refused',
    send: review({ reviewers: ['oa-model'], author: 'ge-model' }),
  },
  {
    name: 'route (dry run): auto:quality',
    outcome: 'filtered',
    send: (t, key) =>
      t.gw.call('POST', '/v1/route', {
        key,
        json: { model: 'auto:quality', messages: [{ role: 'user', content: 'hi' }] },
      }),
  },
  {
    // The dry run shows the chain a real request would walk: the configured fallbacks are all forbidden.
    name: "route (dry run): an allowed model's fallback chain",
    outcome: 'filtered',
    send: (t, key) =>
      t.gw.call('POST', '/v1/route', {
        key,
        json: { model: 'oa-model', messages: [{ role: 'user', content: 'hi' }] },
      }),
  },
  {
    name: 'chat (stream): auto:quality',
    outcome: 'filtered',
    send: chat({ model: 'auto:quality', stream: true }),
  },
  { name: 'workflow: llm step model', outcome: 'refused', send: workflow({ model: 'an-model' }) },
  { name: 'workflow: llm step by alias', outcome: 'refused', send: workflow({ model: 'ge-alias' }) },
  {
    name: 'workflow: ensemble step members',
    outcome: 'refused',
    send: workflow({ type: 'ensemble', models: ['an-model', 'ge-model'], judge: 'oa-model' }),
  },
  {
    name: 'workflow: ensemble step judge',
    outcome: 'refused',
    send: workflow({ type: 'ensemble', models: ['oa-model', 'oa-model'], judge: 'an-model' }),
  },
  {
    name: 'workflow: review step reviewers',
    outcome: 'refused',
    send: workflow(
      { model: 'oa-model' },
      { rev: { type: 'review', needs: ['first'], reviewers: ['an-model'] } },
    ),
  },
  {
    name: 'workflow: review step author',
    outcome: 'refused',
    send: workflow(
      { model: 'oa-model' },
      { rev: { type: 'review', needs: ['first'], reviewers: ['oa-model'], author: 'ge-model' } },
    ),
  },
  {
    name: 'workflow: until judge',
    outcome: 'refused',
    send: workflow({ model: 'oa-model', until: { judge: 'an-model', criteria: 'good', max_iterations: 1 } }),
  },
  {
    name: 'workflow: auto:quality step',
    outcome: 'refused-or-filtered',
    send: workflow({ model: 'auto:quality' }),
  },
  // Fallback rows last: they make the allowed model fail, which its circuit breaker remembers.
  {
    name: 'chat: request fallbacks to a forbidden model, the allowed one failing',
    outcome: 'refused-or-filtered',
    failAllowed: true,
    send: chat({ model: 'oa-model', quorum: { fallbacks: ['an-model'] } }),
  },
  {
    name: "chat: the config's fallback chain, the allowed one failing",
    outcome: 'refused-or-filtered',
    failAllowed: true,
    send: chat({ model: 'oa-model' }),
  },
  {
    name: "chat: a fan-out member's fallbacks, the allowed one failing",
    outcome: 'refused-or-filtered',
    failAllowed: true,
    send: chat({
      model: 'oa-model',
      quorum: { ensemble: { strategy: 'consensus', models: ['oa-model', 'oa-model'] } },
    }),
  },
];

for (const actor of ACTORS) {
  describe(`${actor}: no path to a model outside its allow-list (${ALLOWED[actor].join(', ')})`, () => {
    let t: Tenants;
    beforeAll(async () => {
      t = await startTenants();
    }, 60_000);
    afterAll(async () => {
      await t?.gw.close();
    });

    it('GET /v1/models lists only its own models', async () => {
      const res = await t.gw.call('GET', '/v1/models', { key: KEYS[actor] });
      expect(res.status).toBe(200);
      const ids: string[] = res.json.data.map((m: { id: string }) => m.id);
      expect(ids).toContain('oa-model');
      for (const forbidden of [...FORBIDDEN_MODELS, 'an-alias', 'ge-alias', 'panel'])
        expect(ids).not.toContain(forbidden);
      if (actor === 'default') expect(ids).not.toContain('a-panel');
    });

    it.each(MODEL_ATTEMPTS.map((a) => [a.name, a] as const))('%s', async (_name, attempt) => {
      answerNormally(t.gw);
      if (attempt.failAllowed)
        t.gw.fakes.openai.respond({ error: { status: 500, message: 'upstream down' } });
      const res = await attempt.send(t, KEYS[actor]);
      const reached = {
        'an-model': t.gw.fakes.anthropic.received.length,
        'ge-model': t.gw.fakes.gemini.received.length,
      };
      const summary = `${res.status} ${res.text.slice(0, 300)}`;
      expect(reached, `forbidden upstreams must receive nothing; answer: ${summary}`).toEqual({
        'an-model': 0,
        'ge-model': 0,
      });
      const servedBy = res.headers.get('x-quorum-model') ?? '';
      for (const forbidden of FORBIDDEN_MODELS) expect(servedBy, summary).not.toContain(forbidden);
      if (res.json?.chosen !== undefined) expect(FORBIDDEN_MODELS, summary).not.toContain(res.json.chosen);
      if (Array.isArray(res.json?.fallbacks)) {
        for (const forbidden of FORBIDDEN_MODELS)
          expect(res.json.fallbacks, summary).not.toContain(forbidden);
      }
      const refused =
        (res.status === 403 || (attempt.name.startsWith('workflow') && res.status === 400)) &&
        isOpenAIError(res.json);
      const ran = res.status === 200 || res.status === 202;
      if (attempt.outcome === 'refused') expect(refused, `expected a refusal, got ${summary}`).toBe(true);
      if (attempt.outcome === 'filtered' && !attempt.failAllowed) {
        expect(ran, `expected an answer from an allowed model, got ${summary}`).toBe(true);
      }
      if (attempt.outcome === 'refused-or-filtered') {
        expect(res.status < 500 || attempt.failAllowed, `expected no 5xx, got ${summary}`).toBe(true);
      }
    });
  });
}
