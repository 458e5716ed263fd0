/**
 * `max_cost_usd` holds across instances: six parallel steps of one run, taken by two `quorum serve`
 * processes at once, under a cap that covers two of their calls. Each call's worst case is held on the
 * run's row in Postgres before it is sent, so the instances cannot both see room that is there once:
 * what the run recorded, and what the ledger charged for it, never pass the cap.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limitNanos } from '../../../src/limits/nanos.ts';
import { type Cluster, POSTGRES_URL, REDIS_URL, startCluster, stepStates, until } from './instances.ts';

const CAP = 0.0025;
const STEPS = 6;

/** Six independent steps; each writes 1,000 tokens (m costs $1 per million either way): ~$0.00101 a call. */
const FAN = {
  name: 'fan',
  max_cost_usd: CAP,
  steps: Object.fromEntries(
    Array.from({ length: STEPS }, (_, i) => [`s${i}`, { prompt: `PART ${i}`, model: 'm', max_tokens: 1000 }]),
  ),
};

describe.skipIf(!POSTGRES_URL || !REDIS_URL)('several instances: max_cost_usd', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster();
  }, 60_000);

  afterAll(async () => {
    await cluster?.cleanup();
  }, 60_000);

  it('parallel steps of one run on two instances never spend past the cap together', async () => {
    const a = await cluster.start({ concurrency: 3 });
    const b = await cluster.start({ concurrency: 3 });
    // Slow, full-length answers: calls on both instances are in flight at once and cost their worst case.
    cluster.fake.respond((request) => {
      cluster.calls.push({ at: Date.now(), request, prompt: JSON.stringify(request.body.messages) });
      return { text: 'ok', usage: { input: 10, output: request.body.max_tokens ?? 1000 }, latencyMs: 500 };
    });
    const wf = await a.api('POST', '/v1/workflows', FAN);
    expect(wf.status).toBe(201);
    const started = await b.api('POST', `/v1/workflows/${wf.json.id}/runs`, { inputs: {} });
    expect(started.status).toBe(202);
    const runId = started.json.run_id as string;

    const run = await until(
      'the run to end',
      async () => (await a.api('GET', `/v1/runs/${runId}`)).json,
      (r) => r?.status === 'failed' || r?.status === 'succeeded',
    );
    // The cap stopped it: the third call could not be covered.
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/max_cost_usd \$0\.0025 cannot cover the next call/);

    // The steps were taken by both instances (the race the cap must hold against).
    const states = (await stepStates(cluster.db)).get(runId)!;
    const workers = new Set(Object.values(states).flatMap((s) => (s.takes ? [s.worker] : [])));
    expect(workers).toEqual(new Set([a.name, b.name]));

    // Every hold settled; what the run recorded and what the ledger charged stay within the cap.
    await until(
      'every hold to settle',
      async () => (await cluster.db.query('select cap_held_nanos from runs where id = $1', [runId])).rows[0],
      (r) => Number(r.cap_held_nanos) === 0,
    );
    const { rows } = await cluster.db.query(
      `select r.cost_nanos, r.cap_spent_nanos,
              (select coalesce(sum(cost_nanos), 0) from ledger where workflow_run = r.id) as charged
         from runs r where r.id = $1`,
      [runId],
    );
    const recorded = Number(rows[0].cost_nanos);
    expect(cluster.calls.length).toBe(2);
    expect(recorded).toBeGreaterThan(0);
    expect(recorded).toBeLessThanOrEqual(limitNanos(CAP));
    expect(Number(rows[0].charged)).toBe(recorded);
    expect(Number(rows[0].cap_spent_nanos)).toBe(recorded);
  }, 120_000);
});
