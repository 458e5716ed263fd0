/**
 * The models a definition names are checked when it is stored, and again when a run starts: the
 * operator may have removed an alias or a preset, or narrowed the team's allow-list since. A run that
 * could only fail midway is refused with 400 invalid_workflow naming each step's field, before any step
 * runs. The same SQLite store is served first with the old config, then (a restart) with the new one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../src/store/index.ts';
import { type Fakes, fakesConfig, startFakes } from '../helpers/gateway.ts';
import { serveWorkflows } from './serve-workflows.ts';

const KEY = 'sk-lab-7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a29';
let fakes: Fakes;
let store: Store;
const dir = mkdtempSync(join(tmpdir(), 'quorum-wf-runcheck-'));

/** The config as it was when the workflow was stored, and as the operator changed it later. */
function config(changed: boolean): Record<string, unknown> {
  const base = fakesConfig(fakes);
  const [oa, an, ge] = base.models as Record<string, unknown>[];
  return {
    ...base,
    models: [changed ? oa : { ...oa, aliases: ['writer'] }, an, ge],
    ...(!changed && { ensembles: { panel: { strategy: 'consensus', models: ['oa-model', 'an-model'] } } }),
    teams: [
      {
        id: 'lab',
        models: changed ? ['oa-model', 'an-model'] : ['oa-model', 'writer', 'an-model', 'ge-model', 'panel'],
      },
    ],
    keys: [{ key: KEY, team: 'lab', name: 'lab-ci' }],
  };
}

const PIPELINE = {
  name: 'pipeline',
  steps: {
    plan: { model: 'writer', prompt: 'Plan it.' },
    vote: { model: 'panel', needs: ['plan'], prompt: 'Which plan? {{ steps.plan.output }}' },
    check: {
      model: 'an-model',
      needs: ['vote'],
      prompt: 'Check {{ steps.vote.output }}',
      until: { judge: 'ge-model', criteria: 'sound', max_iterations: 2 },
    },
  },
};
const SIMPLE = { name: 'simple', steps: { only: { model: 'oa-model', prompt: 'Hi.' } } };

beforeAll(async () => {
  fakes = await startFakes();
  store = await openStore(`sqlite:${join(dir, 'q.db')}`);
  const before = await serveWorkflows(config(false), store);
  try {
    for (const definition of [PIPELINE, SIMPLE]) {
      const stored = await before.api('POST', '/v1/workflows', definition, { key: KEY });
      expect(stored.status).toBe(201);
    }
  } finally {
    await before.close();
  }
});
afterAll(async () => {
  await store.close();
  await fakes.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a run starts only if every model its workflow names still may be used', () => {
  it('a removed alias, a removed preset and a model off the allow-list: 400 invalid_workflow with each path, before any step', async () => {
    const after = await serveWorkflows(config(true), store);
    try {
      fakes.openai.reset();
      const res = await after.api('POST', '/v1/workflows/pipeline/runs?wait=true', {}, { key: KEY });
      expect(res.status).toBe(400);
      expect(res.json.error).toMatchObject({
        type: 'invalid_request_error',
        code: 'invalid_workflow',
        param: 'steps.plan.model',
      });
      const lines = (res.json.error.message as string).split('\n');
      expect(lines[0]).toBe(
        'Workflow `pipeline` (version 1) cannot run for team `lab` now: the models it names changed or are no longer allowed since it was stored; it has 3 problem(s):',
      );
      expect(lines[1]).toMatch(/^steps\.plan\.model: The model `writer` does not exist\./);
      expect(lines[2]).toMatch(/^steps\.vote\.model: The model `panel` does not exist\./);
      expect(lines[3]).toBe('steps.check.until.judge: Team `lab` may not use the model `ge-model`.');
      // Nothing ran, and no run was made.
      expect(fakes.openai.received.length + fakes.anthropic.received.length).toBe(0);
      expect((await after.api('GET', '/v1/runs', undefined, { key: KEY })).json.data).toEqual([]);

      // A workflow whose models are all still allowed runs as before.
      const ok = await after.api('POST', '/v1/workflows/simple/runs?wait=true', {}, { key: KEY });
      expect(ok.json.status).toBe('succeeded');
    } finally {
      await after.close();
    }
  });
});
