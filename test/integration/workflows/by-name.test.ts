/**
 * Workflows are addressable by name as well as by id, within the caller's team: the latest version or
 * `?version=n`, for reading, drawing and starting runs, and for listing a workflow's runs. Another
 * team's name answers 404 as an unknown one does; the operator names the team when several have it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../src/store/index.ts';
import { serveWorkflows, type WorkflowServer } from './serve-workflows.ts';

const LAB = 'sk-lab-4f1d0c9b8a7e6d5c4b3a29181706f5e4';
const OPS = 'sk-ops-0a1b2c3d4e5f60718293a4b5c6d7e8f9';
const MASTER = 'sk-master-9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b';

let store: Store;
let server: WorkflowServer;
const dir = mkdtempSync(join(tmpdir(), 'quorum-wf-names-'));

const digest = (prompt: string) => ({ name: 'digest', steps: { summary: { model: 'demo', prompt } } });
let v1 = '';
let v2 = '';

beforeAll(async () => {
  store = await openStore(`sqlite:${join(dir, 'q.db')}`);
  server = await serveWorkflows(
    {
      providers: [{ id: 'demo', type: 'demo' }],
      teams: [{ id: 'lab' }, { id: 'ops' }],
      keys: [
        { key: LAB, team: 'lab', name: 'lab-ci' },
        { key: OPS, team: 'ops', name: 'ops-ci' },
      ],
    },
    store,
    { masterKey: MASTER },
  );
  v1 = (await server.api('POST', '/v1/workflows', digest('Summarise: one.'), { key: LAB })).json.id;
  v2 = (await server.api('POST', '/v1/workflows', digest('Summarise: two.'), { key: LAB })).json.id;
});
afterAll(async () => {
  await server.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const lab = (method: string, path: string, body?: unknown) => server.api(method, path, body, { key: LAB });

describe('a workflow by name', () => {
  it('GET /v1/workflows/:name is the latest version; ?version=n that one; the id still works', async () => {
    const latest = await lab('GET', '/v1/workflows/digest');
    expect(latest.status).toBe(200);
    expect(latest.json).toMatchObject({ id: v2, name: 'digest', version: 2 });
    expect(latest.json.definition.steps.summary.prompt).toBe('Summarise: two.');
    const first = await lab('GET', '/v1/workflows/digest?version=1');
    expect(first.json).toMatchObject({ id: v1, version: 1 });
    expect((await lab('GET', `/v1/workflows/${v1}`)).json).toMatchObject({ id: v1, version: 1 });
    expect((await lab('GET', '/v1/workflows/digest/graph')).text).toMatch(/flowchart/);
  });

  it('an unknown name, a version that does not exist and a bad version are clear 404s and 400s', async () => {
    const unknown = await lab('GET', '/v1/workflows/digset');
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.message).toBe(
      'No workflow with the id or name `digset`. GET /v1/workflows lists them.',
    );
    const missing = await lab('GET', '/v1/workflows/digest?version=7');
    expect(missing.status).toBe(404);
    expect(missing.json.error.message).toBe('Workflow `digest` has no version 7; its latest is version 2.');
    const bad = await lab('GET', '/v1/workflows/digest?version=two');
    expect(bad.status).toBe(400);
    expect(bad.json.error.param).toBe('version');
    const run = await lab('POST', '/v1/workflows/digset/runs', {});
    expect(run.status).toBe(404);
    expect(run.json.error.message).toMatch(/^No workflow with the id or name `digset`/);
    const mixed = await lab('GET', `/v1/workflows/${v1}?version=2`);
    expect(mixed.status).toBe(400);
    expect(mixed.json.error.message).toMatch(/is version 1 of `digest`.*\/v1\/workflows\/digest\?version=2/);
  });

  it('POST /v1/workflows/:name/runs runs the latest version, or ?version=n; GET /v1/runs?workflow=<name> lists both', async () => {
    const latest = await lab('POST', '/v1/workflows/digest/runs?wait=true', {});
    expect(latest.status).toBe(200);
    expect(latest.json).toMatchObject({
      workflow_id: v2,
      workflow: { name: 'digest', version: 2 },
      status: 'succeeded',
    });
    const older = await lab('POST', '/v1/workflows/digest/runs?version=1', {});
    expect(older.status).toBe(202);
    expect((await lab('GET', `/v1/runs/${older.json.run_id}`)).json).toMatchObject({
      workflow_id: v1,
      workflow: { name: 'digest', version: 1 },
    });
    const byId = await lab('POST', `/v1/workflows/${v1}/runs`, {});
    expect(byId.status).toBe(202);

    const all = await lab('GET', '/v1/runs?workflow=digest');
    expect(all.json.data.map((r: { id: string }) => r.id).sort()).toEqual(
      [latest.json.id, older.json.run_id, byId.json.run_id].sort(),
    );
    expect(all.json.data.map((r: { workflow: { version: number } }) => r.workflow.version).sort()).toEqual([
      1, 1, 2,
    ]);
    const one = await lab('GET', `/v1/runs?workflow=${v2}`);
    expect(one.json.data.map((r: { id: string }) => r.id)).toEqual([latest.json.id]);
  });

  it("names are per team: another team's name is unknown, its own same name is its own", async () => {
    const ops = (method: string, path: string, body?: unknown) =>
      server.api(method, path, body, { key: OPS });
    expect((await ops('GET', '/v1/workflows/digest')).status).toBe(404);
    expect((await ops('POST', '/v1/workflows/digest/runs', {})).status).toBe(404);
    expect((await ops('GET', '/v1/runs?workflow=digest')).json.data).toEqual([]);
    const own = await ops('POST', '/v1/workflows', digest('Summarise for ops.'));
    expect(own.status).toBe(201);
    expect(own.json.version).toBe(1);
    expect((await ops('GET', '/v1/workflows/digest')).json.id).toBe(own.json.id);
    expect((await lab('GET', '/v1/workflows/digest')).json.id).toBe(v2);
    const run = await ops('POST', '/v1/workflows/digest/runs?wait=true', {});
    expect(run.json.workflow_id).toBe(own.json.id);

    // The operator sees every team's: a name two teams have needs ?team=.
    const master = (path: string) => server.api('GET', path, undefined, { key: MASTER });
    const ambiguous = await master('/v1/workflows/digest');
    expect(ambiguous.status).toBe(409);
    expect(ambiguous.json.error.message).toBe(
      `2 teams have a workflow named \`digest\` (lab: ${v2}, ops: ${own.json.id}); add ?team= or use the id.`,
    );
    expect((await master('/v1/workflows/digest?team=ops')).json.id).toBe(own.json.id);
    expect((await master('/v1/workflows/digest?team=lab&version=1')).json.id).toBe(v1);
  });

  it('GET /v1/workflows?name= lists one name, every version with versions=all', async () => {
    const list = await lab('GET', '/v1/workflows?name=digest&versions=all');
    expect(list.json.data.map((w: { version: number }) => w.version)).toEqual([1, 2]);
    expect((await lab('GET', '/v1/workflows?name=nothing')).json.data).toEqual([]);
  });
});
