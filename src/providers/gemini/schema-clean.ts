/**
 * JSON Schema → Gemini `Schema` (the OpenAPI 3.0 subset the Gemini API accepts in
 * `functionDeclarations[].parameters` and `generationConfig.responseSchema`).
 *
 * Gemini parses these fields as protobuf messages, so any keyword outside the subset fails the whole
 * request with 400 `Invalid JSON payload received. Unknown name "additionalProperties" … Cannot find
 * field.` Apps send what zod-to-json-schema, Pydantic or MCP servers produce, so we rewrite rather
 * than reject:
 *
 * - kept: type, format (only the ones Gemini documents, see FORMATS), title, description, nullable,
 *   enum (as strings), default, example, items, minItems, maxItems, properties, required,
 *   propertyOrdering, minProperties, maxProperties, minLength, maxLength, pattern, minimum, maximum, anyOf;
 * - rewritten: `$ref` (inlined from `$defs`/`definitions`/any JSON pointer; a cycle is cut to a bare
 *   `{type: object}` since Gemini schemas cannot recurse), `const` → one-value enum, `oneOf` → anyOf,
 *   `allOf` → merged into one schema, `type: [T, 'null']` / `anyOf: [X, {type: null}]` → nullable,
 *   `type: [A, B]` → anyOf, `examples[0]` → example, `required` trimmed to declared properties;
 * - dropped: everything else — `$schema`, `$id`, `$comment`, `$defs`, `definitions`,
 *   `additionalProperties`, `patternProperties`, `propertyNames`, `unevaluated*`, `strict`,
 *   `exclusiveMinimum`/`exclusiveMaximum`, `multipleOf`, `uniqueItems`, `contains`, `not`,
 *   `if`/`then`/`else`, `dependentRequired`, `readOnly`/`writeOnly`, `deprecated`, `content*`, ….
 */

type Json = Record<string, unknown>;

/** Formats Gemini accepts per type; others are dropped (they fail on older models). */
const FORMATS: Record<string, readonly string[]> = {
  string: ['enum', 'date-time'],
  number: ['float', 'double'],
  integer: ['int32', 'int64'],
};

/** Keywords copied as they are (after the rewrites above). */
const PASSTHROUGH = [
  'title',
  'description',
  'default',
  'example',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'minLength',
  'maxLength',
  'pattern',
  'minimum',
  'maximum',
] as const;

const TYPES = new Set(['string', 'number', 'integer', 'boolean', 'array', 'object']);

export interface CleanOptions {
  /** Add `propertyOrdering` (declaration order) so structured output keeps the app's key order. */
  propertyOrdering?: boolean;
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Returns a new Gemini-compatible schema; the input is not modified. */
export function cleanSchema(schema: unknown, options: CleanOptions = {}): Json {
  if (!isObject(schema)) return {};
  return clean(schema, { root: schema, refs: [], options });
}

interface Ctx {
  root: Json;
  /** `$ref`s being expanded on the current path, to cut cycles. */
  refs: string[];
  options: CleanOptions;
}

function resolvePointer(root: Json, ref: string): Json | undefined {
  if (ref === '#') return root;
  if (!ref.startsWith('#/')) return undefined; // remote refs cannot be fetched
  let node: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) node = node[Number(key)];
    else if (isObject(node)) node = node[key];
    else return undefined;
  }
  return isObject(node) ? node : undefined;
}

/** Inlines `$ref` (keeping sibling keywords such as a local description) and merges `allOf`. */
function expand(schema: Json, ctx: Ctx): { schema: Json; ctx: Ctx } {
  let current = schema;
  let refs = ctx.refs;
  while (typeof current.$ref === 'string') {
    const ref = current.$ref;
    const target = refs.includes(ref) ? undefined : resolvePointer(ctx.root, ref);
    const { $ref: _, ...siblings } = current;
    // A cycle (or an unresolvable ref) becomes an open object: the best Gemini can express.
    if (!target) return { schema: { type: 'object', ...pick(siblings, ['description', 'title']) }, ctx };
    refs = [...refs, ref];
    current = { ...target, ...siblings };
  }
  if (Array.isArray(current.allOf)) {
    const { allOf, ...rest } = current;
    let merged: Json = rest;
    for (const part of allOf) {
      if (!isObject(part)) continue;
      const sub = expand(part, { ...ctx, refs });
      merged = mergeSchemas(merged, sub.schema);
    }
    current = merged;
  }
  return { schema: current, ctx: refs === ctx.refs ? ctx : { ...ctx, refs } };
}

function pick(source: Json, keys: readonly string[]): Json {
  const out: Json = {};
  for (const k of keys) if (source[k] !== undefined) out[k] = source[k];
  return out;
}

/** allOf: union of properties and required; other keywords, first one wins. */
function mergeSchemas(a: Json, b: Json): Json {
  const out: Json = { ...b, ...a };
  if (isObject(a.properties) || isObject(b.properties)) {
    out.properties = { ...(b.properties as Json | undefined), ...(a.properties as Json | undefined) };
    out.type ??= 'object';
  }
  const required = [
    ...(Array.isArray(a.required) ? a.required : []),
    ...(Array.isArray(b.required) ? b.required : []),
  ];
  if (required.length) out.required = [...new Set(required)];
  return out;
}

const isNullSchema = (s: unknown) => isObject(s) && (s.type === 'null' || (s.const === null && !s.type));

function clean(input: Json, parentCtx: Ctx): Json {
  const { schema, ctx } = expand(input, parentCtx);
  const out: Json = {};
  let nullable = schema.nullable === true;

  // Type: a list with 'null' becomes nullable; several real types become an anyOf.
  let type: string | undefined;
  let typeUnion: string[] | undefined;
  if (Array.isArray(schema.type)) {
    const types = schema.type.filter((t): t is string => typeof t === 'string' && t !== 'null');
    if (types.length < schema.type.length) nullable = true;
    if (types.length === 1) type = types[0];
    else if (types.length > 1) typeUnion = types;
  } else if (typeof schema.type === 'string' && TYPES.has(schema.type)) {
    type = schema.type;
  } else if (schema.type === 'null') {
    nullable = true;
  }

  // Unions: anyOf/oneOf (oneOf's exclusivity cannot be expressed; anyOf is the closest).
  const union = [
    ...(Array.isArray(schema.anyOf) ? schema.anyOf : []),
    ...(Array.isArray(schema.oneOf) ? schema.oneOf : []),
  ].filter(isObject);
  if (union.length) {
    const branches = union.filter((b) => !isNullSchema(b));
    if (branches.length < union.length) nullable = true;
    if (branches.length === 1) {
      // `anyOf: [X, null]` is just a nullable X: merge it into this node, keeping local docs.
      const only = clean(branches[0]!, ctx);
      const merged = { ...only, ...pick(cleanLocal(schema, type), ['description', 'title', 'default']) };
      if (nullable) merged.nullable = true;
      return merged;
    }
    if (branches.length > 1) {
      // Gemini rejects `type` next to `anyOf`; the branches carry the types.
      Object.assign(out, pick(cleanLocal(schema, undefined), ['title', 'description', 'default', 'example']));
      out.anyOf = branches.map((b) => clean(b, ctx));
      if (nullable) out.nullable = true;
      return out;
    }
  }
  if (typeUnion) {
    Object.assign(out, pick(cleanLocal(schema, undefined), ['title', 'description', 'default', 'example']));
    out.anyOf = typeUnion.map((t) => clean({ ...schema, type: t, anyOf: undefined, oneOf: undefined }, ctx));
    if (nullable) out.nullable = true;
    return out;
  }

  // Enum / const: Gemini enums are strings; null members mean nullable.
  let values: unknown[] | undefined;
  if (schema.const !== undefined) values = [schema.const];
  else if (Array.isArray(schema.enum)) values = schema.enum;
  if (values) {
    if (values.includes(null)) nullable = true;
    const strings = values
      .filter((v) => v !== null)
      .map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
    if (strings.length) {
      out.enum = strings;
      type ??= 'string';
    }
  }

  // Infer an omitted type from the keywords present (Gemini needs one on most nodes).
  if (!type) {
    if (isObject(schema.properties)) type = 'object';
    else if (schema.items !== undefined) type = 'array';
  }
  if (type) out.type = type;
  Object.assign(out, cleanLocal(schema, type));
  if (out.enum && type === 'string') out.format = 'enum';

  if (type === 'object' && isObject(schema.properties)) {
    const props: Json = {};
    for (const [name, sub] of Object.entries(schema.properties)) {
      props[name] = isObject(sub) ? clean(sub, ctx) : {};
    }
    out.properties = props;
    const names = Object.keys(props);
    if (Array.isArray(schema.required)) {
      const required = schema.required.filter((r): r is string => typeof r === 'string' && r in props);
      if (required.length) out.required = required;
    }
    if (ctx.options.propertyOrdering && names.length > 1) out.propertyOrdering = names;
  }
  if (type === 'array') {
    // Tuples (`items: [..]` / `prefixItems`) have no Gemini form: fall back to their first member.
    const items = Array.isArray(schema.items)
      ? schema.items[0]
      : (schema.items ?? (Array.isArray(schema.prefixItems) ? schema.prefixItems[0] : undefined));
    out.items = isObject(items) ? clean(items, ctx) : { type: 'string' };
  }
  if (nullable) out.nullable = true;
  return out;
}

/** The plain keywords of one node, with format filtered and examples folded into example. */
function cleanLocal(schema: Json, type: string | undefined): Json {
  const out = pick(schema, PASSTHROUGH);
  if (out.example === undefined && Array.isArray(schema.examples) && schema.examples.length) {
    out.example = schema.examples[0];
  }
  if (typeof schema.format === 'string' && type && FORMATS[type]?.includes(schema.format)) {
    out.format = schema.format;
  }
  // Numeric bounds on the wrong type are rejected by some models; keep them only where they apply.
  for (const [keys, forTypes] of [
    [['minLength', 'maxLength', 'pattern'], ['string']],
    [['minItems', 'maxItems'], ['array']],
    [['minProperties', 'maxProperties'], ['object']],
    [
      ['minimum', 'maximum'],
      ['number', 'integer'],
    ],
  ] as const) {
    if (type && !(forTypes as readonly string[]).includes(type)) for (const k of keys) delete out[k];
  }
  return out;
}
