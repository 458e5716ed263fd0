/**
 * Every example in examples/workflows/ runs to success on `npm start` with no configuration and no
 * keys: stored over HTTP, started, approved through the API where it waits for a person. The demo's
 * judge makes `until` loops improve until they pass, and its reviewers send a draft back (`back_to`).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServeProcess, spawnServe } from '../helpers/serve.ts';

const EXAMPLES = resolve(import.meta.dirname, '../../../examples/workflows');
let server: ServeProcess;
const cwd = mkdtempSync(join(tmpdir(), 'quorum-demo-examples-'));

beforeAll(async () => {
  server = await spawnServe([], {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, QUORUM_LOG_LEVEL: 'info' },
  });
});

afterAll(async () => {
  await server.stop('SIGKILL');
  rmSync(cwd, { recursive: true, force: true });
});

async function api(method: string, path: string, body?: unknown, type = 'application/json') {
  const res = await fetch(server.url + path, {
    method,
    headers: { 'content-type': type },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as any };
}

interface RunEvent {
  type: string;
  step?: string;
  data?: Record<string, unknown>;
  [k: string]: unknown;
}

/** The run's whole event history: the stream ends once the run is over. */
async function events(runId: string): Promise<RunEvent[]> {
  const text = await (await fetch(`${server.url}/v1/runs/${runId}/events`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('data:'))
    .map((l) => JSON.parse(l.slice(5)) as RunEvent);
}

/** Stores a file, runs it to the end (approving every gate through the API) and returns the run. */
async function runExample(file: string, inputs: Record<string, unknown>) {
  const stored = await api(
    'POST',
    '/v1/workflows',
    readFileSync(join(EXAMPLES, file), 'utf8'),
    'application/yaml',
  );
  expect(stored.json.error).toBeUndefined();
  let run = (await api('POST', `/v1/workflows/${stored.json.id}/runs?wait=true`, { inputs })).json;
  const approved: string[] = [];
  for (let gates = 0; run.status === 'waiting' && gates < 5; gates++) {
    const waiting = Object.entries(run.steps as Record<string, { status: string }>)
      .filter(([, s]) => s.status === 'waiting')
      .map(([name]) => name);
    for (const step of waiting) {
      const res = await api('POST', `/v1/runs/${run.id}/steps/${step}/approve`, { approved: true });
      expect(res.status).toBe(200);
      approved.push(step);
    }
    await events(run.id); // ends when the run is over
    run = (await api('GET', `/v1/runs/${run.id}`)).json;
  }
  return { run, approved, events: await events(run.id) };
}

const iterationScores = (evs: RunEvent[], step: string) =>
  evs.filter((e) => e.type === 'step.iteration' && e.step === step).map((e) => (e.data ?? e).score);

describe('the example workflows on the demo', () => {
  it('are the three documented ones plus review-until-approved', () => {
    expect(
      readdirSync(EXAMPLES)
        .filter((f) => f.endsWith('.yaml'))
        .sort(),
    ).toEqual([
      'draft-review-revise.yaml',
      'hometown-distance.yaml',
      'plan-then-execute.yaml',
      'review-until-approved.yaml',
    ]);
  });

  it('hometown-distance: two look-ups, the distance, then the approval', async () => {
    const { run, approved } = await runExample('hometown-distance.yaml', {
      a: 'Ada Lovelace',
      b: 'Marie Curie',
    });
    expect(run.status).toBe('succeeded');
    expect(approved).toEqual(['check']);
    expect(run.outputs.km).toMatch(/\w/);
  });

  it('plan-then-execute: the JSON plan passes its schema first time and feeds the parallel steps', async () => {
    const { run } = await runExample('plan-then-execute.yaml', { goal: 'Launch a newsletter for a bakery' });
    expect(run.status).toBe('succeeded');
    const plan = run.outputs.plan;
    expect(Object.keys(plan).sort()).toEqual(['draft', 'research', 'risks']);
    expect(plan.research).toMatch(/newsletter for a bakery/);
    expect(plan.risks.length).toBeGreaterThanOrEqual(1);
    expect(run.steps.plan.attempts).toBe(1);
    expect(run.steps.research.status).toBe('succeeded');
    expect(run.steps.risks.status).toBe('succeeded');
  });

  it('draft-review-revise: the judge loop improves to its min_score, the reviewers send it back once', async () => {
    const { run, events: evs } = await runExample('draft-review-revise.yaml', { topic: 'Why tests matter' });
    expect(run.status).toBe('succeeded');
    expect(iterationScores(evs, 'draft')).toEqual([5, 7, 8.5]);
    const reviews = evs.filter((e) => e.type === 'step.succeeded' && e.step === 'review');
    expect(reviews).toHaveLength(2);
    expect(JSON.stringify(reviews[0])).toMatch(/"back_to":"draft"/);
    expect(JSON.stringify(reviews[1])).not.toMatch(/back_to/);
    expect(run.outputs.article).toMatch(/\w/);
  });

  it('review-until-approved: two reviews in parallel, revised until the judge scores 8, then approved', async () => {
    const {
      run,
      approved,
      events: evs,
    } = await runExample('review-until-approved.yaml', {
      topic: 'Why code review matters',
    });
    expect(run.status).toBe('succeeded');
    expect(approved).toEqual(['approve']);
    expect(run.steps.accuracy.output.issues.length).toBeGreaterThan(0);
    expect(['minor', 'major']).toContain(run.steps.clarity.output.severity);
    expect(iterationScores(evs, 'revise')).toEqual([5, 7, 8.5]);
    expect(run.steps.revise.iterations).toBe(3);
    expect(run.outputs.explainer).toMatch(/^Revision 2: /m);
    // The two reviews ran side by side: both started before either finished.
    const order = evs
      .filter((e) => ['accuracy', 'clarity'].includes(e.step ?? ''))
      .map((e) => `${e.type}:${e.step}`);
    expect(order.slice(0, 2).every((e) => e.startsWith('step.started'))).toBe(true);
  });
});
