import { describe, expect, it } from 'vitest';
import {
  parseDefinition,
  resolveInputs,
  type WorkflowDefinition,
} from '../../../../src/workflows/definition/index.ts';

function definition(): WorkflowDefinition {
  const result = parseDefinition({
    name: 'w',
    inputs: {
      topic: { type: 'string' },
      words: { type: 'number', default: 300 },
      strict: { type: 'boolean', default: false },
      tags: { type: 'array', default: ['a'] },
      meta: { type: 'object', default: {} },
    },
    steps: { a: { prompt: '{{ inputs.topic }}' } },
  });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.definition;
}

describe('resolveInputs', () => {
  it('applies defaults', () => {
    expect(resolveInputs(definition(), { topic: 't', words: 5 })).toEqual({
      ok: true,
      inputs: { topic: 't', words: 5, strict: false, tags: ['a'], meta: {} },
    });
  });

  it('reports unknown, missing and mistyped inputs', () => {
    expect(resolveInputs(definition(), { topc: 't', words: 'many' })).toEqual({
      ok: false,
      problems: [
        { path: 'inputs.topc', message: expect.stringMatching(/unknown input — did you mean "topic"\?/) },
        { path: 'inputs.topic', message: 'required: give a string' },
        { path: 'inputs.words', message: 'expected a number' },
      ],
    });
    expect(resolveInputs(definition(), 'x')).toMatchObject({ ok: false, problems: [{ path: 'inputs' }] });
  });

  it('reads text values when asked (CLI --input)', () => {
    const result = resolveInputs(
      definition(),
      { topic: '42', words: '12', strict: 'true', tags: '["x","y"]', meta: '{"k":1}' },
      { fromText: true },
    );
    expect(result).toEqual({
      ok: true,
      inputs: { topic: '42', words: 12, strict: true, tags: ['x', 'y'], meta: { k: 1 } },
    });
    expect(resolveInputs(definition(), { topic: 't', words: 'x' }, { fromText: true }).ok).toBe(false);
  });
});
