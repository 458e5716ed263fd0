/** The estimate: a Beta posterior with the catalog as prior, decay by half-life, the minimum respected. */
import { describe, expect, it } from 'vitest';
import {
  DAY_MS,
  decay,
  estimate,
  type LearningSettings,
  withObservation,
} from '../../../src/learning/estimate.ts';

const SETTINGS: LearningSettings = { minObservations: 5, halfLifeMs: 10 * DAY_MS, priorStrength: 20 };
const T0 = Date.parse('2026-11-20T00:00:00Z');

function observed(values: number[], at = T0) {
  let e: ReturnType<typeof withObservation> | undefined;
  for (const v of values) e = withObservation(e, v, 1, at, SETTINGS.halfLifeMs);
  return e;
}

describe('estimate', () => {
  it('is the prior with nothing observed', () => {
    expect(estimate(0.8, undefined, SETTINGS, T0)).toEqual({
      prior: 0.8,
      observed: null,
      effective: 0.8,
      observations: 0,
    });
  });

  it('keeps the prior below min_observations, then moves to the posterior mean', () => {
    const four = estimate(0.8, observed([0, 0, 0, 0]), SETTINGS, T0);
    expect(four).toMatchObject({ observed: 0, effective: 0.8, observations: 4 });
    const five = estimate(0.8, observed([0, 0, 0, 0, 0]), SETTINGS, T0);
    // (20 × 0.8 + 0) / (20 + 5)
    expect(five.effective).toBeCloseTo(0.64, 4);
    expect(five.observations).toBe(5);
  });

  it('lets evidence outweigh the prior as it grows, in either direction', () => {
    const bad = estimate(0.8, observed(Array(200).fill(0.3)), SETTINGS, T0);
    expect(bad.effective).toBeCloseTo((20 * 0.8 + 60) / 220, 4);
    const good = estimate(0.5, observed(Array(200).fill(1)), SETTINGS, T0);
    expect(good.effective).toBeGreaterThan(0.95);
  });

  it('halves old evidence every half-life, back under the minimum in the end', () => {
    const e = observed(Array(8).fill(0));
    expect(estimate(0.8, e, SETTINGS, T0 + 10 * DAY_MS).observations).toBe(4);
    const later = estimate(0.8, e, SETTINGS, T0 + 20 * DAY_MS);
    expect(later.observations).toBe(2);
    expect(later.effective).toBe(0.8);
    expect(decay(-5, 10)).toBe(1);
  });

  it('decays the old evidence before adding a new observation', () => {
    const e = withObservation(observed([0, 0]), 1, 1, T0 + 10 * DAY_MS, SETTINGS.halfLifeMs);
    expect(e.trials).toBeCloseTo(2, 9);
    expect(e.successes).toBeCloseTo(1, 9);
  });
});
