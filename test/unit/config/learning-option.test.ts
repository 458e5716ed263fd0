/** `routing.learning`: its defaults, values from the environment, and every bad value named by its path. */
import { afterAll, describe, expect, it } from 'vitest';
import { at, load, problemsOf, scratchDir } from './helpers.ts';

const scratch = scratchDir();
afterAll(() => scratch.cleanup());

describe('routing.learning', () => {
  it('takes values, numbers from ${VAR} included', () => {
    const path = scratch.write(
      'routing:\n  learning: { enabled: false, min_observations: 0, half_life_days: "${HALF:-7.5}", prior_strength: 5 }\n',
    );
    expect(load(path).routing.learning).toMatchObject({
      enabled: false,
      min_observations: 0,
      half_life_days: 7.5,
      prior_strength: 5,
      refresh_seconds: 30,
    });
  });

  it('names each bad value by its path', () => {
    const path = scratch.write(
      'routing:\n  learning: { min_observations: -1, half_life_days: 0, prior_strength: -2, refresh_seconds: 0.5, bogus: 1 }\n',
    );
    const problems = problemsOf(() => load(path));
    for (const field of ['min_observations', 'half_life_days', 'prior_strength', 'refresh_seconds']) {
      expect(at(problems, `routing.learning.${field}`), field).toHaveLength(1);
    }
    expect(problems.join('\n')).toMatch(/routing\.learning.*bogus/);
  });
});
