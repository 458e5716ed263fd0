/**
 * Two `quorum serve` processes on one Postgres and Redis, one of them serving the API only
 * (`workflows.concurrency: 0`), so every step runs on the other: events followed on either instance
 * show, live, the steps the other runs; an approval sent to either releases the gate; a cancel sent to
 * the API-only instance aborts the upstream call on the instance that runs the step.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  answer,
  type Cluster,
  follow,
  type Instance,
  POSTGRES_URL,
  REDIS_URL,
  startCluster,
  stepStates,
  until,
} from './instances.ts';

const GATED = {
  name: 'gated',
  inputs: { n: { type: 'string' } },
  steps: {
    draft: { prompt: 'DRAFT {{ inputs.n }}', model: 'm' },
    gate: { type: 'approval', needs: ['draft'] },
    final: { prompt: 'FINAL {{ inputs.n }} from {{ steps.draft.output }}', model: 'm', needs: ['gate'] },
  },
  outputs: { result: '{{ steps.final.output }}' },
};

const SLOW = {
  name: 'slow',
  inputs: { n: { type: 'string' } },
  steps: { slow: { prompt: 'SLOW {{ inputs.n }}', model: 'm' } },
};

describe.skipIf(!POSTGRES_URL || !REDIS_URL)('several instances: events, approvals, cancels', () => {
  let cluster: Cluster;
  let worker: Instance;
  let front: Instance;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    cluster = await startCluster();
    worker = await cluster.start({ concurrency: 4 });
    front = await cluster.start({ concurrency: 0 });
    answer(cluster, (prompt) =>
      prompt.includes('SLOW')
        ? { text: 'never', hang: true }
        : { text: `answer to ${JSON.parse(prompt).at(-1).content}` },
    );
    for (const def of [GATED, SLOW]) ids[def.name] = (await front.api('POST', '/v1/workflows', def)).json.id;
  }, 90_000);

  afterAll(async () => {
    await cluster?.cleanup();
  }, 60_000);

  async function gatedRun(startOn: Instance, n: string): Promise<string> {
    const started = await startOn.api('POST', `/v1/workflows/${ids.gated}/runs`, { inputs: { n } });
    expect(started.status).toBe(202);
    const id = started.json.run_id as string;
    await until(
      'the gate',
      async () => (await startOn.api('GET', `/v1/runs/${id}`)).json,
      (r) => r.status === 'waiting',
    );
    return id;
  }

  for (const [followOn, approveOn] of [
    ['front', 'worker'],
    ['worker', 'front'],
  ] as const) {
    it(`follows on the ${followOn} instance, approves on the ${approveOn} one: the gate opens and the steps after it show live`, async () => {
      const instances = { front, worker };
      const id = await gatedRun(front, `${followOn}-${approveOn}`);
      const stream = follow(`${instances[followOn].url}/v1/runs/${id}/events`);
      await until(
        'the history',
        async () => stream.text(),
        (t) => t.includes('history sent'),
      );
      const approved = await instances[approveOn].api('POST', `/v1/runs/${id}/steps/gate/approve`, {
        approved: true,
      });
      expect(approved.status).toBe(200);
      await until(
        'the run to end on the stream',
        async () => stream.text(),
        (t) => t.includes('run.succeeded'),
      );
      stream.close();
      // After the history: the live part, written by the worker instance while the stream was open.
      const live = stream.text().split('history sent')[1]!;
      expect(live).toContain('event: step.succeeded');
      expect(live).toMatch(/"step":"final"/);
      const steps = (await stepStates(cluster.db)).get(id)!;
      // Every model step ran on the worker instance, none on the API-only one.
      expect(steps.draft.worker).toBe(worker.name);
      expect(steps.final.worker).toBe(worker.name);
      const run = (await front.api('GET', `/v1/runs/${id}`)).json;
      expect(run.status).toBe('succeeded');
      expect(run.steps.gate.output).toEqual({ approved: true });
      expect(run.outputs.result).toContain(`FINAL ${followOn}-${approveOn}`);
    }, 60_000);
  }

  it('answers ?wait=true on an instance that runs no step, once the steps run elsewhere reach the gate', async () => {
    const waited = await front.api('POST', `/v1/workflows/${ids.gated}/runs?wait=true`, {
      inputs: { n: 'w' },
    });
    expect(waited.status).toBe(200);
    expect(waited.json.status).toBe('waiting');
    expect(waited.json.steps.draft.output).toBe('answer to DRAFT w');
  }, 60_000);

  it('a refused approval on either instance fails the run for both', async () => {
    const id = await gatedRun(worker, 'refused');
    const refused = await front.api('POST', `/v1/runs/${id}/steps/gate/approve`, { approved: false });
    expect(refused.status).toBe(200);
    const seen = await until(
      'the failure on the other instance',
      async () => (await worker.api('GET', `/v1/runs/${id}`)).json,
      (r) => r.status === 'failed',
    );
    expect(seen.steps.final.status).toBe('skipped');
  }, 60_000);

  it('a cancel sent to the API-only instance aborts the upstream call where the step runs', async () => {
    const started = await front.api('POST', `/v1/workflows/${ids.slow}/runs`, { inputs: { n: 'c1' } });
    const id = started.json.run_id as string;
    const call = await until(
      'the slow call upstream',
      async () => cluster.calls.find((c) => c.prompt.includes('SLOW c1')),
      (c) => c !== undefined,
    );
    const cancelled = await front.api('POST', `/v1/runs/${id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.json.status).toBe('cancelled');
    // The worker instance hears of the cancel through the store and aborts its call.
    await until(
      'the upstream call to be aborted',
      async () => call!.request.aborted,
      (a) => a,
    );
    const run = (await worker.api('GET', `/v1/runs/${id}`)).json;
    expect(run.status).toBe('cancelled');
    expect(run.steps.slow.status).toBe('cancelled');
  }, 60_000);
});
