/**
 * Values the database itself refuses — a NUL character in a path, a query or a body, which Postgres text
 * cannot hold — are the request's fault: a 4xx on every store (400 invalid_body where nothing else
 * refused it first), never a 500.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../../src/store/index.ts';
import { Engine, type StepRunner } from '../../../src/workflows/engine/index.ts';
import { EventHub } from '../../../src/workflows/event-hub.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { type Backend, backends } from '../store/backends.ts';

const MASTER = 'mk-stored-values-master-key';
const runner: StepRunner = {
  async complete() {
    return { text: 'ok', cost_usd: 0 };
  },
};

describe.each(backends())('values the $name store cannot hold', ({ make }) => {
  let backend: Backend;
  let store: Store;
  let gw: TestGateway;

  beforeAll(async () => {
    backend = make();
    store = await (await backend.fresh()).open();
    const hub = new EventHub();
    const engine = new Engine({ store, runner, onEvent: hub.publish });
    gw = await startGateway(
      { providers: [{ id: 'demo', type: 'demo' }] },
      { masterKey: MASTER, app: () => ({ store, workflows: { engine, hub } }) },
    );
    const made = await fetch(`${gw.url}/admin/teams`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'ops' }),
    });
    expect(made.status).toBe(201);
  });
  afterAll(async () => {
    await gw?.close();
    await backend?.cleanup();
  });

  it.each([
    ['PATCH', '/admin/teams/ops%00', { budget: null }],
    ['GET', '/admin/teams/ops%00', undefined],
    ['POST', '/admin/keys', { team: 'ops\u0000', name: 'k' }],
    ['POST', '/admin/keys', { team: 'ops', name: 'k\u0000' }],
    ['GET', '/admin/spend?team=ops%00', undefined],
    ['GET', '/v1/runs/run%00', undefined],
    ['PUT', '/v1/runs/run%00/steps/a/output', { output: 'x' }],
    ['GET', '/v1/workflows/wf%00', undefined],
    ['POST', '/v1/workflows', { name: 'n\u0000', steps: { a: { prompt: 'hi\u0000', model: 'demo-fast' } } }],
  ])('%s %s is never a 5xx; a refusal is a 4xx in the OpenAI shape', async (method, path, body) => {
    const res = await fetch(gw.url + path, {
      method,
      headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    // SQLite can hold a NUL where Postgres cannot: either is fine, a 500 is not.
    expect(res.status, text).toBeLessThan(500);
    if (res.status >= 400) {
      expect(JSON.parse(text).error).toMatchObject({
        type: 'invalid_request_error',
        code: expect.any(String),
      });
    }
    // The team is untouched and the store still answers.
    const team = await fetch(`${gw.url}/admin/teams/ops`, { headers: { authorization: `Bearer ${MASTER}` } });
    expect(team.status).toBe(200);
  });
});
