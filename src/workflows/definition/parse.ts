import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { checkDefinition } from './check.ts';
import { buildDag, type Dag } from './dag.ts';
import { builtinSchemaCompiler, type SchemaCompiler } from './json-schema.ts';
import { append, didYouMean, formatPath, type Problem, resetHintBudget } from './problems.ts';
import {
  BackToSchema,
  InputObjectSchema,
  RetrySchema,
  StepObjectSchema,
  UntilSchema,
  type WorkflowDefinition,
  WorkflowDefinitionSchema,
} from './schema.ts';

export interface ParseOptions {
  /** Checks `schema` fields and validates JSON outputs (default: Ajv, draft 2020-12). */
  schemaCompiler?: SchemaCompiler;
}

export type ParseResult =
  | { ok: true; definition: WorkflowDefinition; dag: Dag }
  | { ok: false; problems: Problem[] };

/** The fields each kind of object takes, for "did you mean" on unknown fields. */
const FIELDS: { match: (path: readonly PropertyKey[]) => boolean; fields: string[] }[] = [
  { match: (p) => p.length === 0, fields: Object.keys(WorkflowDefinitionSchema.shape) },
  { match: (p) => p.length === 2 && p[0] === 'inputs', fields: Object.keys(InputObjectSchema.shape) },
  { match: (p) => p.length === 2 && p[0] === 'steps', fields: Object.keys(StepObjectSchema.shape) },
  { match: (p) => p.length === 3 && p[2] === 'until', fields: Object.keys(UntilSchema.shape) },
  { match: (p) => p.length === 3 && p[2] === 'back_to', fields: Object.keys(BackToSchema.shape) },
  { match: (p) => p.length === 3 && p[2] === 'retry', fields: Object.keys(RetrySchema.shape) },
];

function zodProblems(error: z.ZodError): Problem[] {
  const problems: Problem[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      const fields = FIELDS.find((f) => f.match(issue.path))?.fields ?? [];
      for (const key of issue.keys) {
        const hint = didYouMean(key, fields);
        problems.push({
          path: formatPath([...issue.path, key]),
          message: `unknown field "${key}"${hint || (fields.length ? `; allowed: ${fields.join(', ')}` : '')}`,
        });
      }
    } else if (issue.code === 'invalid_key') {
      const inner = issue.issues.map((i) => i.message).join('; ');
      problems.push({ path: formatPath(issue.path), message: `invalid name: ${inner}` });
    } else {
      problems.push({ path: formatPath(issue.path), message: issue.message });
    }
  }
  return problems;
}

/** Text → data. YAML is a superset of JSON, so YAML is the default. */
function readText(
  text: string,
  contentType: 'yaml' | 'json' | undefined,
): { data?: unknown; problems: Problem[] } {
  if (contentType === 'json') {
    try {
      return { data: JSON.parse(text), problems: [] };
    } catch (err) {
      return { problems: [{ path: '(root)', message: `invalid JSON: ${(err as Error).message}` }] };
    }
  }
  const doc = parseDocument(text);
  if (doc.errors.length) {
    return {
      problems: doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        const where = pos ? ` (line ${pos.line}, column ${pos.col})` : '';
        return {
          path: '(root)',
          message: `invalid YAML${where}: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`,
        };
      }),
    };
  }
  try {
    return { data: doc.toJS({ maxAliasCount: 100 }), problems: [] };
  } catch (err) {
    // Building the value can still fail: an alias to an anchor never set, or too many aliases.
    return { problems: [{ path: '(root)', message: `invalid YAML: ${(err as Error).message}` }] };
  }
}

/**
 * The most steps a workflow may have. Checking a definition costs time growing faster than its size
 * (every step's ancestors, "did you mean" over every name), on the server's one thread: a bound keeps
 * one tenant's definition from stalling everyone's requests. Real workflows stay far below it.
 */
export const MAX_STEPS = 200;
/** `needs` entries at most, over all steps (a 200-step graph where each needs every earlier one has 19,900). */
export const MAX_NEEDS = 2_000;
/** Problems reported at most for one definition (the rest are summarised). */
const MAX_PROBLEMS = 100;

/** A definition too large to check, before any costly check runs. */
function sizeProblem(data: Record<string, unknown>): Problem | undefined {
  const steps = data.steps;
  if (typeof steps !== 'object' || steps === null || Array.isArray(steps)) return undefined;
  const names = Object.keys(steps);
  if (names.length > MAX_STEPS) {
    return {
      path: 'steps',
      message: `a workflow may have at most ${MAX_STEPS} steps (this one has ${names.length}); split it into several workflows`,
    };
  }
  let edges = 0;
  for (const name of names) {
    const needs = (steps as Record<string, { needs?: unknown }>)[name]?.needs;
    if (Array.isArray(needs)) edges += needs.length;
  }
  if (edges > MAX_NEEDS) {
    return {
      path: 'steps',
      message: `the steps list ${edges} needs in all; a workflow may have at most ${MAX_NEEDS}`,
    };
  }
  return undefined;
}

const SECTIONS = ['(root)', ...Object.keys(WorkflowDefinitionSchema.shape)];

/** Problems in reading order: by section (name, inputs, steps, outputs…), steps in definition order. */
function sortProblems(problems: Problem[], data: Record<string, unknown>): Problem[] {
  const steps = typeof data.steps === 'object' && data.steps !== null ? Object.keys(data.steps) : [];
  const rank = (path: string): [number, number] => {
    const [section = '', step = ''] = path.split(/[.[]/);
    const s = SECTIONS.indexOf(section);
    return [s < 0 ? SECTIONS.length : s, section === 'steps' ? steps.indexOf(step) : 0];
  };
  return problems
    .map((p, i) => ({ p, i, r: rank(p.path) }))
    .sort((a, b) => a.r[0] - b.r[0] || a.r[1] - b.r[1] || a.i - b.i)
    .map((x) => x.p);
}

/**
 * Parses and validates a workflow definition: YAML or JSON text, or an already-parsed
 * object. Reports every problem at once, each with its path (`steps.distance.needs[1]`) and a message
 * saying what to do; on success returns the definition with defaults applied and its DAG.
 */
export function parseDefinition(
  input: string | unknown,
  contentType?: 'yaml' | 'json',
  options: ParseOptions = {},
): ParseResult {
  if (typeof input !== 'string') return validateDefinition(input, options);
  const read = readText(input, contentType);
  if (read.problems.length) return { ok: false, problems: read.problems };
  return validateDefinition(read.data, options);
}

/**
 * Validates an already-parsed definition. A string here is a value, never text to read again: a JSON
 * body that is just `"*x"` must not be re-read as YAML.
 */
export function validateDefinition(data: unknown, options: ParseOptions = {}): ParseResult {
  resetHintBudget();
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return {
      ok: false,
      problems: [
        {
          path: '(root)',
          message: 'a workflow definition is an object with name, inputs, steps and outputs',
        },
      ],
    };
  }

  const tooBig = sizeProblem(data as Record<string, unknown>);
  if (tooBig) return { ok: false, problems: [tooBig] };

  const problems: Problem[] = [];
  const parsed = WorkflowDefinitionSchema.safeParse(data);
  if (!parsed.success) append(problems, zodProblems(parsed.error));
  append(
    problems,
    checkDefinition(data as Record<string, unknown>, options.schemaCompiler ?? builtinSchemaCompiler),
  );

  const seen = new Set<string>();
  const unique = sortProblems(
    problems.filter((p) => {
      const key = `${p.path}\n${p.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    }),
    data as Record<string, unknown>,
  );
  if (unique.length > MAX_PROBLEMS) {
    const more = unique.length - MAX_PROBLEMS;
    unique.length = MAX_PROBLEMS;
    unique.push({ path: '(root)', message: `… and ${more} more problem(s); fix these first` });
  }
  if (unique.length || !parsed.success) return { ok: false, problems: unique };
  return { ok: true, definition: parsed.data, dag: buildDag(parsed.data.steps) };
}
