import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildDag, findCycles, parseDefinition } from '../../../../src/workflows/definition/index.ts';

function hometown() {
  const result = parseDefinition(readFileSync('examples/workflows/hometown-distance.yaml', 'utf8'));
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.dag;
}

describe('Dag', () => {
  it('orders hometown-distance and answers the relations', () => {
    const dag = hometown();
    expect(dag.order).toEqual(['town_a', 'town_b', 'distance', 'check']);
    expect(dag.roots()).toEqual(['town_a', 'town_b']);
    expect(dag.leaves()).toEqual(['check']);
    expect(dag.parents('distance')).toEqual(['town_a', 'town_b']);
    expect(dag.children('town_a')).toEqual(['distance']);
    expect(dag.ancestors('check')).toEqual(['town_a', 'town_b', 'distance']);
  });

  it('gives exactly the descendants to re-run when town_a is edited', () => {
    const dag = hometown();
    expect(dag.descendants('town_a')).toEqual(['distance', 'check']);
    expect(dag.descendants('distance')).toEqual(['check']);
    expect(dag.descendants('check')).toEqual([]);
  });

  it('keeps definition order among steps that could go either way', () => {
    const dag = buildDag({
      z: { needs: ['m'] },
      a: {},
      m: {},
      b: { needs: ['a'] },
      c: { needs: ['z', 'b'] },
    });
    expect(dag.order).toEqual(['a', 'm', 'z', 'b', 'c']);
    expect(dag.roots()).toEqual(['a', 'm']);
    expect(dag.ancestors('c')).toEqual(['a', 'm', 'z', 'b']);
    expect(dag.children('a')).toEqual(['b']);
  });

  it('is deterministic on a diamond and gives the steps between two steps', () => {
    const dag = buildDag({
      start: {},
      left: { needs: ['start'] },
      right: { needs: ['start'] },
      side: {},
      join: { needs: ['right', 'left', 'side'] },
      end: { needs: ['join'] },
    });
    expect(dag.order).toEqual(['start', 'left', 'right', 'side', 'join', 'end']);
    expect(dag.parents('join')).toEqual(['right', 'left', 'side']);
    expect(dag.descendants('start')).toEqual(['left', 'right', 'join', 'end']);
    expect(dag.between('start', 'join')).toEqual(['start', 'left', 'right', 'join']);
    expect(dag.between('left', 'end')).toEqual(['left', 'join', 'end']);
    expect(dag.between('side', 'left')).toEqual([]);
  });

  it('refuses unknown steps, unknown needs and cycles', () => {
    expect(() => hometown().descendants('nope')).toThrow(/unknown step "nope"/);
    expect(() => buildDag({ a: { needs: ['b'] } })).toThrow(/needs "b", which is not a step/);
    expect(() => buildDag({ a: { needs: ['b'] }, b: { needs: ['a'] } })).toThrow(/cycle a → b → a/);
  });

  it('handles a long chain without recursion limits', () => {
    const steps: Record<string, { needs?: string[] }> = { s0: {} };
    for (let i = 1; i < 5000; i++) steps[`s${i}`] = { needs: [`s${i - 1}`] };
    const dag = buildDag(steps);
    expect(dag.order[4999]).toBe('s4999');
    expect(dag.descendants('s4998')).toEqual(['s4999']);
    expect(findCycles(new Map(Object.entries(steps).map(([k, v]) => [k, v.needs ?? []])))).toEqual([]);
  });
});

describe('findCycles', () => {
  it('finds one cycle per strongly connected group, ignoring unknown needs', () => {
    const graph = new Map<string, string[]>([
      ['a', ['b', 'ghost']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['d']],
      ['e', ['a']],
      ['f', ['g']],
      ['g', ['f']],
    ]);
    expect(findCycles(graph)).toEqual([
      ['a', 'b', 'c', 'a'],
      ['d', 'd'],
      ['f', 'g', 'f'],
    ]);
  });
});
