import { describe, expect, it } from 'vitest';
import {
  builtinSchemaCompiler,
  checkSchema,
  validateAgainst,
} from '../../../../src/workflows/definition/index.ts';

describe('checkSchema', () => {
  it('accepts common schemas', () => {
    expect(
      checkSchema({
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        type: 'object',
        properties: {
          tasks: { type: 'array', items: { $ref: '#/$defs/task' }, minItems: 1 },
          mode: { enum: ['a', 'b'] },
          n: { type: ['integer', 'null'], minimum: 0 },
          'x-extra': true,
        },
        required: ['tasks'],
        additionalProperties: false,
        $defs: { task: { type: 'object', properties: { name: { type: 'string', pattern: '^[a-z]+$' } } } },
        'x-vendor': 1,
      }),
    ).toEqual([]);
  });

  it('reports each structural problem with its path', () => {
    expect(
      checkSchema({
        type: 'obj',
        properties: { a: { type: 'string', minLength: 'two' }, b: 5 },
        requird: ['a'],
        anyOf: [],
        pattern: '(',
        $ref: 'https://example.com/s.json',
      }),
    ).toEqual([
      { path: 'type', message: expect.stringMatching(/type must be one of/) },
      { path: 'properties.a.minLength', message: 'minLength must be a non-negative integer' },
      { path: 'properties.b', message: 'a schema must be an object (or true/false)' },
      { path: 'requird', message: 'unknown JSON Schema keyword "requird" — did you mean "required"?' },
      { path: 'anyOf', message: 'anyOf must be a non-empty list of schemas' },
      { path: 'pattern', message: 'pattern must be a valid regular expression' },
      { path: '$ref', message: expect.stringMatching(/must point inside this schema/) },
    ]);
  });
});

describe('validateAgainst', () => {
  const schema = {
    type: 'object',
    properties: {
      title: { type: 'string', minLength: 1 },
      tasks: { type: 'array', items: { $ref: '#/$defs/task' }, maxItems: 2, uniqueItems: true },
      level: { enum: ['low', 'high'] },
      n: { type: 'integer', minimum: 0, exclusiveMaximum: 10 },
    },
    required: ['title', 'tasks'],
    additionalProperties: false,
    $defs: { task: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } },
  };

  it('accepts a matching value', () => {
    expect(validateAgainst(schema, { title: 't', tasks: [{ name: 'a' }], level: 'low', n: 3 })).toEqual({
      ok: true,
    });
  });

  it('lists what does not match, with instance paths', () => {
    const result = validateAgainst(schema, {
      title: '',
      tasks: [{ name: 1 }, {}, { name: 'c' }],
      level: 'mid',
      n: 10,
      x: 1,
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual([
      '/title: must have at least 1 characters',
      '/tasks: must have at most 2 items',
      '/tasks/0/name: must be string (got number)',
      '/tasks/1: must have property "name"',
      '/level: must be one of "low", "high"',
      '/n: must be < 10',
      '(root): must not have property "x"',
    ]);
    expect(validateAgainst(schema, [])).toEqual({
      ok: false,
      errors: ['(root): must be object (got array)'],
    });
  });

  it('handles anyOf, oneOf, not, const and if/then', () => {
    const s = {
      anyOf: [{ type: 'string' }, { type: 'number' }],
      not: { const: 'no' },
      if: { type: 'number' },
      // biome-ignore lint/suspicious/noThenProperty: the JSON Schema keyword
      then: { multipleOf: 2 },
    };
    expect(validateAgainst(s, 'yes').ok).toBe(true);
    expect(validateAgainst(s, 4).ok).toBe(true);
    expect(validateAgainst(s, 3)).toEqual({ ok: false, errors: ['(root): must be a multiple of 2'] });
    expect(validateAgainst(s, 'no')).toEqual({ ok: false, errors: ['(root): must not match "not"'] });
    expect(validateAgainst(s, true).ok).toBe(false);
    const one = { oneOf: [{ type: 'integer' }, { type: 'number' }] };
    expect(validateAgainst(one, 1.5).ok).toBe(true);
    expect(validateAgainst(one, 1)).toEqual({
      ok: false,
      errors: ['(root): must match exactly one of oneOf (matched 2)'],
    });
  });

  it('stops on a recursive $ref', () => {
    const result = validateAgainst({ $ref: '#' }, 1);
    expect(result.ok).toBe(false);
  });

  it('is what the built-in compiler returns', () => {
    const compiled = builtinSchemaCompiler.compile({ type: 'string' });
    expect(compiled.ok).toBe(true);
    if (compiled.ok) {
      expect(compiled.validate('x')).toEqual({ ok: true });
      expect(compiled.validate(1)).toEqual({ ok: false, errors: ['(root): must be string (got number)'] });
    }
    expect(builtinSchemaCompiler.compile({ type: 'nope' }).ok).toBe(false);
  });
});
