import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  parseDefinition,
  toDot,
  toMermaid,
  type WorkflowDefinition,
} from '../../../../src/workflows/definition/index.ts';

function example(name: string): WorkflowDefinition {
  const result = parseDefinition(readFileSync(`examples/workflows/${name}.yaml`, 'utf8'));
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.definition;
}

describe('toMermaid', () => {
  it('draws hometown-distance: nodes with types, edges from needs', () => {
    const text = toMermaid(example('hometown-distance'));
    const lines = text.trim().split('\n');
    expect(lines[0]).toBe('flowchart TD');
    expect(lines).toContain('  town_a["town_a<br/>llm"]');
    expect(lines).toContain('  check{{"check<br/>approval"}}');
    expect(lines.filter((l) => l.includes('-->'))).toEqual([
      '  town_a --> distance',
      '  town_b --> distance',
      '  distance --> check',
    ]);
  });

  it('marks ensembles, json outputs, reviews, until and back_to', () => {
    const plan = toMermaid(example('plan-then-execute'));
    expect(plan).toContain('risks[["risks<br/>ensemble: consensus"]]');
    expect(plan).toContain('plan["plan<br/>llm · json"]');
    const loop = toMermaid(example('draft-review-revise'));
    expect(loop).toContain('review(["review<br/>review"])');
    expect(loop).toContain('  draft -.->|until score ≥ 7, max 3×| draft');
    expect(loop).toContain('  review -.->|back_to, max 2×| draft');
    expect(loop).toContain('  draft --> review');
  });

  it('gives unsafe names safe, unique ids', () => {
    const text = toMermaid({
      name: 'w',
      steps: { end: {}, 'a-b': { needs: ['end'] }, step_a_b: { needs: ['a-b'] } },
    });
    expect(text).toContain('  step_end["end<br/>llm"]');
    expect(text).toContain('  step_a_b_["a-b<br/>llm"]');
    expect(text).toContain('  step_end --> step_a_b_');
    expect(text).toContain('  step_a_b_ --> step_a_b');
  });
});

describe('toDot', () => {
  it('draws hometown-distance', () => {
    const text = toDot(example('hometown-distance'));
    expect(text.startsWith('digraph "hometown-distance" {\n')).toBe(true);
    expect(text).toContain('  "check" [label="check\\napproval", shape=hexagon, style=solid];');
    expect(text).toContain('  "town_a" -> "distance";');
    expect(text).toContain('  "town_b" -> "distance";');
    expect(text).toContain('  "distance" -> "check";');
    expect(text.trim().endsWith('}')).toBe(true);
  });

  it('draws back_to dashed and until as a dashed self-loop', () => {
    const text = toDot(example('draft-review-revise'));
    expect(text).toContain(
      '  "review" -> "draft" [style=dashed, label="back_to, max 2×", constraint=false];',
    );
    expect(text).toContain('  "draft" -> "draft" [style=dashed, label="until score ≥ 7, max 3×"];');
    expect(text).toContain('  "review" [label="review\\nreview", shape=note, style=solid];');
    expect(toDot(example('plan-then-execute'))).toContain(
      '  "risks" [label="risks\\nensemble: consensus", peripheries=2];',
    );
  });
});
