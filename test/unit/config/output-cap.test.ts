/** The budget's output-cap settings: defaults, overrides, and invalid values refused with their path. */
import { afterAll, describe, expect, it } from 'vitest';
import { at, load, problemsOf, scratchDir } from './helpers.ts';

const scratch = scratchDir();
afterAll(() => scratch.cleanup());

const BASE = [
  'providers:',
  '  - { id: up, type: openai, api_key: sk-test }',
  'models:',
  '  - { id: m, provider: up, context_window: 1000, max_output_tokens: 500, price: { input: 1, output: 2 } }',
];

describe('budget output caps in the configuration', () => {
  it('default to 4096 and 256 tokens', () => {
    const config = load(scratch.write(BASE.join('\n')));
    expect(config.budget).toEqual({ default_max_output_tokens: 4096, min_output_tokens: 256 });
  });

  it('take the top level, a team budget’s and a model’s own values', () => {
    const config = load(
      scratch.write(
        [
          ...BASE,
          '  - { id: n, provider: up, context_window: 1000, max_output_tokens: 500, default_max_output_tokens: 300, price: { input: 1, output: 2 } }',
          'budget: { default_max_output_tokens: "2000", min_output_tokens: 100 }',
          'teams:',
          '  - { id: t, budget: { limit_usd: 1, default_max_output_tokens: 1000, min_output_tokens: 50 } }',
        ].join('\n'),
      ),
    );
    expect(config.budget).toEqual({ default_max_output_tokens: 2000, min_output_tokens: 100 });
    expect(config.teams[0]!.budget).toMatchObject({ default_max_output_tokens: 1000, min_output_tokens: 50 });
    expect(config.models.find((m) => m.id === 'n')!.default_max_output_tokens).toBe(300);
  });

  it('refuse zero, negative, fractional and non-numeric values, each naming its field', () => {
    const problems = problemsOf(() =>
      load(
        scratch.write(
          [
            ...BASE,
            'budget: { default_max_output_tokens: 0, min_output_tokens: many }',
            'teams:',
            '  - { id: t, budget: { limit_usd: 1, default_max_output_tokens: -5, min_output_tokens: 2.5 } }',
          ].join('\n'),
        ),
      ),
    );
    expect(at(problems, 'budget.default_max_output_tokens')).toHaveLength(1);
    expect(at(problems, 'budget.min_output_tokens')).toHaveLength(1);
    expect(at(problems, 'teams[0].budget.default_max_output_tokens')).toHaveLength(1);
    expect(at(problems, 'teams[0].budget.min_output_tokens')).toHaveLength(1);
  });

  it('refuse a floor above the allowance, and a model allowance above its max_output_tokens', () => {
    const problems = problemsOf(() =>
      load(
        scratch.write(
          [
            ...BASE,
            '  - { id: n, provider: up, context_window: 1000, max_output_tokens: 500, default_max_output_tokens: 900, price: { input: 1, output: 2 } }',
            'budget: { default_max_output_tokens: 100, min_output_tokens: 200 }',
          ].join('\n'),
        ),
      ),
    );
    expect(at(problems, 'budget.min_output_tokens')).toEqual([
      'budget.min_output_tokens: must not be more than default_max_output_tokens',
    ]);
    expect(at(problems, 'models[1].default_max_output_tokens')[0]).toContain(
      '900 is more than max_output_tokens (500)',
    );
  });
});
