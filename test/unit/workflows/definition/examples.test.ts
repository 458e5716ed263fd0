import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDefinition, render } from '../../../../src/workflows/definition/index.ts';

const DIR = 'examples/workflows';

describe('examples/workflows', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));

  it('has the four examples', () => {
    expect(files.sort()).toEqual([
      'draft-review-revise.yaml',
      'hometown-distance.yaml',
      'plan-then-execute.yaml',
      'review-until-approved.yaml',
    ]);
  });

  for (const file of files) {
    it(`${file} parses cleanly, its name matching the file`, () => {
      const result = parseDefinition(readFileSync(`${DIR}/${file}`, 'utf8'), 'yaml');
      expect(result.ok ? [] : result.problems).toEqual([]);
      if (!result.ok) return;
      expect(`${result.definition.name}.yaml`).toBe(file);
      // A stored (validated) definition parses again to itself.
      const again = parseDefinition(JSON.parse(JSON.stringify(result.definition)));
      expect(again.ok && again.definition).toEqual(result.definition);
    });
  }

  it('plan-then-execute: a JSON plan feeds parallel steps, then a summary', () => {
    const result = parseDefinition(readFileSync(`${DIR}/plan-then-execute.yaml`, 'utf8'));
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    const { definition, dag } = result;
    expect(definition.steps.plan).toMatchObject({ output: 'json', schema: { type: 'object' } });
    expect(dag.children('plan')).toEqual(['research', 'draft', 'risks']);
    expect(dag.parents('summary')).toEqual(['research', 'draft', 'risks']);
    const prompt = render(definition.steps.risks!.prompt!, {
      steps: { plan: { output: { research: 'r', draft: 'd', risks: ['late', 'costly'] } } },
    });
    expect(prompt).toContain('Most serious first: late.');
    expect(prompt).toContain('All risks: ["late","costly"]');
  });

  it('draft-review-revise: until on the draft, back_to from the review', () => {
    const result = parseDefinition(readFileSync(`${DIR}/draft-review-revise.yaml`, 'utf8'));
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    const { definition, dag } = result;
    expect(definition.steps.draft!.until).toMatchObject({ min_score: 7, max_iterations: 3 });
    expect(definition.steps.review!.back_to).toEqual({ step: 'draft', max_loops: 2 });
    expect(dag.between('draft', 'review')).toEqual(['draft', 'review']);
    expect(definition.inputs.words).toEqual({ type: 'number', default: 300 });
  });
});
