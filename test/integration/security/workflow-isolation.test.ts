/**
 * Workflows attacked as a hostile tenant would: two teams A and B, a team literally named `default`
 * with its own key, and the master key. Every definition and run endpoint tried by another team answers
 * 404 and changes nothing; names are per team; the operator sees and acts on everything. Then the
 * event stream's Last-Event-ID (negative, not a number, past the end), template bombs (a run refused
 * at start, a step failed before any call, never a body past max_body_bytes at the fake upstream), and
 * YAML alias bombs and bodies nested 10,000 deep (400, never 500).
 *
 * The real server with a real SQLite store; steps run through the gateway against the fake OpenAI.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { openStore, type Store } from '../../../src/store/index.ts';
import { Engine } from '../../../src/workflows/engine/index.ts';
import { EventHub } from '../../../src/workflows/event-hub.ts';
import { createGatewayRunner, storeCallerResolver } from '../../../src/workflows/gateway-runner.ts';
import { type Fakes, fakesConfig, startFakes, startGateway, type TestGateway } from '../helpers/gateway.ts';

const A = 'qk-team-a-000000001';
const B = 'qk-team-b-000000002';
const DEFAULT_TEAM = 'qk-default-00000003';
const MASTER = 'qk-master-000000004';
const MAX_BODY = 1_000_000;

let fakes: Fakes;
let store: Store;
let hub: EventHub;
let gw: TestGateway;
const dir = mkdtempSync(join(tmpdir(), 'quorum-wf-isolation-'));

async function api(
  key: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const res = await fetch(gw.url + path, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, text, json };
}

/** A definition that runs one model step, then waits for a person. */
const gated = (name: string, prompt: string) => ({
  name,
  inputs: { topic: { type: 'string', default: 'owls' } },
  steps: {
    draft: { model: 'oa-model', prompt: `${prompt} {{ inputs.topic }}` },
    check: { type: 'approval', needs: ['draft'] },
  },
  outputs: { text: '{{ steps.draft.output }}' },
});

beforeAll(async () => {
  fakes = await startFakes();
  store = await openStore(`sqlite:${join(dir, 'q.db')}`);
  hub = new EventHub();
  gw = await startGateway(
    fakesConfig(fakes, {
      server: { max_body_bytes: MAX_BODY },
      teams: [{ id: 'team-a' }, { id: 'team-b', models: ['oa-model'] }, { id: 'default' }],
      keys: [
        { key: A, team: 'team-a', name: 'a' },
        { key: B, team: 'team-b', name: 'b' },
        { key: DEFAULT_TEAM, team: 'default', name: 'named-default' },
      ],
    }),
    {
      masterKey: MASTER,
      // Wired as `quorum serve` wires it.
      app: (gateway) => {
        const engine = new Engine({
          store,
          runner: createGatewayRunner(gateway, storeCallerResolver(store, gateway.config)),
          onEvent: hub.publish,
          maxTemplateBytes: gateway.config.server.max_body_bytes,
        });
        return { store, workflows: { engine, hub } };
      },
    },
  );
});
afterAll(async () => {
  await gw.close();
  await store.close();
  await fakes.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => fakes.openai.reset());

describe('definitions belong to the team that stored them', () => {
  let a = '';
  let b = '';

  beforeAll(async () => {
    const stored = await api(A, 'POST', '/v1/workflows', gated('shared-name', 'Secret prompt of A about'));
    const theirs = await api(B, 'POST', '/v1/workflows', gated('shared-name', 'Prompt of B about'));
    expect([stored.status, theirs.status]).toEqual([201, 201]);
    a = stored.json.id;
    b = theirs.json.id;
  });

  it('gives each team its own version 1 of the same name, and lists each only its own', async () => {
    expect((await api(A, 'GET', `/v1/workflows/${a}`)).json).toMatchObject({
      name: 'shared-name',
      version: 1,
    });
    expect((await api(B, 'GET', `/v1/workflows/${b}`)).json).toMatchObject({
      name: 'shared-name',
      version: 1,
    });
    const listA = (await api(A, 'GET', '/v1/workflows?versions=all')).json.data;
    const listB = (await api(B, 'GET', '/v1/workflows?versions=all')).json.data;
    expect(listA.map((w: { id: string }) => w.id)).toEqual([a]);
    expect(listB.map((w: { id: string }) => w.id)).toEqual([b]);
    expect((await api(DEFAULT_TEAM, 'GET', '/v1/workflows')).json.data).toEqual([]);
  });

  it("answers 404 to every other team on another team's definition, exactly as for an unknown id", async () => {
    for (const key of [B, DEFAULT_TEAM]) {
      for (const path of [
        `/v1/workflows/${a}`,
        `/v1/workflows/${a}/graph`,
        `/v1/workflows/${a}/graph?format=dot`,
      ]) {
        const res = await api(key, 'GET', path);
        expect(res.status, `${path}`).toBe(404);
        expect(res.text).not.toContain('Secret prompt');
        expect(res.json.error.message).toBe(
          (await api(key, 'GET', '/v1/workflows/wf_unknown')).json.error.message.replace('wf_unknown', a),
        );
      }
      const run = await api(key, 'POST', `/v1/workflows/${a}/runs`, { inputs: {} });
      expect(run.status).toBe(404);
    }
    expect(fakes.openai.received).toHaveLength(0);
    expect(await store.workflows.listRuns({ workflow_id: a })).toEqual([]);
  });

  it("storing a name another team has makes nothing new in that team's list", async () => {
    await api(B, 'POST', '/v1/workflows', gated('shared-name', 'Second prompt of B about'));
    const listA = (await api(A, 'GET', '/v1/workflows')).json.data;
    expect(listA).toEqual([expect.objectContaining({ id: a, version: 1 })]);
  });

  it('returns the existing version for an identical definition', async () => {
    const again = await api(A, 'POST', '/v1/workflows', gated('shared-name', 'Secret prompt of A about'));
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ id: a, version: 1 });
  });

  it("refuses at store time a definition naming a model outside the team's allow-list or the catalog", async () => {
    const res = await api(B, 'POST', '/v1/workflows', {
      name: 'forbidden',
      steps: {
        a: { model: 'an-model', prompt: 'hi' },
        b: { type: 'ensemble', models: ['oa-model', 'ge-model'], prompt: 'hi' },
        c: { type: 'review', reviewers: ['oa-model'], author: 'an-model', prompt: 'hi', needs: ['a'] },
        d: {
          model: 'oa-model',
          prompt: 'hi',
          until: { judge: 'no-such-model', criteria: 'good', max_iterations: 2 },
        },
      },
    });
    expect(res.status).toBe(400);
    expect(res.json.error.code, res.json.error.message).toBe('invalid_workflow');
    for (const path of ['steps.a.model', 'steps.b.models', 'steps.c.reviewers', 'steps.d.until.judge']) {
      expect(res.json.error.message, res.json.error.message).toContain(`${path}:`);
    }
    expect(
      (await api(B, 'GET', '/v1/workflows')).json.data.map((w: { name: string }) => w.name),
    ).not.toContain('forbidden');
  });

  it("lets the operator list, read and draw every team's definitions", async () => {
    const all = (await api(MASTER, 'GET', '/v1/workflows?versions=all')).json.data;
    expect(all.map((w: { team: string; version: number }) => [w.team, w.version])).toEqual([
      ['team-a', 1],
      ['team-b', 1],
      ['team-b', 2],
    ]);
    expect((await api(MASTER, 'GET', `/v1/workflows/${a}`)).json.definition.steps.draft.prompt).toMatch(
      /Secret/,
    );
    expect((await api(MASTER, 'GET', `/v1/workflows/${b}/graph`)).status).toBe(200);
  });
});

describe("runs act only for their own team (and the operator), a team named 'default' included", () => {
  let wf = '';
  let run = '';

  beforeAll(async () => {
    wf = (await api(A, 'POST', '/v1/workflows', gated('gated-run', 'Write about'))).json.id;
    const started = await api(A, 'POST', `/v1/workflows/${wf}/runs?wait=true`, { inputs: { topic: 'bats' } });
    expect(started.json.status).toBe('waiting');
    run = started.json.id;
  });

  it('answers 404 to team B and to the team named default on every run endpoint, and changes nothing', async () => {
    const before = (await api(A, 'GET', `/v1/runs/${run}`)).json;
    for (const key of [B, DEFAULT_TEAM]) {
      const tries = [
        await api(key, 'GET', `/v1/runs/${run}`),
        await api(key, 'GET', `/v1/runs/${run}/events`),
        await api(key, 'PUT', `/v1/runs/${run}/steps/draft/output`, { output: 'hijacked' }),
        await api(key, 'POST', `/v1/runs/${run}/steps/check/approve`, { approved: true }),
        await api(key, 'POST', `/v1/runs/${run}/rerun`, { from: 'draft' }),
        await api(key, 'POST', `/v1/runs/${run}/cancel`),
      ];
      expect(tries.map((t) => t.status)).toEqual([404, 404, 404, 404, 404, 404]);
      for (const t of tries) expect(t.text).not.toContain('bats');
    }
    expect(hub.subscribers(run)).toBe(0);
    const after = (await api(A, 'GET', `/v1/runs/${run}`)).json;
    expect(after).toEqual(before);
    expect(after.status).toBe('waiting');
  });

  it("lists each team only its own runs, newest first and paged; the operator every team's", async () => {
    const second = (
      await api(A, 'POST', `/v1/workflows/${wf}/runs?wait=true`, { inputs: { topic: 'moths' } })
    ).json.id;
    const ids = (res: { json: { data: { id: string }[] } }) => res.json.data.map((r) => r.id);
    for (const key of [B, DEFAULT_TEAM]) {
      for (const query of ['', `?workflow=${wf}`, '?waiting=true', '?status=waiting,running']) {
        const res = await api(key, 'GET', `/v1/runs${query}`);
        expect(res.status).toBe(200);
        expect(ids(res), query).toEqual([]);
      }
    }
    expect(ids(await api(A, 'GET', `/v1/runs?workflow=${wf}&waiting=true`))).toEqual([second, run]);
    const first = await api(A, 'GET', `/v1/runs?workflow=${wf}&limit=1`);
    expect(first.json).toMatchObject({ has_more: true, data: [{ id: second }] });
    const next = await api(A, 'GET', `/v1/runs?workflow=${wf}&limit=1&cursor=${first.json.next_cursor}`);
    expect(next.json).toMatchObject({ has_more: false, next_cursor: null, data: [{ id: run }] });
    expect(ids(await api(MASTER, 'GET', '/v1/runs?waiting=true'))).toEqual(
      expect.arrayContaining([run, second]),
    );
    for (const [query, param] of [
      ['?status=bogus', 'status'],
      ['?limit=0', 'limit'],
      ['?cursor=%%%', 'cursor'],
    ]) {
      const res = await api(A, 'GET', `/v1/runs${query}`);
      expect(res.status).toBe(400);
      expect(res.json.error.param).toBe(param);
    }
    await api(A, 'POST', `/v1/runs/${second}/cancel`);
  });

  it('lets the master key read and approve it', async () => {
    expect((await api(MASTER, 'GET', `/v1/runs/${run}`)).json.inputs).toEqual({ topic: 'bats' });
    const approved = await api(MASTER, 'POST', `/v1/runs/${run}/steps/check/approve`, { approved: true });
    expect(approved.status).toBe(200);
    expect(approved.json.status).toBe('succeeded');
  });
});

describe('the events stream and Last-Event-ID', () => {
  let wf = '';
  let finished = '';
  let lastSeq = 0;

  beforeAll(async () => {
    wf = (await api(A, 'POST', '/v1/workflows', gated('events', 'Tell me about'))).json.id;
    finished = (await api(A, 'POST', `/v1/workflows/${wf}/runs?wait=true`, {})).json.id;
    await api(A, 'POST', `/v1/runs/${finished}/steps/check/approve`, { approved: true });
    const events = await store.workflows.events(finished);
    lastSeq = events.at(-1)!.seq;
    expect(events.at(-1)!.type).toBe('run.succeeded');
  });

  it.each(['-5', 'abc', '1.5', '1e3'])(
    'refuses Last-Event-ID %s with 400, logging nothing and keeping no subscription',
    async (id) => {
      const res = await api(A, 'GET', `/v1/runs/${finished}/events`, undefined, { 'last-event-id': id });
      expect(res.status).toBe(400);
      expect(res.json.error).toMatchObject({ code: 'invalid_body', param: 'Last-Event-ID' });
      expect(hub.subscribers(finished)).toBe(0);
      expect(gw.logs()).not.toMatch(/StoreError|afterSeq/);
    },
  );

  it('ends the stream of a finished run at once when Last-Event-ID is at or past its end', async () => {
    for (const id of [String(lastSeq), String(lastSeq + 50)]) {
      const res = await api(A, 'GET', `/v1/runs/${finished}/events`, undefined, { 'last-event-id': id });
      expect(res.status).toBe(200);
      expect(res.text).toBe('');
    }
    expect(hub.subscribers(finished)).toBe(0);
  });

  it('replays what follows Last-Event-ID of a finished run, then ends', async () => {
    const res = await api(A, 'GET', `/v1/runs/${finished}/events`, undefined, {
      'last-event-id': String(lastSeq - 1),
    });
    expect(res.text).toMatch(new RegExp(`^id: ${lastSeq}\nevent: run.succeeded\n`));
    expect(res.text.match(/^id: /gm)).toHaveLength(1);
  });

  it('lets go of the subscription when the client goes away from a run still waiting', async () => {
    const waiting = (await api(A, 'POST', `/v1/workflows/${wf}/runs?wait=true`, {})).json.id;
    const controller = new AbortController();
    const res = await fetch(`${gw.url}/v1/runs/${waiting}/events`, {
      headers: { authorization: `Bearer ${A}` },
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    await reader.read(); // the replay has arrived: the stream is open and subscribed
    expect(hub.subscribers(waiting)).toBe(1);
    controller.abort();
    await vi.waitFor(() => expect(hub.subscribers(waiting)).toBe(0));
  });
});

describe('template expansion is bounded by max_body_bytes', () => {
  const repeat = (ref: string) => Array.from({ length: 20 }, () => `{{ ${ref} }}`).join(' ');

  it('refuses at start a run whose inputs make a prompt larger than the bound, calling nothing', async () => {
    const wf = (
      await api(A, 'POST', '/v1/workflows', {
        name: 'input-bomb',
        inputs: { doc: { type: 'string' } },
        steps: { s: { model: 'oa-model', prompt: repeat('inputs.doc') } },
      })
    ).json.id;
    const res = await api(A, 'POST', `/v1/workflows/${wf}/runs?wait=true`, {
      inputs: { doc: 'x'.repeat(100_000) },
    });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('invalid_body');
    expect(res.json.error.message).toMatch(/steps\.s\.prompt.*more than 1000000 bytes/s);
    expect(fakes.openai.received).toHaveLength(0);
  });

  it("fails the step whose prompt repeats an earlier step's large output, before sending it upstream", async () => {
    fakes.openai.enqueue({ text: 'y'.repeat(100_000) });
    const wf = (
      await api(A, 'POST', '/v1/workflows', {
        name: 'output-bomb',
        steps: {
          big: { model: 'oa-model', prompt: 'Write a lot.' },
          echo: { model: 'oa-model', needs: ['big'], prompt: repeat('steps.big.output') },
        },
      })
    ).json.id;
    const res = await api(A, 'POST', `/v1/workflows/${wf}/runs?wait=true`, {});
    expect(res.json.status).toBe('failed');
    expect(res.json.steps.echo.status).toBe('failed');
    expect(res.json.steps.echo.error).toMatch(/more than 1000000 bytes.*max_body_bytes/);
    expect(fakes.openai.received).toHaveLength(1);
    for (const r of fakes.openai.received) expect(JSON.stringify(r.body).length).toBeLessThan(MAX_BODY);
  });
});

describe('hostile definition bodies answer 400, never 500', () => {
  const BOMB = [
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
    'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
    'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
    'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
    'f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
    'name: bomb',
    'steps: { s: { prompt: hi } }',
  ].join('\n');
  // As text: building these as objects would overflow the test's own JSON.stringify.
  const deep = (n: number) => `${'{"a":'.repeat(n)}{}${'}'.repeat(n)}`;
  const yaml = { 'content-type': 'application/yaml' };

  it('refuses a YAML alias bomb', async () => {
    const res = await api(A, 'POST', '/v1/workflows', BOMB, yaml);
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_body' });
    expect(res.json.error.message).toMatch(/alias/);
  });

  it.each([100, 10_000])('refuses YAML nested %i deep', async (n) => {
    const body = `name: deep\nsteps: { s: { prompt: hi } }\ninputs: { a: { type: object, default: ${'['.repeat(n)}${']'.repeat(n)} } }`;
    const res = await api(A, 'POST', '/v1/workflows', body, yaml);
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('invalid_body');
    expect(res.json.error.message).toMatch(/nested/);
  });

  it('refuses JSON nested 10,000 deep in a step schema and in an input', async () => {
    const inSchema = `{"name":"deep-schema","steps":{"s":{"prompt":"hi","output":"json","schema":${deep(10_000)}}}}`;
    const inInput = `{"name":"deep-input","inputs":{"a":{"type":"object","default":${deep(10_000)}}},"steps":{"s":{"prompt":"hi"}}}`;
    for (const body of [inSchema, inInput]) {
      const res = await api(A, 'POST', '/v1/workflows', body);
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe('invalid_body');
    }
    const names = (await api(A, 'GET', '/v1/workflows')).json.data.map((w: { name: string }) => w.name);
    expect(names).not.toContain('deep-schema');
  });

  it('refuses run inputs nested 10,000 deep', async () => {
    const wf = (
      await api(A, 'POST', '/v1/workflows', {
        name: 'object-input',
        inputs: { a: { type: 'object' } },
        steps: { s: { model: 'oa-model', prompt: '{{ inputs.a }}' } },
      })
    ).json.id;
    const res = await api(A, 'POST', `/v1/workflows/${wf}/runs`, `{"inputs":{"a":${deep(10_000)}}}`);
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('invalid_body');
    expect(fakes.openai.received).toHaveLength(0);
  });
});
