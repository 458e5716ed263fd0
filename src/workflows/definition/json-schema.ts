import { RESERVED_NAMES } from './names.ts';
import { didYouMean, formatPath, type Problem } from './problems.ts';

/**
 * JSON Schemas for `output: json` steps. `SchemaCompiler` is the seam: a full validator (ajv) can be
 * injected into `parseDefinition`; the built-in one checks a schema is well formed (known keywords with
 * values of the right kinds, like ajv's strict mode) and validates the common subset of draft 2020-12:
 * type, enum, const, properties, required, additionalProperties, patternProperties, propertyNames,
 * min/maxProperties, items, prefixItems, contains, min/maxItems, uniqueItems, min/maxLength, pattern,
 * minimum, maximum, exclusiveMinimum/Maximum, multipleOf, allOf, anyOf, oneOf, not, if/then/else and
 * local `$ref` (`#/$defs/…`, `#/definitions/…`). `format` is an annotation only.
 */

export type SchemaValidation = { ok: true } | { ok: false; errors: string[] };

export type CompiledSchema = (value: unknown) => SchemaValidation;

export interface SchemaCompiler {
  /** Problems carry paths relative to the schema (`properties.tasks.type`; `(root)` for the schema itself). */
  compile(
    schema: Record<string, unknown>,
  ): { ok: true; validate: CompiledSchema } | { ok: false; problems: Problem[] };
}

const TYPES = new Set(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null']);
const SCHEMA = ['additionalProperties', 'items', 'contains', 'propertyNames', 'not', 'if', 'then', 'else'];
const SCHEMA_LISTS = ['allOf', 'anyOf', 'oneOf', 'prefixItems'];
const SCHEMA_MAPS = ['properties', 'patternProperties', '$defs', 'definitions'];
const NUMBERS = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'];
const COUNTS = ['minLength', 'maxLength', 'minItems', 'maxItems', 'minProperties', 'maxProperties'];
const ANNOTATIONS = [
  '$schema',
  '$id',
  '$comment',
  '$anchor',
  'title',
  'description',
  'default',
  'examples',
  'deprecated',
  'readOnly',
  'writeOnly',
  'format',
  'contentMediaType',
  'contentEncoding',
];
const KNOWN = new Set([
  ...SCHEMA,
  ...SCHEMA_LISTS,
  ...SCHEMA_MAPS,
  ...NUMBERS,
  ...COUNTS,
  ...ANNOTATIONS,
  'type',
  'enum',
  'const',
  'required',
  'pattern',
  'multipleOf',
  'uniqueItems',
  '$ref',
]);

type Path = (string | number)[];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function compilePattern(pattern: string): RegExp | undefined {
  try {
    return new RegExp(pattern, 'u');
  } catch {
    return undefined;
  }
}

/** Resolves a local `$ref` (`#`, `#/$defs/name`, any local JSON pointer) against the root schema. */
function resolveRef(root: Record<string, unknown>, ref: string): unknown {
  if (ref === '#') return root;
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
    if (RESERVED_NAMES.has(key)) return undefined;
    if (Array.isArray(node) && /^\d+$/.test(key)) node = node[Number(key)];
    else if (isObject(node) && Object.hasOwn(node, key)) node = node[key];
    else return undefined;
  }
  return node;
}

/** Problems with a schema's structure, paths relative to the root schema. */
export function checkSchema(root: Record<string, unknown>): Problem[] {
  const problems: Problem[] = [];
  const add = (path: Path, message: string) => problems.push({ path: formatPath(path), message });

  const visit = (node: unknown, path: Path): void => {
    if (typeof node === 'boolean') return;
    if (!isObject(node)) {
      add(path, 'a schema must be an object (or true/false)');
      return;
    }
    for (const [key, value] of Object.entries(node)) {
      const at = [...path, key];
      if (key.startsWith('x-')) continue;
      if (!KNOWN.has(key)) {
        add(at, `unknown JSON Schema keyword "${key}"${didYouMean(key, KNOWN)}`);
        continue;
      }
      if (key === 'type') {
        const types = Array.isArray(value) ? value : [value];
        if (!types.length || !types.every((t) => typeof t === 'string' && TYPES.has(t))) {
          add(at, `type must be one of ${[...TYPES].join(', ')} (or a list of them)`);
        }
      } else if (SCHEMA.includes(key)) {
        if (key === 'items' && Array.isArray(value)) {
          for (const [i, s] of value.entries()) visit(s, [...at, i]);
        } else {
          visit(value, at);
        }
      } else if (SCHEMA_LISTS.includes(key)) {
        if (!Array.isArray(value) || value.length === 0) {
          add(at, `${key} must be a non-empty list of schemas`);
        } else {
          for (const [i, s] of value.entries()) visit(s, [...at, i]);
        }
      } else if (SCHEMA_MAPS.includes(key)) {
        if (!isObject(value)) add(at, `${key} must be an object mapping names to schemas`);
        else {
          for (const [name, sub] of Object.entries(value)) {
            if (key === 'patternProperties' && !compilePattern(name)) {
              add([...at, name], 'not a valid regular expression');
            }
            visit(sub, [...at, name]);
          }
        }
      } else if (NUMBERS.includes(key)) {
        if (typeof value !== 'number' || !Number.isFinite(value)) add(at, `${key} must be a number`);
      } else if (COUNTS.includes(key)) {
        if (!Number.isInteger(value) || (value as number) < 0)
          add(at, `${key} must be a non-negative integer`);
      } else if (key === 'multipleOf') {
        if (typeof value !== 'number' || !(value > 0)) add(at, 'multipleOf must be a number above 0');
      } else if (key === 'required') {
        if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
          add(at, 'required must be a list of property names');
        }
      } else if (key === 'enum') {
        if (!Array.isArray(value) || value.length === 0) add(at, 'enum must be a non-empty list of values');
      } else if (key === 'pattern') {
        if (typeof value !== 'string' || !compilePattern(value))
          add(at, 'pattern must be a valid regular expression');
      } else if (key === 'uniqueItems') {
        if (typeof value !== 'boolean') add(at, 'uniqueItems must be true or false');
      } else if (key === '$ref') {
        if (typeof value !== 'string' || resolveRef(root, value) === undefined) {
          add(
            at,
            '$ref must point inside this schema (e.g. "#/$defs/item"); remote references are not followed',
          );
        }
      } else if (key === 'format' || key === 'title' || key === 'description' || key === '$schema') {
        if (typeof value !== 'string') add(at, `${key} must be a string`);
      }
    }
  };
  visit(root, []);
  return problems;
}

/** JSON equality (object key order ignored). */
function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => equal(v, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && equal(a[k], b[k]))
    );
  }
  return false;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function hasType(value: unknown, type: string): boolean {
  if (type === 'integer') return Number.isInteger(value);
  if (type === 'number') return typeof value === 'number' && Number.isFinite(value);
  return typeOf(value) === type;
}

function pointer(path: Path): string {
  return path.length ? `/${path.join('/')}` : '(root)';
}

const MAX_ERRORS = 20;

/** Validates `value` against a schema `checkSchema` accepted. */
export function validateAgainst(root: Record<string, unknown>, value: unknown): SchemaValidation {
  const errors: string[] = [];
  const patterns = new Map<string, RegExp | undefined>();
  const regex = (p: string) => {
    if (!patterns.has(p)) patterns.set(p, compilePattern(p));
    return patterns.get(p);
  };

  const check = (schema: unknown, v: unknown, path: Path, out: string[], depth: number): void => {
    if (out.length >= MAX_ERRORS) return;
    if (depth > 64) {
      out.push(`${pointer(path)}: schema nests too deeply (recursive $ref?)`);
      return;
    }
    if (schema === true || schema === undefined) return;
    if (schema === false) {
      out.push(`${pointer(path)}: no value is allowed here`);
      return;
    }
    if (!isObject(schema)) return;
    const fail = (message: string) => out.push(`${pointer(path)}: ${message}`);
    const sub = (s: unknown, child: unknown, at: Path = path) => check(s, child, at, out, depth + 1);
    const passes = (s: unknown, child: unknown) => {
      const trial: string[] = [];
      check(s, child, path, trial, depth + 1);
      return trial.length === 0;
    };

    if (typeof schema.$ref === 'string') sub(resolveRef(root, schema.$ref), v);
    if (schema.type !== undefined) {
      const types = (Array.isArray(schema.type) ? schema.type : [schema.type]) as string[];
      if (!types.some((t) => hasType(v, t))) {
        fail(`must be ${types.join(' or ')} (got ${typeOf(v)})`);
        return;
      }
    }
    if (Array.isArray(schema.enum) && !schema.enum.some((e) => equal(e, v))) {
      fail(`must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}`);
    }
    if (Object.hasOwn(schema, 'const') && !equal(schema.const, v))
      fail(`must be ${JSON.stringify(schema.const)}`);
    for (const s of (schema.allOf as unknown[] | undefined) ?? []) sub(s, v);
    if (Array.isArray(schema.anyOf) && !schema.anyOf.some((s) => passes(s, v))) {
      fail('must match at least one of anyOf');
    }
    if (Array.isArray(schema.oneOf)) {
      const matches = schema.oneOf.filter((s) => passes(s, v)).length;
      if (matches !== 1) fail(`must match exactly one of oneOf (matched ${matches})`);
    }
    if (schema.not !== undefined && passes(schema.not, v)) fail('must not match "not"');
    if (schema.if !== undefined) {
      if (passes(schema.if, v)) {
        if (schema.then !== undefined) sub(schema.then, v);
      } else if (schema.else !== undefined) sub(schema.else, v);
    }

    if (typeof v === 'number') {
      if (typeof schema.minimum === 'number' && v < schema.minimum) fail(`must be ≥ ${schema.minimum}`);
      if (typeof schema.maximum === 'number' && v > schema.maximum) fail(`must be ≤ ${schema.maximum}`);
      if (typeof schema.exclusiveMinimum === 'number' && v <= schema.exclusiveMinimum) {
        fail(`must be > ${schema.exclusiveMinimum}`);
      }
      if (typeof schema.exclusiveMaximum === 'number' && v >= schema.exclusiveMaximum) {
        fail(`must be < ${schema.exclusiveMaximum}`);
      }
      if (typeof schema.multipleOf === 'number') {
        const q = v / schema.multipleOf;
        if (Math.abs(q - Math.round(q)) > 1e-9) fail(`must be a multiple of ${schema.multipleOf}`);
      }
    }
    if (typeof v === 'string') {
      const length = [...v].length;
      if (typeof schema.minLength === 'number' && length < schema.minLength) {
        fail(`must have at least ${schema.minLength} characters`);
      }
      if (typeof schema.maxLength === 'number' && length > schema.maxLength) {
        fail(`must have at most ${schema.maxLength} characters`);
      }
      if (typeof schema.pattern === 'string' && !regex(schema.pattern)?.test(v)) {
        fail(`must match /${schema.pattern}/`);
      }
    }
    if (Array.isArray(v)) {
      if (typeof schema.minItems === 'number' && v.length < schema.minItems) {
        fail(`must have at least ${schema.minItems} items`);
      }
      if (typeof schema.maxItems === 'number' && v.length > schema.maxItems) {
        fail(`must have at most ${schema.maxItems} items`);
      }
      if (schema.uniqueItems === true && v.some((a, i) => v.findIndex((b) => equal(a, b)) !== i)) {
        fail('must not contain duplicates');
      }
      const prefix = Array.isArray(schema.prefixItems)
        ? schema.prefixItems
        : Array.isArray(schema.items)
          ? schema.items
          : [];
      v.forEach((item, i) => {
        if (i < prefix.length) sub(prefix[i], item, [...path, i]);
        else if (schema.items !== undefined && !Array.isArray(schema.items))
          sub(schema.items, item, [...path, i]);
      });
      if (schema.contains !== undefined && !v.some((item) => passes(schema.contains, item))) {
        fail('must contain an item matching "contains"');
      }
    }
    if (isObject(v)) {
      const keys = Object.keys(v);
      if (typeof schema.minProperties === 'number' && keys.length < schema.minProperties) {
        fail(`must have at least ${schema.minProperties} properties`);
      }
      if (typeof schema.maxProperties === 'number' && keys.length > schema.maxProperties) {
        fail(`must have at most ${schema.maxProperties} properties`);
      }
      for (const name of (schema.required as string[] | undefined) ?? []) {
        if (!Object.hasOwn(v, name)) fail(`must have property "${name}"`);
      }
      const properties = isObject(schema.properties) ? schema.properties : {};
      const patternProperties = isObject(schema.patternProperties) ? schema.patternProperties : {};
      for (const key of keys) {
        let matched = false;
        if (Object.hasOwn(properties, key)) {
          matched = true;
          sub(properties[key], v[key], [...path, key]);
        }
        for (const [p, s] of Object.entries(patternProperties)) {
          if (regex(p)?.test(key)) {
            matched = true;
            sub(s, v[key], [...path, key]);
          }
        }
        if (schema.propertyNames !== undefined) sub(schema.propertyNames, key, [...path, key]);
        if (!matched && schema.additionalProperties !== undefined) {
          if (schema.additionalProperties === false) fail(`must not have property "${key}"`);
          else sub(schema.additionalProperties, v[key], [...path, key]);
        }
      }
    }
  };
  check(root, value, [], errors, 0);
  return errors.length ? { ok: false, errors } : { ok: true };
}

/** The built-in compiler: structural check at definition time, subset validation at run time. */
export const builtinSchemaCompiler: SchemaCompiler = {
  compile(schema) {
    const problems = checkSchema(schema);
    if (problems.length) return { ok: false, problems };
    return { ok: true, validate: (value) => validateAgainst(schema, value) };
  },
};
