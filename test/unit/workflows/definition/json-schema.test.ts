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
          email: { type: 'string', format: 'email' },
        },
        required: ['tasks'],
        additionalProperties: false,
        $defs: { task: { type: 'object', properties: { name: { type: 'string', pattern: '^[a-z]+$' } } } },
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
        patternProperties: { '[': true },
        allOf: [{ type: 'string', 'x-vendor': 1 }],
        $ref: 'https://example.com/s.json',
      }),
    ).toEqual(
      expect.arrayContaining([
        { path: 'type', message: expect.stringMatching(/allowed values: .*"object".* or must be array/) },
        { path: 'properties.a.minLength', message: 'must be integer' },
        { path: 'properties.b', message: 'must be object,boolean' },
        { path: 'requird', message: 'unknown JSON Schema keyword "requird" — did you mean "required"?' },
        { path: 'allOf[0].x-vendor', message: 'unknown JSON Schema keyword "x-vendor"' },
        { path: 'anyOf', message: 'must NOT have fewer than 1 items' },
        { path: 'pattern', message: 'must match format "regex"' },
        { path: 'patternProperties.[', message: 'must match format "regex"' },
        { path: '$ref', message: 'must match pattern "^#"' },
      ]),
    );
    expect(checkSchema({ type: 'obj', pattern: '(' })).toHaveLength(2);
  });

  it('reports what only compiling finds at the root', () => {
    expect(checkSchema({ $ref: '#/$defs/nope' })).toEqual([
      { path: '(root)', message: expect.stringMatching(/can't resolve reference #\/\$defs\/nope/) },
    ]);
    expect(checkSchema({ type: 'string', format: 'nope' })).toEqual([
      { path: '(root)', message: expect.stringMatching(/unknown format "nope"/) },
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
      '(root): must NOT have additional properties ("x")',
      '/title: must NOT have fewer than 1 characters',
      '/tasks: must NOT have more than 2 items',
      '/tasks/0/name: must be string',
      "/tasks/1: must have required property 'name'",
      '/level: must be equal to one of the allowed values: "low", "high"',
      '/n: must be < 10',
    ]);
    expect(validateAgainst(schema, [])).toEqual({ ok: false, errors: ['(root): must be object'] });
    expect(validateAgainst(schema, { title: 't', tasks: [{ name: 'a' }, { name: 'a' }] })).toEqual({
      ok: false,
      errors: [expect.stringMatching(/^\/tasks: must NOT have duplicate items/)],
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
    expect(validateAgainst(s, 3)).toEqual({
      ok: false,
      errors: ['(root): must be multiple of 2', '(root): must match "then" schema'],
    });
    expect(validateAgainst(s, 'no')).toEqual({ ok: false, errors: ['(root): must NOT be valid'] });
    expect(validateAgainst(s, true).ok).toBe(false);
    const one = { oneOf: [{ type: 'integer' }, { type: 'number' }] };
    expect(validateAgainst(one, 1.5).ok).toBe(true);
    expect(validateAgainst(one, 1)).toEqual({
      ok: false,
      errors: ['(root): must match exactly one schema in oneOf'],
    });
  });

  it('checks formats and follows recursive $refs', () => {
    expect(validateAgainst({ type: 'string', format: 'email' }, 'a@b.example')).toEqual({ ok: true });
    expect(validateAgainst({ type: 'string', format: 'email' }, 'nope')).toEqual({
      ok: false,
      errors: ['(root): must match format "email"'],
    });
    const tree = { type: 'object', properties: { children: { type: 'array', items: { $ref: '#' } } } };
    expect(validateAgainst(tree, { children: [{ children: [] }] })).toEqual({ ok: true });
    expect(validateAgainst(tree, { children: [{ children: [1] }] })).toEqual({
      ok: false,
      errors: ['/children/0/children/0: must be object'],
    });
  });

  it('stops on a recursive $ref', () => {
    const result = validateAgainst({ $ref: '#' }, 1);
    expect(result.ok).toBe(false);
  });

  it('refuses values for a schema it cannot compile', () => {
    expect(validateAgainst({ type: 'nope' }, 1)).toEqual({
      ok: false,
      errors: [expect.stringMatching(/^invalid schema at type: must be equal to one of the allowed values/)],
    });
  });

  it('is what the built-in compiler returns', () => {
    const compiled = builtinSchemaCompiler.compile({ type: 'string' });
    expect(compiled.ok).toBe(true);
    if (compiled.ok) {
      expect(compiled.validate('x')).toEqual({ ok: true });
      expect(compiled.validate(1)).toEqual({ ok: false, errors: ['(root): must be string'] });
    }
    expect(builtinSchemaCompiler.compile({ type: 'nope' }).ok).toBe(false);
  });

  it('compiles each schema object once', () => {
    const schema = { type: 'string' };
    expect(builtinSchemaCompiler.compile(schema)).toBe(builtinSchemaCompiler.compile(schema));
  });

  it('lets different schemas share an $id', () => {
    const a = builtinSchemaCompiler.compile({ $id: 'https://example.com/out', type: 'string' });
    const b = builtinSchemaCompiler.compile({ $id: 'https://example.com/out', type: 'number' });
    expect(a.ok && a.validate('x')).toEqual({ ok: true });
    expect(b.ok && b.validate(1)).toEqual({ ok: true });
    // even the meta-schema's own, without breaking later checks
    const meta = 'https://json-schema.org/draft/2020-12/schema';
    expect(checkSchema({ $schema: meta, $id: meta, type: 'string' })).toEqual([]);
    expect(checkSchema({ $schema: meta, type: 'strin' })).toEqual([
      { path: 'type', message: expect.stringMatching(/allowed values/) },
    ]);
  });
});

describe('patterns run in linear time', () => {
  // 2^60 steps for a backtracking engine: without RE2 this test never ends.
  const evil = { type: 'object', properties: { code: { type: 'string', pattern: '^(a+)+$' } } };

  it('a nested-quantifier pattern answers at once on the input that stalls a backtracking engine', () => {
    expect(validateAgainst(evil, { code: `${'a'.repeat(60)}!` })).toEqual({
      ok: false,
      errors: ['/code: must match pattern "^(a+)+$"'],
    });
    expect(validateAgainst(evil, { code: 'a'.repeat(60) })).toEqual({ ok: true });
  });

  it('patternProperties run on the same engine', () => {
    const schema = { type: 'object', patternProperties: { '^(x|xx)+$': { type: 'integer' } } };
    expect(validateAgainst(schema, { [`${'x'.repeat(60)}y`]: 'free' })).toEqual({ ok: true });
    expect(validateAgainst(schema, { xxxx: 'no' }).ok).toBe(false);
  });

  it('reads unicode classes and \\u escapes as ECMAScript does', () => {
    const schema = {
      type: 'object',
      properties: {
        name: { type: 'string', pattern: '^\\p{L}+$' },
        ascii: { type: 'string', pattern: '^[\\u0020-\\u007E]*$' },
      },
    };
    expect(validateAgainst(schema, { name: 'Zoë', ascii: 'plain text' })).toEqual({ ok: true });
    expect(validateAgainst(schema, { name: 'Zoë1', ascii: 'naïve' })).toEqual({
      ok: false,
      errors: ['/name: must match pattern "^\\p{L}+$"', '/ascii: must match pattern "^[\\u0020-\\u007E]*$"'],
    });
  });

  it('refuses lookarounds and backreferences where they stand, saying why', () => {
    expect(
      checkSchema({
        type: 'object',
        properties: {
          a: { type: 'string', pattern: '^(?=.*\\d).+$' },
          b: { type: 'string', pattern: '(x)\\1' },
        },
        patternProperties: { '^(?!_)': true },
      }),
    ).toEqual([
      {
        path: 'properties.a.pattern',
        message: expect.stringMatching(/cannot run in linear time .*lookarounds/),
      },
      {
        path: 'properties.b.pattern',
        message: expect.stringMatching(/cannot run in linear time .*backreferences/),
      },
      { path: 'patternProperties.^(?!_)', message: expect.stringMatching(/cannot run in linear time/) },
    ]);
  });
});
