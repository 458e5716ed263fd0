/** Which schemas strict structured outputs accept, and the name a step's schema is sent under. */
import { describe, expect, it } from 'vitest';
import { jsonSchemaFormat, schemaName, strictCompatible } from '../../../src/workflows/response-format.ts';

const closed = (properties: Record<string, unknown>) => ({
  type: 'object',
  properties,
  required: Object.keys(properties),
  additionalProperties: false,
});

describe('strictCompatible', () => {
  it('accepts closed objects with every property required, nested through items, anyOf and $defs', () => {
    const schema = {
      ...closed({
        tasks: { type: 'array', items: closed({ title: { type: 'string' }, done: { type: 'boolean' } }) },
        owner: { anyOf: [{ type: 'null' }, { $ref: '#/$defs/person' }] },
      }),
      $defs: { person: closed({ name: { type: 'string', description: 'full name' } }) },
    };
    expect(strictCompatible(schema)).toBe(true);
  });

  it.each([
    ['a non-object root', { type: 'array', items: { type: 'string' } }],
    ['an open object', { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] }],
    [
      'an optional property',
      { type: 'object', properties: { a: { type: 'string' } }, required: [], additionalProperties: false },
    ],
    ['a keyword outside the subset', closed({ a: { type: 'string', minLength: 1 } })],
    ['an open nested object', closed({ a: { type: 'object', properties: {} } })],
    ['a root anyOf', { ...closed({}), anyOf: [closed({})] }],
  ])('refuses %s', (_, schema) => {
    expect(strictCompatible(schema as Record<string, unknown>)).toBe(false);
  });
});

describe('jsonSchemaFormat', () => {
  it('names the schema after the step, and says strict only when it is', () => {
    expect(jsonSchemaFormat('plan', closed({ a: { type: 'string' } }))).toEqual({
      type: 'json_schema',
      json_schema: { name: 'plan', schema: closed({ a: { type: 'string' } }), strict: true },
    });
    const loose = { type: 'object' };
    expect(jsonSchemaFormat('plan', loose)).toEqual({
      type: 'json_schema',
      json_schema: { name: 'plan', schema: loose },
    });
  });

  it('keeps names within what providers accept', () => {
    expect(schemaName('draft-2_b')).toBe('draft-2_b');
    expect(schemaName('a.b c')).toBe('a_b_c');
    expect(schemaName('x'.repeat(80))).toHaveLength(64);
    expect(schemaName('')).toBe('output');
  });
});
