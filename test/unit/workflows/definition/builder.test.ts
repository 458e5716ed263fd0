import { describe, expect, it } from 'vitest';
import {
  parallel,
  parseDefinition,
  sequence,
  step,
  workflow,
} from '../../../../src/workflows/definition/index.ts';

describe('builder', () => {
  it('builds hometown-distance with fluent calls', () => {
    const definition = workflow('hometown-distance', {
      inputs: { a: { type: 'string' }, b: { type: 'string' } },
    })
      .parallel([
        step('town_a', { prompt: 'Home town of {{ inputs.a }}?' }),
        step('town_b', { prompt: 'Home town of {{ inputs.b }}?' }),
      ])
      .step('distance', {
        prompt: 'Distance between {{ steps.town_a.output }} and {{ steps.town_b.output }}?',
      })
      .step('check', { type: 'approval' })
      .output('km', '{{ steps.distance.output }}')
      .build();
    expect(definition.steps).toEqual({
      town_a: { prompt: 'Home town of {{ inputs.a }}?' },
      town_b: { prompt: 'Home town of {{ inputs.b }}?' },
      distance: {
        needs: ['town_a', 'town_b'],
        prompt: 'Distance between {{ steps.town_a.output }} and {{ steps.town_b.output }}?',
      },
      check: { type: 'approval', needs: ['distance'] },
    });
    expect(definition.outputs).toEqual({ km: '{{ steps.distance.output }}' });
    const parsed = parseDefinition(definition);
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(parsed.dag.descendants('town_a')).toEqual(['distance', 'check']);
  });

  it('composes step, parallel and sequence functionally, and survives JSON', () => {
    const definition = workflow('plan-then-execute', {
      inputs: { goal: { type: 'string' } },
      max_cost_usd: 1,
    })
      .add(
        sequence([
          step('plan', {
            prompt: 'Plan {{ inputs.goal }}',
            output: 'json',
            schema: { type: 'object', properties: { a: { type: 'string' }, b: { type: 'string' } } },
          }),
          parallel([
            step('do_a', { prompt: '{{ steps.plan.output.a }}' }),
            sequence([
              step('do_b', { prompt: '{{ steps.plan.output.b }}' }),
              step('check_b', { prompt: 'ok?' }),
            ]),
          ]),
          step('summary', { prompt: '{{ steps.do_a.output }} {{ steps.check_b.output }}' }),
        ]),
      )
      .build();
    expect(Object.fromEntries(Object.entries(definition.steps).map(([k, s]) => [k, s.needs]))).toEqual({
      plan: undefined,
      do_a: ['plan'],
      do_b: ['plan'],
      check_b: ['do_b'],
      summary: ['do_a', 'check_b'],
    });
    expect(definition.max_cost_usd).toBe(1);
    const parsed = parseDefinition(JSON.stringify(definition), 'json');
    expect(parsed.ok).toBe(true);
  });

  it('keeps explicit needs and accepts a map in parallel', () => {
    const definition = workflow('w')
      .step('a', { prompt: 'x' })
      .parallel({ b: { prompt: 'y' }, c: { prompt: 'z', needs: [] } })
      .step('d', { prompt: 'w', needs: ['a', 'b'] })
      .build();
    expect(definition.steps.b!.needs).toEqual(['a']);
    expect(definition.steps.c!.needs).toEqual([]);
    expect(definition.steps.d!.needs).toEqual(['a', 'b']);
    expect(parseDefinition(definition).ok).toBe(true);
  });

  it('refuses a step defined twice', () => {
    const builder = workflow('w').step('a', { prompt: 'x' }).step('a', { prompt: 'y' });
    expect(() => builder.build()).toThrow(/step "a" is defined twice/);
  });

  it('produces definitions the parser can still reject', () => {
    const definition = workflow('w')
      .step('a', { prompt: '{{ steps.b.output }}' })
      .step('b', { prompt: 'y' })
      .build();
    const parsed = parseDefinition(definition);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problems[0]!.path).toBe('steps.a.prompt');
  });
});
