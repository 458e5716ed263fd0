/**
 * The nesting checker bounds what every JSON and YAML body may hold; it must itself survive the
 * bodies it refuses, so the deep inputs here are built in loops, never by recursion.
 */
import { describe, expect, it } from 'vitest';
import { nestingDepthExceeds } from '../../../src/server/nesting.ts';

/** `[[[…]]]` nested `depth` deep. */
function deepArray(depth: number): unknown {
  let value: unknown[] = [];
  for (let i = 1; i < depth; i++) value = [value];
  return value;
}

/** `{"a":{"a":…{}}}` nested `depth` deep. */
function deepObject(depth: number): unknown {
  let value: Record<string, unknown> = {};
  for (let i = 1; i < depth; i++) value = { a: value };
  return value;
}

describe('nestingDepthExceeds', () => {
  it.each([10_000, 1_000_000])('finds an array nested %i deep without overflowing', (depth) => {
    expect(nestingDepthExceeds(deepArray(depth), 64)).toEqual({ path: [0, 0, 0, 0] });
  });

  it('finds an object nested 10,000 deep, naming the first steps of the path', () => {
    expect(nestingDepthExceeds({ tools: [{ parameters: deepObject(10_000) }] }, 64)).toEqual({
      path: ['tools', 0, 'parameters', 'a'],
    });
  });

  it('accepts a value nested exactly to the limit and refuses one level more', () => {
    expect(nestingDepthExceeds(deepArray(64), 64)).toBeUndefined();
    expect(nestingDepthExceeds(deepArray(65), 64)).toBeDefined();
    expect(nestingDepthExceeds({ a: deepObject(63) }, 64)).toBeUndefined();
    expect(nestingDepthExceeds({ a: deepObject(64) }, 64)).toEqual({ path: ['a', 'a', 'a', 'a'] });
  });

  it('counts scalars as depth 0 and empty containers as depth 1', () => {
    for (const scalar of [null, 1, 'x', true]) expect(nestingDepthExceeds(scalar, 0)).toBeUndefined();
    expect(nestingDepthExceeds({}, 0)).toEqual({ path: [] });
    expect(nestingDepthExceeds([], 1)).toBeUndefined();
  });

  it('finds the deep branch among wide shallow ones', () => {
    const wide = Array.from({ length: 10_000 }, (_, i) => ({ i, tags: ['a', 'b'] }));
    expect(nestingDepthExceeds({ wide }, 64)).toBeUndefined();
    expect(nestingDepthExceeds({ wide, late: deepArray(100) }, 64)?.path[0]).toBe('late');
  });

  it('stops on a cycle (shared YAML anchors) instead of walking forever', () => {
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(nestingDepthExceeds(loop, 64)).toBeDefined();
  });
});
