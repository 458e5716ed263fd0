import type { ErrorObject } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { linearRegExp, linearRegexProblem } from './linear-regex.ts';
import { didYouMean, formatPath, type Problem } from './problems.ts';

/**
 * JSON Schemas for `output: json` steps, checked and applied with Ajv (draft 2020-12, strict mode, every
 * error reported, `ajv-formats` formats, patterns on RE2 so a team's pattern runs in linear time). `SchemaCompiler` is the seam `parseDefinition` accepts, so
 * another validator can still be injected.
 */

export type SchemaValidation = { ok: true } | { ok: false; errors: string[] };

export type CompiledSchema = (value: unknown) => SchemaValidation;

export interface SchemaCompiler {
  /** Problems carry paths relative to the schema (`properties.tasks.type`; `(root)` for the schema itself). */
  compile(
    schema: Record<string, unknown>,
  ): { ok: true; validate: CompiledSchema } | { ok: false; problems: Problem[] };
}

// ajv-formats is CommonJS: its default import is `module.exports`, which carries the plugin as `.default`.
const addFormats = addFormatsModule.default;

/**
 * `strict` refuses unknown keywords and formats. Its type, tuple and `required` checks are turned off:
 * they refuse valid schemas a model is commonly given (`required` without `type: object`, `then:
 * {multipleOf: 2}`, a `prefixItems` tuple without `items: false`).
 */
const OPTIONS = {
  strict: true,
  strictTypes: false,
  strictTuples: false,
  strictRequired: false,
  allErrors: true,
} as const;

/**
 * Checks schemas against the 2020-12 meta-schema, closed: through `$dynamicAnchor` every subschema is
 * checked against this one, so an unknown keyword is reported where it is (strict compilation only says
 * which). Only local `$ref`s are allowed: remote schemas are never fetched.
 */
const metaAjv = new Ajv2020(OPTIONS);
addFormats(metaAjv);
// A pattern must also run on RE2 (linear-regex.ts), checked where it stands so the problem names its
// path: `value` for a `pattern`, `name` for a key of `patternProperties`.
const LINEAR = 'x-quorum-linear';
metaAjv.addKeyword({
  keyword: LINEAR,
  type: 'string',
  errors: true,
  validate: function linear(this: unknown, where: 'value' | 'name', pattern: string) {
    const problem = linearRegexProblem(pattern);
    (linear as unknown as { errors: Partial<ErrorObject>[] }).errors = problem
      ? [
          {
            keyword: LINEAR,
            message: problem,
            params: {},
            ...(where === 'name' && { propertyName: pattern }),
          },
        ]
      : [];
    return problem === undefined;
  },
});
const checkMeta = metaAjv.compile({
  $id: 'urn:quorum:json-schema-2020-12-strict',
  $dynamicAnchor: 'meta',
  $ref: 'https://json-schema.org/draft/2020-12/schema',
  properties: {
    $ref: { type: 'string', pattern: '^#' },
    pattern: { type: 'string', format: 'regex', [LINEAR]: 'value' },
    patternProperties: { type: 'object', propertyNames: { format: 'regex', [LINEAR]: 'name' } },
  },
  unevaluatedProperties: false,
});

/**
 * Compiles schemas `checkMeta` accepted. It keeps nothing between compilations, so a schema's `$id` never
 * collides with an earlier one's (or with a meta-schema's); `compiled` below is the cache.
 */
const ajv = new Ajv2020({ ...OPTIONS, meta: false, validateSchema: false, code: { regExp: linearRegExp } });
addFormats(ajv);

const KEYWORDS = Object.keys(metaAjv.RULES.all).filter((k) => k !== LINEAR);

/** The detail Ajv keeps in `params` for the messages that would otherwise not say which. */
function detail(error: ErrorObject): string {
  const p = error.params as Record<string, unknown>;
  if (error.keyword === 'enum')
    return `: ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  if (error.keyword === 'const') return `: ${JSON.stringify(p.allowedValue)}`;
  if (error.keyword === 'additionalProperties') return ` ("${p.additionalProperty}")`;
  if (error.keyword === 'unevaluatedProperties') return ` ("${p.unevaluatedProperty}")`;
  return '';
}

function message(error: ErrorObject): string {
  return `${error.message ?? error.keyword}${detail(error)}`;
}

/** A JSON pointer into `root` as a problem path (`properties.tasks.items`, `anyOf[1]`). */
function schemaPath(root: unknown, pointer: string): string {
  const path: (string | number)[] = [];
  let node = root;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    const part = Array.isArray(node) ? Number(key) : key;
    path.push(part);
    node = (node as Record<string | number, unknown> | undefined)?.[part];
  }
  return formatPath(path);
}

const pointerToken = (name: string) => name.replaceAll('~', '~0').replaceAll('/', '~1');

/** Meta-schema errors as problems: one per place, alternatives (a failed `anyOf`) joined with "or". */
function schemaProblems(root: unknown, errors: ErrorObject[]): Problem[] {
  const problems = new Map<string, { unknown?: string; errors: ErrorObject[] }>();
  for (const error of errors) {
    if (error.keyword === 'propertyNames') continue; // summary of the error(s) naming the property
    if (error.keyword === 'unevaluatedProperties') {
      const name = String(error.params.unevaluatedProperty);
      problems.set(schemaPath(root, `${error.instancePath}/${pointerToken(name)}`), {
        unknown: name,
        errors: [],
      });
      continue;
    }
    const pointer = error.propertyName
      ? `${error.instancePath}/${pointerToken(error.propertyName)}`
      : error.instancePath;
    const at = schemaPath(root, pointer);
    problems.set(at, { errors: [...(problems.get(at)?.errors ?? []), error] });
  }
  return [...problems].map(([path, { unknown, errors: here }]) => {
    if (unknown !== undefined) {
      return { path, message: `unknown JSON Schema keyword "${unknown}"${didYouMean(unknown, KEYWORDS)}` };
    }
    const choice = (e: ErrorObject) => e.keyword === 'anyOf' || e.keyword === 'oneOf';
    const alternatives = here.some(choice);
    const shown = alternatives && !here.every(choice) ? here.filter((e) => !choice(e)) : here;
    return { path, message: [...new Set(shown.map(message))].join(alternatives ? ' or ' : '; ') };
  });
}

type Compiled = { ok: true; validate: CompiledSchema } | { ok: false; problems: Problem[] };

const compiled = new WeakMap<object, Compiled>();

function compile(schema: Record<string, unknown>): Compiled {
  const cached = compiled.get(schema);
  if (cached) return cached;
  let result: Compiled;
  if (!checkMeta(schema)) {
    result = { ok: false, problems: schemaProblems(schema, checkMeta.errors ?? []) };
  } else {
    try {
      const validate = ajv.compile(schema);
      result = {
        ok: true,
        validate: (value) => {
          try {
            if (validate(value)) return { ok: true };
          } catch (error) {
            // a schema that refers to itself without consuming anything (`{"$ref": "#"}`) recurses forever
            return { ok: false, errors: [`(root): cannot be validated: ${(error as Error).message}`] };
          }
          return {
            ok: false,
            errors: (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'}: ${message(e)}`),
          };
        },
      };
    } catch (error) {
      // What the meta-schema cannot see: unresolved local `$ref`s, unknown formats.
      result = { ok: false, problems: [{ path: '(root)', message: (error as Error).message }] };
    } finally {
      ajv.removeSchema(); // Ajv's own cache would keep every schema (and `$id`) alive
    }
  }
  compiled.set(schema, result);
  return result;
}

/** Problems with a schema's structure, paths relative to the root schema. */
export function checkSchema(schema: Record<string, unknown>): Problem[] {
  const result = compile(schema);
  return result.ok ? [] : result.problems;
}

/** Validates `value` against `schema`; errors read `/tasks/0/name: must be string`. */
export function validateAgainst(schema: Record<string, unknown>, value: unknown): SchemaValidation {
  const result = compile(schema);
  if (result.ok) return result.validate(value);
  return { ok: false, errors: result.problems.map((p) => `invalid schema at ${p.path}: ${p.message}`) };
}

/** The default compiler: Ajv, with compiled schemas cached per schema object. */
export const builtinSchemaCompiler: SchemaCompiler = { compile };
