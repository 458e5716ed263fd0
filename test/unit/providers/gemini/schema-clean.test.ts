import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { cleanSchema } from '../../../../src/providers/gemini/schema-clean.ts';
import { schemaViolations } from '../../../fakes/gemini.ts';

// A recursive zod schema, as an app would declare a tool or a structured output with it.
const TreeNode: z.ZodType = z.object({
  name: z.string(),
  get children() {
    return z.array(TreeNode);
  },
});
const zodV4 = z.toJSONSchema(
  z.object({
    kind: z.literal('tree'),
    status: z.enum(['open', 'closed']).nullable(),
    root: TreeNode,
    email: z.email().optional(),
    count: z.number().int().min(1).default(3),
    id: z.union([z.string(), z.number()]),
  }),
) as Record<string, unknown>;

/** zod-to-json-schema (v3 library) output: draft-07, `definitions`, relative `#/properties/…` refs. */
const zodToJsonSchemaV3 = {
  type: 'object',
  properties: {
    billing: { $ref: '#/definitions/Address' },
    shipping: { $ref: '#/properties/billing', description: 'Where to ship' },
    tags: { type: 'array', items: { type: 'string' }, uniqueItems: true, minItems: 1 },
  },
  required: ['billing', 'nope'],
  additionalProperties: false,
  definitions: {
    Address: {
      type: 'object',
      properties: { street: { type: 'string' }, zip: { type: 'string', pattern: '^[0-9]{5}$' } },
      required: ['street'],
      additionalProperties: false,
    },
  },
  $schema: 'http://json-schema.org/draft-07/schema#',
};

/** Pydantic v2 `model_json_schema()`: $defs, title everywhere, Optional as anyOf with null. */
const pydantic = {
  $defs: {
    Pet: {
      properties: { kind: { enum: ['cat', 'dog'], title: 'Kind', type: 'string' } },
      required: ['kind'],
      title: 'Pet',
      type: 'object',
    },
  },
  properties: {
    nickname: { anyOf: [{ type: 'string' }, { type: 'null' }], default: null, title: 'Nickname' },
    pet: { anyOf: [{ $ref: '#/$defs/Pet' }, { type: 'null' }], description: 'Their pet' },
    age: { exclusiveMinimum: 0, type: 'integer', title: 'Age' },
  },
  required: ['age'],
  title: 'Person',
  type: 'object',
};

/** An MCP server's inputSchema: type arrays, oneOf, const, allOf, patternProperties. */
const mcp = {
  type: 'object',
  properties: {
    path: { type: ['string', 'null'], format: 'uri' },
    mode: { oneOf: [{ const: 'read' }, { const: 'write' }] },
    level: { enum: [1, 2, 3] },
    env: { type: 'object', patternProperties: { '^[A-Z_]+$': { type: 'string' } } },
    opts: {
      allOf: [
        { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] },
        { properties: { b: { type: 'boolean' } }, required: ['b'] },
      ],
    },
  },
  strict: true,
};

describe('cleanSchema', () => {
  it.each([
    ['zod v4 toJSONSchema (recursive $defs, const, type arrays)', zodV4],
    ['zod-to-json-schema v3 (definitions, relative refs)', zodToJsonSchemaV3],
    ['pydantic v2 (Optional, $defs, exclusiveMinimum)', pydantic],
    ['MCP inputSchema (oneOf, const, allOf, patternProperties)', mcp],
  ])('%s: Gemini would refuse it as is, and accepts it cleaned', (_name, schema) => {
    expect(schemaViolations(schema, 'parameters')).not.toEqual([]);
    expect(schemaViolations(cleanSchema(schema), 'parameters')).toEqual([]);
  });

  it('inlines $defs refs and cuts recursion instead of looping', () => {
    const out = cleanSchema(zodV4) as any;
    expect(out.properties.root.type).toBe('object');
    expect(out.properties.root.properties.name).toEqual({ type: 'string' });
    // One level of recursion is expanded, the cycle back to itself becomes an open object.
    const child = out.properties.root.properties.children.items;
    expect(child).toEqual({ type: 'object' });
    expect(out.$defs).toBeUndefined();
    expect(out.$schema).toBeUndefined();
    expect(out.additionalProperties).toBeUndefined();
  });

  it('turns const into a one-value enum, nullable unions into nullable, type lists into anyOf', () => {
    const out = cleanSchema(zodV4) as any;
    expect(out.properties.kind).toEqual({ type: 'string', enum: ['tree'], format: 'enum' });
    expect(out.properties.status).toEqual({
      type: 'string',
      enum: ['open', 'closed'],
      format: 'enum',
      nullable: true,
    });
    expect(out.properties.id).toEqual({ anyOf: [{ type: 'string' }, { type: 'number' }] });
    // Unsupported string format dropped, regex kept, default kept.
    expect(out.properties.email.format).toBeUndefined();
    expect(out.properties.email.pattern).toBeTypeOf('string');
    expect(out.properties.count).toMatchObject({ type: 'integer', minimum: 1, default: 3 });
    expect(out.required).toEqual(['kind', 'status', 'root', 'count', 'id']);
  });

  it('resolves draft-07 definitions and JSON-pointer refs, keeping the local description', () => {
    const out = cleanSchema(zodToJsonSchemaV3) as any;
    const address = {
      type: 'object',
      properties: { street: { type: 'string' }, zip: { type: 'string', pattern: '^[0-9]{5}$' } },
      required: ['street'],
    };
    expect(out.properties.billing).toEqual(address);
    expect(out.properties.shipping).toEqual({ ...address, description: 'Where to ship' });
    expect(out.properties.tags).toEqual({ type: 'array', items: { type: 'string' }, minItems: 1 });
    // `required` naming an undeclared property is an error upstream: trimmed.
    expect(out.required).toEqual(['billing']);
  });

  it('maps Pydantic Optional[...] to nullable and keeps titles, defaults and descriptions', () => {
    const out = cleanSchema(pydantic) as any;
    expect(out.properties.nickname).toEqual({
      type: 'string',
      title: 'Nickname',
      default: null,
      nullable: true,
    });
    expect(out.properties.pet).toEqual({
      type: 'object',
      title: 'Pet',
      description: 'Their pet',
      properties: { kind: { type: 'string', title: 'Kind', enum: ['cat', 'dog'], format: 'enum' } },
      required: ['kind'],
      nullable: true,
    });
    expect(out.properties.age).toEqual({ type: 'integer', title: 'Age' });
  });

  it('rewrites oneOf of consts, numeric enums, allOf and drops patternProperties / strict', () => {
    const out = cleanSchema(mcp) as any;
    expect(out.strict).toBeUndefined();
    expect(out.properties.path).toEqual({ type: 'string', nullable: true });
    expect(out.properties.mode).toEqual({
      anyOf: [
        { type: 'string', enum: ['read'], format: 'enum' },
        { type: 'string', enum: ['write'], format: 'enum' },
      ],
    });
    expect(out.properties.level).toEqual({ type: 'string', enum: ['1', '2', '3'], format: 'enum' });
    expect(out.properties.env).toEqual({ type: 'object' });
    expect(out.properties.opts).toEqual({
      type: 'object',
      properties: { a: { type: 'string' }, b: { type: 'boolean' } },
      required: ['a', 'b'],
    });
  });

  it('adds propertyOrdering on request so structured output keeps the declared key order', () => {
    const schema = { type: 'object', properties: { zeta: { type: 'string' }, alpha: { type: 'string' } } };
    expect((cleanSchema(schema, { propertyOrdering: true }) as any).propertyOrdering).toEqual([
      'zeta',
      'alpha',
    ]);
    expect((cleanSchema(schema) as any).propertyOrdering).toBeUndefined();
  });

  it('does not modify the schema it was given', () => {
    const copy = structuredClone(zodToJsonSchemaV3);
    cleanSchema(zodToJsonSchemaV3);
    expect(zodToJsonSchemaV3).toEqual(copy);
  });

  it('survives a self-referencing root ($ref: "#")', () => {
    const schema = { type: 'object', properties: { value: { type: 'number' }, next: { $ref: '#' } } };
    const out = cleanSchema(schema) as any;
    expect(out.properties.next.properties.value).toEqual({ type: 'number' });
    expect(schemaViolations(out, 'root')).toEqual([]);
  });
});
