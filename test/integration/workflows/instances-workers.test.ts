/**
 * `quorum serve --workers 2` on Postgres and Redis: every worker process runs workflow steps from the
 * shared queue. Runs started through the one port finish, their steps spread over both workers, each
 * step's call made once, and the history read back through either worker is the same.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  answer,
  type Cluster,
  type Instance,
  POSTGRES_URL,
  REDIS_URL,
  startCluster,
  stepStates,
  until,
} from './instances.ts';

const RUNS = 6;

/** Two look-ups side by side, then a step that needs both. */
const FORK = {
  name: 'fork',
  inputs: { n: { type: 'string' } },
  steps: {
    left: { prompt: 'LEFT {{ inputs.n }}', model: 'm' },
    right: { prompt: 'RIGHT {{ inputs.n }}', model: 'm' },
    join: {
      prompt: 'JOIN {{ inputs.n }}: {{ steps.left.output }} + {{ steps.right.output }}',
      model: 'm',
      needs: ['left', 'right'],
    },
  },
  outputs: { result: '{{ steps.join.output }}' },
};

describe.skipIf(!POSTGRES_URL || !REDIS_URL)('quorum serve --workers 2 on Postgres and Redis', () => {
  let cluster: Cluster;
  let server: Instance;

  beforeAll(async () => {
    cluster = await startCluster();
    server = await cluster.start({ concurrency: 2, workers: 2 });
  }, 60_000);

  afterAll(async () => {
    await cluster?.cleanup();
  }, 60_000);

  it('runs workflows to completion with their steps on both workers, each step once', async () => {
    // Both workers announce their engine in the shared mode.
    await until(
      'both workers to run shared workflow jobs',
      async () => server.output().match(/steps run as jobs shared with every instance/g)?.length ?? 0,
      (n) => n === 2,
      30_000,
    );
    answer(cluster, (prompt) => ({
      text: `done ${/(LEFT|RIGHT|JOIN) \d+/.exec(prompt)?.[0]}`,
      latencyMs: 300,
    }));
    const wf = await server.api('POST', '/v1/workflows', FORK);
    expect(wf.status).toBe(201);
    const started = await Promise.all(
      Array.from({ length: RUNS }, (_, n) =>
        server.api('POST', `/v1/workflows/${wf.json.id}/runs`, { inputs: { n: String(n) } }),
      ),
    );
    const ids = started.map((s) => {
      expect(s.status).toBe(202);
      return s.json.run_id as string;
    });

    for (const [n, id] of ids.entries()) {
      const run = await until(
        `run ${n} to end`,
        async () => (await server.api('GET', `/v1/runs/${id}`)).json,
        (r) => r?.status !== 'running' && r?.status !== 'pending',
      );
      expect(run.status).toBe('succeeded');
      expect(run.outputs.result).toBe(`done JOIN ${n}`);
    }

    // Each step's call was made once: 3 steps × RUNS runs, no prompt twice.
    const prompts = cluster.calls.map((c) => c.prompt);
    expect(prompts).toHaveLength(3 * RUNS);
    expect(new Set(prompts).size).toBe(3 * RUNS);

    // The steps ran in both worker processes (named host:pid; the primary runs none).
    const workers = new Set<string>();
    for (const id of ids) {
      for (const state of Object.values((await stepStates(cluster.db)).get(id)!)) {
        expect(state.takes).toBe(1);
        workers.add(state.worker);
      }
    }
    expect(workers.size).toBe(2);
    expect(workers.has(server.name)).toBe(false);

    // The history, read through the port (either worker; the stream ends with the run): each step
    // started and succeeded once.
    for (const id of ids) {
      const res = await fetch(`${server.url}/v1/runs/${id}/events`, { headers: { connection: 'close' } });
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text.match(/^event: step\.started$/gm)).toHaveLength(3);
      expect(text.match(/^event: step\.succeeded$/gm)).toHaveLength(3);
      expect(text.match(/^event: run\.succeeded$/gm)).toHaveLength(1);
    }
  }, 120_000);
});
