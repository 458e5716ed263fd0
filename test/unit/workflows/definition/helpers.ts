import { expect } from 'vitest';
import {
  type Problem,
  parseDefinition,
  type WorkflowDefinitionInput,
} from '../../../../src/workflows/definition/index.ts';

/** A valid base definition to break one piece of at a time. */
export function base(): WorkflowDefinitionInput {
  return {
    name: 'hometown-distance',
    inputs: { a: { type: 'string' }, b: { type: 'string' } },
    steps: {
      town_a: { prompt: 'Home town of {{ inputs.a }}?' },
      town_b: { prompt: 'Home town of {{ inputs.b }}?' },
      distance: {
        needs: ['town_a', 'town_b'],
        prompt: 'Distance between {{ steps.town_a.output }} and {{ steps.town_b.output }}?',
      },
      check: { type: 'approval', needs: ['distance'] },
    },
    outputs: { km: '{{ steps.distance.output }}' },
  };
}

/** Parses expecting failure; returns the problems. */
export function problemsOf(input: unknown, contentType?: 'yaml' | 'json'): Problem[] {
  const result = parseDefinition(input, contentType);
  if (result.ok) throw new Error('expected problems, the definition parsed');
  return result.problems;
}

/** Asserts exactly one problem at `path` whose message matches `message`, and returns it. */
export function expectProblem(problems: Problem[], path: string, message: RegExp): Problem {
  const at = problems.filter((p) => p.path === path);
  expect(at, `problems at ${path}: ${JSON.stringify(problems, null, 1)}`).toHaveLength(1);
  expect(at[0]!.message).toMatch(message);
  return at[0]!;
}
