/**
 * The schema check behind `schema_failure`: certain violations are found, and a hostile schema (a
 * catastrophic pattern, thousands of properties, deep nesting) costs bounded work instead of blocking the
 * event loop. The bound is a count of checks, so these assertions hold however slow the machine is.
 */
import { describe, expect, it } from 'vitest';
import { breaksSchema } from '../../../src/learning/schema-check.ts';

const OBJECT = {
  type: 'object',
  properties: {
    n: { type: 'integer' },
    tags: { type: 'array', items: { type: 'string', enum: ['a', 'b'] } },
    kind: { const: 'x' },
    nested: { type: 'object', required: ['id'], additionalProperties: false, properties: { id: {} } },
  },
  required: ['n'],
};

describe('breaksSchema', () => {
  it('finds what certainly breaks the schema', () => {
    expect(breaksSchema(OBJECT, 'not json')).toBe(true);
    expect(breaksSchema(OBJECT, '[1]')).toBe(true);
    expect(breaksSchema(OBJECT, '{}')).toBe(true);
    expect(breaksSchema(OBJECT, '{"n": 1.5}')).toBe(true);
    expect(breaksSchema(OBJECT, '{"n": 1, "tags": ["a", "c"]}')).toBe(true);
    expect(breaksSchema(OBJECT, '{"n": 1, "kind": "y"}')).toBe(true);
    expect(breaksSchema(OBJECT, '{"n": 1, "nested": {}}')).toBe(true);
    expect(breaksSchema(OBJECT, '{"n": 1, "nested": {"id": 1, "extra": 2}}')).toBe(true);
    expect(breaksSchema({ type: ['string', 'null'] }, '3')).toBe(true);
  });

  it('passes what holds, and what it cannot judge', () => {
    expect(
      breaksSchema(OBJECT, '{"n": 1, "tags": ["a"], "kind": "x", "nested": {"id": 2}, "more": true}'),
    ).toBe(false);
    expect(breaksSchema({ type: ['string', 'null'] }, 'null')).toBe(false);
    expect(breaksSchema({ anyOf: [{ type: 'string' }] }, '3')).toBe(false);
    expect(breaksSchema({ $ref: '#' }, '3')).toBe(false);
    // A client's schema and a model's answer may both name `__proto__`: an own key like any other.
    const proto = JSON.parse('{"type": "object", "properties": {"__proto__": {"type": "string"}}}');
    expect(breaksSchema(proto, '{"__proto__": 1}')).toBe(true);
    expect(breaksSchema(proto, '{"__proto__": "x"}')).toBe(false);
  });

  it('never runs the schema’s patterns: a catastrophic one is not evaluated', () => {
    const text = JSON.stringify(`${'a'.repeat(40)}!`);
    expect(breaksSchema({ type: 'string', pattern: '^(a+)+$' }, text)).toBe(false);
  });

  it('checks a bounded number of nodes, however large or deep the schema and the answer', () => {
    const wide = {
      type: 'object',
      properties: Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`p${i}`, { type: 'string' }])),
    };
    const answer = JSON.stringify(
      Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`p${i}`, 'x'])),
    );
    // A violation past the budget is not seen: the check stopped counting rather than walk 50,000 nodes.
    const late = answer.replace('"p49999":"x"', '"p49999":1');
    expect(breaksSchema(wide, late)).toBe(false);
    expect(breaksSchema(wide, answer.replace('"p1":"x"', '"p1":1'))).toBe(true);
    let deep: Record<string, unknown> = { type: 'string' };
    let value: unknown = 1;
    for (let i = 0; i < 1_000; i++) {
      deep = { type: 'array', items: deep };
      value = [value];
    }
    expect(breaksSchema(deep, JSON.stringify(value))).toBe(false);
  });
});
