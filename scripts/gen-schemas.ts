/**
 * The JSON Schemas editors validate and complete Quorum files with — schemas/config.schema.json and
 * schemas/workflow.schema.json — generated from the zod schemas the gateway itself parses with, so they
 * say what the server accepts. `npm run schemas` writes them (then Biome formats them);
 * test/unit/schemas.test.ts fails when the committed files differ from a fresh generation.
 *
 * Draft-07, because that is the draft editors' YAML support (the VS Code YAML extension, and the JSON
 * language service under it) implements fully.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ConfigSchema, ModelFieldsSchema } from '../src/config/schema.ts';
import { STEP_FIELDS } from '../src/workflows/definition/check.ts';
import { STEP_TYPES, WorkflowDefinitionSchema } from '../src/workflows/definition/schema.ts';

export const SCHEMAS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../schemas');

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every subschema of a JSON Schema, parents first (keywords whose values are schemas or lists of them). */
function visit(node: unknown, fn: (schema: Json) => void): void {
  if (Array.isArray(node)) {
    for (const item of node) visit(item, fn);
    return;
  }
  if (!isObject(node)) return;
  fn(node);
  for (const [key, value] of Object.entries(node)) {
    // `default` and `const` are values, not schemas; `properties`, `definitions`… map names to schemas.
    if (key === 'default' || key === 'const' || key === 'enum' || key === 'examples') continue;
    if (['properties', 'patternProperties', 'definitions', '$defs'].includes(key) && isObject(value)) {
      for (const child of Object.values(value)) visit(child, fn);
    } else visit(value, fn);
  }
}

/** Drops what says nothing to an editor: JavaScript's safe-integer bounds, `propertyNames: {type: string}`. */
function tidy(schema: Json): Json {
  visit(schema, (node) => {
    if (node.maximum === Number.MAX_SAFE_INTEGER) delete node.maximum;
    if (node.minimum === Number.MIN_SAFE_INTEGER) delete node.minimum;
    const names = node.propertyNames;
    if (isObject(names) && Object.keys(names).length === 1 && names.type === 'string') {
      delete node.propertyNames;
    }
  });
  return schema;
}

/**
 * `io: input`: what a person writes (fields with defaults optional), not what parsing returns. zod leaves
 * out the default of a field that is preprocessed (numbers the config may give as `${VAR}` text), since
 * the default is a parsed value; for an editor it is still the value used, so it is put back.
 */
const generate = (schema: z.ZodType) =>
  z.toJSONSchema(schema, {
    target: 'draft-07',
    io: 'input',
    unrepresentable: 'any',
    override: ({ zodSchema, jsonSchema }) => {
      const def = (zodSchema as unknown as { _zod: { def: { type: string; defaultValue?: unknown } } })._zod
        .def;
      if ((def.type === 'default' || def.type === 'prefault') && jsonSchema.default === undefined) {
        jsonSchema.default = JSON.parse(JSON.stringify(def.defaultValue));
      }
    },
  }) as Json;

/** The title and description first, where a person opening the file reads. */
const head = ({ $schema, description, ...rest }: Json, title: string): Json => ({
  $schema,
  title,
  description,
  ...rest,
});

/** A `${VAR}` / `${VAR:-default}` reference, which the configuration loader substitutes before checking. */
const INTERPOLATION: Json = {
  type: 'string',
  pattern: '\\$\\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\\}',
  description:
    'A ${VAR} or ${VAR:-default} reference, replaced by the environment variable when the file is loaded.',
};

/**
 * Where the loader accepts a `${VAR}` reference that a JSON Schema of the parsed value would refuse:
 * numbers (a numeric result becomes a number) and constrained strings (the result is checked, not the
 * reference). Booleans are not: the text `true` is not a boolean to the loader.
 */
function allowInterpolation(schema: Json): void {
  const constrained: Json[] = [];
  visit(schema, (node) => {
    if (
      node.type === 'number' ||
      node.type === 'integer' ||
      (node.type === 'string' && ('pattern' in node || 'enum' in node || 'format' in node))
    ) {
      constrained.push(node);
    }
  });
  for (const node of constrained) {
    const { description, default: fallback, ...value } = node;
    for (const key of Object.keys(node)) delete node[key];
    Object.assign(node, {
      ...(description !== undefined && { description }),
      ...(fallback !== undefined && { default: fallback }),
      anyOf: [value, { $ref: '#/definitions/interpolation' }],
    });
  }
}

/**
 * The configuration file. Its `models` entries are checked by the loader after merging the catalog
 * entry of the same id, so here every model field but `id` is optional (a catalog id needs no more).
 */
export function configJsonSchema(): Json {
  const editable = ConfigSchema.extend({
    models: z
      .array(ModelFieldsSchema.partial().required({ id: true }))
      .optional()
      .describe(ConfigSchema.shape.models.description ?? ''),
  });
  const schema = tidy(generate(editable));
  allowInterpolation(schema);
  return {
    ...head(schema, 'Quorum configuration'),
    definitions: { ...(schema.definitions as Json | undefined), interpolation: INTERPOLATION },
  };
}

/** `if type is T then only T's fields, and T's required ones` — `llm` also when `type` is left out. */
function stepTypeRules(): Json[] {
  return STEP_TYPES.map((type) => ({
    if: {
      properties: { type: { const: type } },
      ...(type === 'llm' ? {} : { required: ['type'] }),
    },
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword, never awaited
    then: {
      propertyNames: { enum: [...STEP_FIELDS[type].fields] },
      ...(STEP_FIELDS[type].required.length ? { required: [...STEP_FIELDS[type].required] } : {}),
    },
  }));
}

/** A workflow definition. */
export function workflowJsonSchema(): Json {
  const schema = tidy(generate(WorkflowDefinitionSchema));
  const step = ((schema.properties as Json).steps as Json).additionalProperties as Json;
  step.allOf = stepTypeRules();
  return head(schema, 'Quorum workflow');
}

/** File name → its schema. */
export function generateSchemas(): Record<string, Json> {
  return { 'config.schema.json': configJsonSchema(), 'workflow.schema.json': workflowJsonSchema() };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  mkdirSync(SCHEMAS_DIR, { recursive: true });
  for (const [name, schema] of Object.entries(generateSchemas())) {
    writeFileSync(join(SCHEMAS_DIR, name), `${JSON.stringify(schema, null, 2)}\n`);
    process.stdout.write(`wrote schemas/${name}\n`);
  }
}
