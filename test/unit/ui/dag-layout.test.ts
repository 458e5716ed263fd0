/**
 * The dashboard's DAG layout (src/ui/js/dag.js, plain browser JavaScript with no DOM at load): every
 * example workflow and the New workflow starter are laid out with each step right of every step it
 * needs, no two nodes on the same spot, all inside the drawing; and the starter is a valid definition.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { validateDefinition } from '../../../src/workflows/definition/index.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
// Loaded by path at run time: the dashboard's modules are JavaScript, outside the type-checked sources.
const dagModule = join(ROOT, 'src/ui/js/dag.js');
const starterModule = join(ROOT, 'src/ui/js/pages/starter.js');

type Layout = { pos: Map<string, { x: number; y: number }>; width: number; height: number };
const { layout } = (await import(dagModule)) as {
  layout: (steps: Record<string, { needs?: string[] }>) => Layout;
};
const { STARTER } = (await import(starterModule)) as { STARTER: string };

const examples = readdirSync(join(ROOT, 'examples/workflows'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => [f, readFileSync(join(ROOT, 'examples/workflows', f), 'utf8')] as const);

describe('the DAG layout', () => {
  for (const [name, text] of [...examples, ['the starter', STARTER] as const]) {
    it(`lays out ${name}: needs to the left, no overlaps, inside the drawing`, () => {
      const parsed = validateDefinition(parse(text));
      expect(parsed.ok, JSON.stringify(!parsed.ok && parsed.problems)).toBe(true);
      if (!parsed.ok) return;
      const steps = parsed.definition.steps as Record<string, { needs?: string[] }>;
      const { pos, width, height } = layout(steps);
      expect([...pos.keys()].sort()).toEqual(Object.keys(steps).sort());
      const spots = new Set<string>();
      for (const [step, p] of pos) {
        for (const need of steps[step]!.needs ?? [])
          expect(pos.get(need)!.x, `${need} → ${step}`).toBeLessThan(p.x);
        spots.add(`${p.x},${p.y}`);
        expect(p.x).toBeGreaterThanOrEqual(0);
        expect(p.y).toBeGreaterThanOrEqual(0);
        expect(p.x).toBeLessThan(width);
        expect(p.y).toBeLessThan(height);
      }
      expect(spots.size).toBe(pos.size);
    });
  }
});
