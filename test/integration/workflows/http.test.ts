/**
 * The workflow HTTP API end to end: definitions (YAML and JSON, refusals with paths, graphs), runs with
 * ?wait, approvals, human corrections, re-runs, cancel and the SSE event stream with Last-Event-ID.
 * Steps run on a scripted runner, so what each step saw and when is recorded.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../src/store/index.ts';
import { Engine, type RunnerRequest, type StepRunner } from '../../../src/workflows/engine/index.ts';
import { EventHub } from '../../../src/workflows/event-hub.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const HOMETOWN = readFileSync(join(ROOT, 'examples/workflows/hometown-distance.yaml'), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'quorum-wf-http-'));
let store: Store;
let engine: Engine;
let gw: TestGateway;
const calls: { step: string; user: string; at: number }[] = [];
let slow = 0;

/** Answers by step: towns by person, a distance from the two towns; records what it was asked. */
const runner: StepRunner = {
  async complete(req: RunnerRequest, signal: AbortSignal) {
    const user = String(req.messages.at(-1)?.content ?? '');
    calls.push({ step: req.step, user, at: Date.now() });
    if (slow) {
      await new Promise<void>((ok, fail) => {
        const t = setTimeout(ok, slow);
        signal.addEventListener('abort', () => {
          clearTimeout(t);
          fail(new Error('aborted'));
        });
      });
    }
    const text = req.step === 'distance' ? `${user.length} km` : user.includes('Ada') ? 'London' : 'Paris';
    return { text, cost_usd: 0.001 };
  },
};

async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(gw.url + path, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, text, json };
}

beforeAll(async () => {
  store = await openStore(`sqlite:${join(dir, 'q.db')}`);
  const hub = new EventHub();
  engine = new Engine({ store, runner, onEvent: hub.publish });
  gw = await startGateway(
    { providers: [{ id: 'demo', type: 'demo' }] },
    { app: () => ({ store, workflows: { engine, hub } }) },
  );
});
afterAll(async () => {
  await gw.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('definitions', () => {
  let id = '';
  it('stores YAML as version 1, returns it again for an identical body, then version 2 of the same name', async () => {
    const first = await api('POST', '/v1/workflows', HOMETOWN, { 'content-type': 'application/yaml' });
    expect(first.status).toBe(201);
    expect(first.json).toMatchObject({ name: 'hometown-distance', version: 1 });
    const same = await api('POST', '/v1/workflows', HOMETOWN, { 'content-type': 'application/yaml' });
    expect(same.status).toBe(200);
    expect(same.json).toMatchObject({ id: first.json.id, version: 1 });
    const changed = HOMETOWN.replace('Reply with the town only.', 'Reply with the town name only.');
    expect(changed).not.toBe(HOMETOWN);
    const second = await api('POST', '/v1/workflows', changed, { 'content-type': 'application/yaml' });
    expect(second.status).toBe(201);
    expect(second.json.version).toBe(2);
    id = second.json.id;
    expect((await api('GET', `/v1/workflows/${id}`)).json.definition.steps.distance.needs).toEqual([
      'town_a',
      'town_b',
    ]);
  });

  it('refuses a cyclic definition with the path of every problem', async () => {
    const res = await api('POST', '/v1/workflows', {
      name: 'loop',
      steps: { a: { prompt: 'x {{ steps.zz.output }}', needs: ['b'] }, b: { prompt: 'y', needs: ['a'] } },
    });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_workflow' });
    expect(res.json.error.message).toMatch(/cycle/);
    expect(res.json.error.message).toMatch(/steps\.a\.prompt/);
  });

  it('a JSON body that is a string is refused as not a definition, never re-read as YAML', async () => {
    const res = await api('POST', '/v1/workflows', JSON.stringify('*RoaDj'));
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: 'invalid_workflow' });
    expect(res.json.error.message).toMatch(/is an object with name/);
  });

  it('draws the graph as Mermaid and DOT', async () => {
    const mermaid = await api('GET', `/v1/workflows/${id}/graph`);
    expect(mermaid.text).toMatch(/flowchart/);
    expect(mermaid.text).toMatch(/town_a.*-->.*distance/s);
    const dot = await api('GET', `/v1/workflows/${id}/graph?format=dot`);
    expect(dot.text).toMatch(/digraph/);
  });

  it('answers 404 for an unknown workflow', async () => {
    expect((await api('GET', '/v1/workflows/nope')).status).toBe(404);
  });
});

describe('runs', () => {
  let wf = '';
  beforeAll(async () => {
    wf = (await api('POST', '/v1/workflows', HOMETOWN, { 'content-type': 'application/yaml' })).json.id;
  });

  it('runs parallel steps, waits at the approval, and finishes once approved', async () => {
    calls.length = 0;
    const started = await api('POST', `/v1/workflows/${wf}/runs?wait=true`, {
      inputs: { a: 'Ada Lovelace', b: 'Marie Curie' },
    });
    expect(started.status).toBe(200);
    expect(started.json.status).toBe('waiting');
    expect(started.json.steps.check.status).toBe('waiting');
    expect(started.json.steps.town_a.output).toBe('London');
    const distance = calls.find((c) => c.step === 'distance')!;
    expect(distance.user).toMatch(/London/);
    expect(distance.user).toMatch(/Paris/);

    // A step that is not waiting cannot be approved: a state conflict.
    const early = await api('POST', `/v1/runs/${started.json.id}/steps/distance/approve`, { approved: true });
    expect(early.status).toBe(409);
    expect(early.json.error).toMatchObject({ type: 'invalid_request_error', code: 'conflict' });

    const approved = await api('POST', `/v1/runs/${started.json.id}/steps/check/approve`, { approved: true });
    expect(approved.status).toBe(200);
    const done = await engine.wait(started.json.id);
    expect(done.status).toBe('succeeded');
    expect((await api('GET', `/v1/runs/${started.json.id}`)).json.outputs.km).toMatch(/km/);
  });

  it("a person's correction re-runs exactly the descendants", async () => {
    const run = (
      await api('POST', `/v1/workflows/${wf}/runs?wait=true`, { inputs: { a: 'Ada', b: 'Marie' } })
    ).json;
    calls.length = 0;
    const edited = await api('PUT', `/v1/runs/${run.id}/steps/town_a/output`, { output: 'Berlin' });
    expect(edited.status).toBe(200);
    await engine.wait(run.id);
    expect(calls.map((c) => c.step)).toEqual(['distance']);
    expect(calls[0]!.user).toMatch(/Berlin/);
    const after = (await api('GET', `/v1/runs/${run.id}`)).json;
    expect(after.steps.town_a.history.map((h: { source: string }) => h.source)).toEqual(['model', 'person']);
  });

  it('streams events over SSE, replaying from Last-Event-ID', async () => {
    const run = (
      await api('POST', `/v1/workflows/${wf}/runs?wait=true`, { inputs: { a: 'Ada', b: 'Marie' } })
    ).json;
    await api('POST', `/v1/runs/${run.id}/steps/check/approve`, { approved: true });
    await engine.wait(run.id);
    const all = (await api('GET', `/v1/runs/${run.id}/events`)).text;
    const ids = [...all.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ids).toEqual(ids.map((_, i) => i + 1));
    expect(all).toMatch(/event: run\.started/);
    expect(all.trim().endsWith('"run.succeeded"') || /event: run\.succeeded/.test(all)).toBe(true);
    const tail = (
      await api('GET', `/v1/runs/${run.id}/events`, undefined, { 'last-event-id': String(ids.at(-2)) })
    ).text;
    expect([...tail.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]))).toEqual([ids.at(-1)]);
  });

  it("a live run's stream says when its history has all been sent, then stays open; a finished run's just ends", async () => {
    const run = (
      await api('POST', `/v1/workflows/${wf}/runs?wait=true`, { inputs: { a: 'Ada', b: 'Marie' } })
    ).json;
    expect(run.status).toBe('waiting');
    const controller = new AbortController();
    const res = await fetch(`${gw.url}/v1/runs/${run.id}/events`, { signal: controller.signal });
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!text.includes(': history sent')) {
      const { value, done } = await reader.read();
      expect(done, text).toBe(false);
      text += value;
    }
    const [history] = text.split(': history sent');
    expect(history).toMatch(/event: step\.waiting/);
    expect(text).toMatch(/^: history sent; live events follow$/m);
    // Still open: the approval arrives live, and the stream ends after the run does.
    await api('POST', `/v1/runs/${run.id}/steps/check/approve`, { approved: true });
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    expect(text.split(': history sent')[1]).toMatch(/event: run\.succeeded/);
    controller.abort();

    const finished = (await api('GET', `/v1/runs/${run.id}/events`)).text;
    expect(finished).not.toMatch(/history sent/);
  });

  it('replays the whole history of a run corrected after it finished: the edit, the re-run and the second end', async () => {
    const run = (
      await api('POST', `/v1/workflows/${wf}/runs?wait=true`, { inputs: { a: 'Ada', b: 'Marie' } })
    ).json;
    await api('POST', `/v1/runs/${run.id}/steps/check/approve`, { approved: true });
    expect((await engine.wait(run.id)).status).toBe('succeeded');
    expect((await api('PUT', `/v1/runs/${run.id}/steps/town_a/output`, { output: 'Berlin' })).status).toBe(
      200,
    );
    // The correction re-runs distance, so the approval waits again.
    for (let i = 0; i < 100 && (await api('GET', `/v1/runs/${run.id}`)).json.status !== 'waiting'; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await api('POST', `/v1/runs/${run.id}/steps/check/approve`, { approved: true });
    expect((await engine.wait(run.id)).status).toBe('succeeded');

    const all = (await api('GET', `/v1/runs/${run.id}/events`)).text;
    const types = [...all.matchAll(/^event: (\S+)$/gm)].map((m) => m[1]);
    expect(types.filter((t) => t === 'run.succeeded')).toHaveLength(2);
    expect(types.indexOf('step.edited')).toBeGreaterThan(types.indexOf('run.succeeded'));
    expect(types.lastIndexOf('run.succeeded')).toBe(types.length - 1);
  });

  it('cancel aborts the in-flight step', async () => {
    slow = 5_000;
    try {
      const run = (await api('POST', `/v1/workflows/${wf}/runs`, { inputs: { a: 'Ada', b: 'Marie' } })).json;
      await new Promise((r) => setTimeout(r, 100));
      const cancelled = await api('POST', `/v1/runs/${run.run_id}/cancel`);
      expect(cancelled.json.status).toBe('cancelled');
    } finally {
      slow = 0;
    }
  });

  it('refuses missing inputs with their path, and an unknown run with 404', async () => {
    const res = await api('POST', `/v1/workflows/${wf}/runs`, { inputs: { a: 'Ada' } });
    expect(res.status).toBe(400);
    expect(res.json.error.message).toMatch(/inputs\.b/);
    expect((await api('GET', '/v1/runs/nope')).status).toBe(404);
  });

  it('an Idempotency-Key returns the same run', async () => {
    const h = { 'idempotency-key': 'run-once-123' };
    const a = await api('POST', `/v1/workflows/${wf}/runs`, { inputs: { a: 'x', b: 'y' } }, h);
    const b = await api('POST', `/v1/workflows/${wf}/runs`, { inputs: { a: 'x', b: 'y' } }, h);
    expect(b.json.run_id).toBe(a.json.run_id);
  });
});
