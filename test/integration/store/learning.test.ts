/**
 * The learnt-quality tables on each engine: batches from several instances add up (each decayed to its
 * own time), a freeze drops batches and holds the estimates, a reset forgets and ignores what was
 * observed before it, a request's first feedback is the only one counted, and workflow step subjects
 * are found by prefix even when run ids and step names hold LIKE's wildcards.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { ObservationRow, Store, SubjectRow } from '../../../src/store/index.ts';
import { type Backend, backends } from './backends.ts';

const DAY = 86_400_000;
const HALF_LIFE = 10 * DAY;
const T0 = Date.parse('2026-11-20T00:00:00Z');

const obs = (
  model: string,
  value: number,
  at: number,
  over: Partial<ObservationRow> = {},
): ObservationRow => ({
  model,
  category: 'general',
  value,
  weight: 1,
  at,
  ...over,
});

const subject = (request_id: string, over: Partial<SubjectRow> = {}): SubjectRow => ({
  request_id,
  team_id: 'research',
  model: 'm1',
  category: 'code',
  created_at: T0,
  feedback_at: null,
  ...over,
});

async function row(store: Store, model: string) {
  const { rows } = await store.learning.load();
  return rows.find((r) => r.model === model && r.category === 'general');
}

describe.each(backends())('learnt quality on $name', ({ make }) => {
  const backend: Backend = make();
  afterAll(() => backend.cleanup());

  it('adds batches from two instances, each row decayed to the newer batch', async () => {
    const target = await backend.fresh();
    const a = await target.open();
    const b = await target.open();
    // A value that is no score is left out rather than failing the batch.
    const odd = [
      obs('m1', Number.NaN, T0),
      obs('m1', 2, T0),
      obs('m1', 1, T0, { weight: Number.POSITIVE_INFINITY }),
    ];
    await a.learning.record([obs('m1', 1, T0), obs('m1', 0, T0), ...odd], T0, HALF_LIFE);
    // Ten days (one half-life) later another instance adds one success.
    await b.learning.record([obs('m1', 1, T0 + 10 * DAY)], T0 + 10 * DAY, HALF_LIFE);
    const r = await row(a, 'm1');
    expect(r?.trials).toBeCloseTo(2 * 0.5 + 1, 9);
    expect(r?.successes).toBeCloseTo(1 * 0.5 + 1, 9);
    expect(r?.updated_at).toBe(T0 + 10 * DAY);
    // A batch whose clock is behind the row's never makes old evidence grow.
    await a.learning.record([obs('m1', 0, T0 + 9 * DAY)], T0 + 9 * DAY, HALF_LIFE);
    const later = await row(a, 'm1');
    expect(later?.trials).toBeCloseTo(3, 9);
    expect(later?.updated_at).toBe(T0 + 10 * DAY);
  });

  it('drops what was observed after a freeze, and on unfreeze moves every estimate on by the frozen span', async () => {
    const store = await (await backend.fresh()).open();
    await store.learning.record([obs('m1', 1, T0)], T0, HALF_LIFE);
    await store.learning.freeze(T0 + DAY);
    await store.learning.freeze(T0 + 2 * DAY); // the first freeze's time stands
    expect((await store.learning.load()).control.frozenAt).toBe(T0 + DAY);
    // Observed after the freeze: dropped. Observed before it (a batch on its way): counted, as of the freeze.
    await store.learning.record([obs('m1', 0, T0 + 2 * DAY), obs('m1', 1, T0)], T0 + 2 * DAY, HALF_LIFE);
    const held = await row(store, 'm1');
    expect(held?.trials).toBeCloseTo(2 * 0.5 ** (1 / 10), 9);
    expect(held?.updated_at).toBe(T0 + DAY);
    await store.learning.unfreeze(T0 + 5 * DAY);
    const { rows, control } = await store.learning.load();
    expect(control.frozenAt).toBeNull();
    expect(rows[0]?.updated_at).toBe(T0 + 5 * DAY);
  });

  it('a reset forgets a model and ignores its observations made before the reset', async () => {
    const store = await (await backend.fresh()).open();
    await store.learning.record([obs('m1', 1, T0), obs('m2', 1, T0)], T0, HALF_LIFE);
    await store.learning.reset('m1', T0 + DAY);
    expect(await row(store, 'm1')).toBeUndefined();
    expect(await row(store, 'm2')).toBeDefined();
    // A batch still on its way from another instance: the observation before the reset is not counted.
    await store.learning.record(
      [obs('m1', 0, T0 + DAY - 1), obs('m1', 1, T0 + DAY + 1)],
      T0 + DAY + 1,
      HALF_LIFE,
    );
    expect((await row(store, 'm1'))?.trials).toBeCloseTo(1, 9);
    await store.learning.reset('*', T0 + 2 * DAY);
    expect((await store.learning.load()).rows).toEqual([]);
  });

  it("counts a request's first feedback only, and only for the request's own team", async () => {
    const store = await (await backend.fresh()).open();
    await store.learning.putSubjects([subject('req-1')]);
    const feedback = (team: string, score: number) => ({ requestId: 'req-1', team, score, comment: 'nope' });
    await store.learning.record([obs('m1', 0, T0, { feedback: feedback('other-team', 0) })], T0, HALF_LIFE);
    expect(await row(store, 'm1')).toBeUndefined();
    await store.learning.record([obs('m1', 0, T0, { feedback: feedback('research', 0) })], T0, HALF_LIFE);
    await store.learning.record([obs('m1', 1, T0, { feedback: feedback('research', 1) })], T0, HALF_LIFE);
    expect((await row(store, 'm1'))?.trials).toBeCloseTo(1, 9);
    expect((await store.learning.findSubject('req-1'))?.feedback_at).toBe(T0);
  });

  it('finds a step by prefix although its run id and name hold LIKE wildcards, and sweeps old subjects', async () => {
    const store = await (await backend.fresh()).open();
    await store.learning.putSubjects([
      subject('wf-run_1-step_a-1', { created_at: T0 }),
      subject('wf-run_1-step_a-2', { created_at: T0 + 1 }),
      subject('wf-runX1-stepXa-3', { created_at: T0 + 2 }),
      subject('old', { created_at: T0 - 30 * DAY }),
    ]);
    // A re-run step answers under the same id again, possibly within one batch: the newer answer wins.
    await store.learning.putSubjects([
      subject('wf-run_1-step_a-3', { model: 'old' }),
      subject('wf-run_1-step_a-3', { model: 'new', created_at: T0 + 3 }),
    ]);
    expect((await store.learning.findSubject('wf-run_1-step_a-3'))?.model).toBe('new');
    const found = await store.learning.findByPrefix('wf-run_1-step_a-');
    expect(found.map((s) => s.request_id)).toEqual([
      'wf-run_1-step_a-3',
      'wf-run_1-step_a-2',
      'wf-run_1-step_a-1',
    ]);
    expect(await store.learning.sweepSubjects(T0 - DAY)).toBe(1);
    expect(await store.learning.findSubject('old')).toBeUndefined();
  });
});
