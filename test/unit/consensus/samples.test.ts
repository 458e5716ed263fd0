/**
 * Self-ensembles in every strategy: each sample is asked at its own temperature, and its record says
 * which — also when it failed, and for a review's reviewer samples.
 */
import { describe, expect, it } from 'vitest';
import { GatherError } from '../../../consensus/gather.ts';
import { aggregate } from '../../../consensus/index.ts';
import { review } from '../../../consensus/review.ts';
import { gatherSamples } from '../../../consensus/samples.ts';
import { ask, fake, never } from './fakes.ts';

const q = { ...ask('What is 6 * 7?'), temperature: 0.5 };
const models = ['m', 'm', 'm'];
const temperatures = [0.2, 0.7, 1.0];

describe('self-ensembles', () => {
  it('each sample is asked at its temperature; its record carries it', async () => {
    const complete = fake((_, request) => `The answer is ${request.temperature === 1 ? 41 : 42}.`);
    const got = await gatherSamples(q, { models, temperatures }, complete, never);
    expect(complete.calls.map((c) => c.request.temperature)).toEqual(temperatures);
    expect(got.records.map((r) => r.temperature)).toEqual(temperatures);
    // The request itself is untouched: the next strategy step still sees the client's temperature.
    expect(q.temperature).toBe(0.5);
  });

  it('a sample without a temperature of its own keeps the request’s, and records none', async () => {
    const complete = fake(() => '42');
    const got = await gatherSamples(
      q,
      { models: ['m', 'n'], temperatures: [0.9, undefined] },
      complete,
      never,
    );
    expect(complete.calls.map((c) => c.request.temperature)).toEqual([0.9, 0.5]);
    expect(got.records.map((r) => r.temperature)).toEqual([0.9, undefined]);
  });

  it('failed samples say their temperature too', async () => {
    const complete = fake(() => {
      throw new Error('down');
    });
    const err = await gatherSamples(q, { models, temperatures }, complete, never).catch((e) => e);
    expect(err).toBeInstanceOf(GatherError);
    expect((err as GatherError).records.map((r) => [r.temperature, r.error])).toEqual(
      temperatures.map((t) => [t, 'down']),
    );
  });

  it.each(['consensus', 'best_of_n', 'ensemble', 'fusion'] as const)(
    '%s: the samples are the candidates, each with its temperature',
    async (strategy) => {
      const complete = fake((model, request) => {
        if (model === 'judge') return '{"scores": {"A": 5, "B": 6, "C": 7}, "best": "C", "gaps": []}';
        return `The answer is ${request.temperature === 1 ? 41 : 42}.`;
      });
      const r = await aggregate(strategy, q, { models, temperatures, judge: 'judge' }, complete, never);
      const samples = r.candidates.filter((c) => c.role !== 'aggregator');
      expect(samples.map((c) => [c.model, c.temperature])).toEqual(temperatures.map((t) => ['m', t]));
      const sent = complete.calls.filter((c) => c.model === 'm').map((c) => c.request.temperature);
      expect(sent).toEqual(temperatures);
      // The judge's own calls keep their settings: the samples' temperatures are the candidates' alone.
      for (const c of complete.calls.filter((x) => x.model === 'judge'))
        expect(temperatures).not.toContain(c.request.temperature);
    },
  );

  it('ensemble layers: every layer’s samples keep their temperatures', async () => {
    const complete = fake((model) => (model === 'judge' ? 'final' : 'x'));
    await aggregate('ensemble', q, { models, temperatures, judge: 'judge', layers: 2 }, complete, never);
    const sent = complete.calls.filter((c) => c.model === 'm').map((c) => c.request.temperature);
    expect(sent).toEqual([...temperatures, ...temperatures]);
  });

  it('review: reviewer samples are asked at their temperatures instead of 0, and say so', async () => {
    const complete = fake(() => '{"verdict": "accept", "score": 9, "issues": []}');
    const r = await review(
      { artifact: 'x', instructions: 'y', reviewers: ['r', 'r'], reviewerTemperatures: [0.3, 0.9] },
      complete,
      never,
    );
    expect(complete.calls.map((c) => c.request.temperature)).toEqual([0.3, 0.9]);
    expect(r.reviews.map((x) => x.temperature)).toEqual([0.3, 0.9]);
    const plain = fake(() => '{"verdict": "accept", "score": 9, "issues": []}');
    await review({ artifact: 'x', instructions: 'y', reviewers: ['r'] }, plain, never);
    expect(plain.calls[0]!.request.temperature).toBe(0);
  });
});
