import { type EnsembleMember, expandMembers } from '../../chat/index.ts';
import { checkTemplate, type TemplateScope } from './check-templates.ts';
import { ancestorSet, findCycles } from './dag.ts';
import type { SchemaCompiler } from './json-schema.ts';
import { append, didYouMean, listNames, type Problem } from './problems.ts';
import { STEP_TYPES, type StepType } from './schema.ts';

/**
 * The rules zod cannot express: which fields a step type takes, `needs` naming real steps, cycles,
 * `back_to` targets, template references and JSON Schemas. They run on the raw (possibly invalid)
 * definition so that one pass reports every problem; malformed pieces zod already reported are skipped.
 */

const COMMON = ['type', 'description', 'needs', 'timeout_ms'];
const MODEL_CALL = ['prompt', 'system', 'max_tokens', 'temperature', 'retry'];

/**
 * The fields each step type takes, and the ones it needs: the one table the checker below and the
 * editor schema generator (scripts/gen-schemas.ts) both read.
 */
export const STEP_FIELDS: Record<StepType, { fields: readonly string[]; required: readonly string[] }> = {
  llm: {
    fields: [...COMMON, ...MODEL_CALL, 'model', 'output', 'schema', 'until', 'back_to'],
    required: ['prompt'],
  },
  ensemble: {
    fields: [
      ...COMMON,
      ...MODEL_CALL,
      ...['output', 'schema', 'until', 'back_to', 'strategy', 'models', 'judge', 'quorum'],
      ...['samples', 'temperatures', 'synthesizer'],
    ],
    required: ['prompt', 'models'],
  },
  review: {
    fields: [...COMMON, ...MODEL_CALL, 'back_to', 'reviewers', 'author', 'rounds', 'threshold', 'artifact'],
    required: ['reviewers'],
  },
  approval: { fields: COMMON, required: [] },
};

const ALLOWED: Record<StepType, ReadonlySet<string>> = {
  llm: new Set(STEP_FIELDS.llm.fields),
  ensemble: new Set(STEP_FIELDS.ensemble.fields),
  review: new Set(STEP_FIELDS.review.fields),
  approval: new Set(STEP_FIELDS.approval.fields),
};
const ANY_STEP_FIELD = new Set(Object.values(ALLOWED).flatMap((fields) => [...fields]));

/** Why a field does not belong on a step type, and what to do instead. */
function misplaced(field: string, type: StepType): string {
  if (type === 'approval') {
    if (field === 'prompt') {
      return 'approval steps wait for a person and have no prompt: remove it (use description to tell the person what to check)';
    }
    return `approval steps wait for a person: remove ${field}`;
  }
  if (field === 'model')
    return `${type} steps do not take model: ${type === 'ensemble' ? 'list models' : 'use reviewers and author'}`;
  if (['strategy', 'models', 'judge', 'quorum', 'samples', 'temperatures', 'synthesizer'].includes(field)) {
    return `${field} belongs to ensemble steps: set type: ensemble${type === 'llm' ? ', or use model for a single model' : ''}`;
  }
  if (['reviewers', 'author', 'rounds', 'threshold', 'artifact'].includes(field)) {
    return `${field} belongs to review steps: set type: review`;
  }
  if (field === 'until')
    return 'review steps run their own rounds: use rounds and threshold instead of until';
  if (field === 'output' || field === 'schema')
    return 'review steps output the reviewed artifact as text: remove it';
  return `${field} does not apply to ${type} steps`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const asObject = (value: unknown): Record<string, unknown> => (isObject(value) ? value : {});

export function checkDefinition(data: Record<string, unknown>, compiler: SchemaCompiler): Problem[] {
  const problems: Problem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });

  const rawSteps = asObject(data.steps);
  const rawInputs = asObject(data.inputs);
  for (const [section, record] of [
    ['inputs', rawInputs],
    ['steps', rawSteps],
    ['outputs', asObject(data.outputs)],
  ] as const) {
    if (Object.hasOwn(record, '__proto__')) add(`${section}.__proto__`, '"__proto__" is a reserved name');
  }
  const stepNames = Object.keys(rawSteps).filter((n) => n !== '__proto__');

  const graph = new Map<string, string[]>();
  for (const name of stepNames) {
    const needs = asObject(rawSteps[name]).needs;
    graph.set(name, Array.isArray(needs) ? needs.filter((n): n is string => typeof n === 'string') : []);
  }

  const scope: TemplateScope = {
    inputs: new Map(
      Object.keys(rawInputs)
        .filter((n) => n !== '__proto__')
        .map((n) => {
          const type = asObject(rawInputs[n]).type;
          return [n, typeof type === 'string' ? type : undefined];
        }),
    ),
    steps: new Map(
      stepNames.map((n) => {
        const step = asObject(rawSteps[n]);
        return [n, { output: step.output ?? 'text', type: step.type ?? 'llm', schema: step.schema }];
      }),
    ),
  };

  for (const name of stepNames) {
    const raw = rawSteps[name];
    if (!isObject(raw)) continue;
    const at = `steps.${name}`;
    const type = (raw.type ?? 'llm') as StepType;
    const knownType = STEP_TYPES.includes(type);
    const ancestors = ancestorSet(graph, name);

    // needs
    if (Array.isArray(raw.needs)) {
      const seen = new Set<string>();
      raw.needs.forEach((need, i) => {
        if (typeof need !== 'string') return;
        if (!graph.has(need)) {
          add(
            `${at}.needs[${i}]`,
            `unknown step "${need}"${didYouMean(need, stepNames)}; needs lists steps of this workflow (${listNames(stepNames)})`,
          );
        } else if (seen.has(need)) {
          add(`${at}.needs[${i}]`, `"${need}" is listed twice; remove the repeat`);
        }
        seen.add(need);
      });
    }

    // fields by type
    if (knownType) {
      for (const field of Object.keys(raw)) {
        // Allowed here, or unknown everywhere (zod reports unknown fields).
        if (ALLOWED[type].has(field) || !ANY_STEP_FIELD.has(field)) continue;
        add(`${at}.${field}`, misplaced(field, type));
      }
      const missing = (field: string, message: string) => {
        if (raw[field] === undefined) add(`${at}.${field}`, message);
      };
      if (type === 'llm' || type === 'ensemble') {
        missing('prompt', `${type} steps need a prompt: what to ask the model`);
      }
      if (type === 'ensemble') {
        missing('models', 'ensemble steps need models: a list of at least one model to ask');
        const candidates = candidateCount(raw);
        if (typeof candidates === 'object') add(`${at}.models${candidates.path}`, candidates.message);
        else if (candidates !== undefined && typeof raw.quorum === 'number' && raw.quorum > candidates) {
          add(`${at}.quorum`, `quorum (${raw.quorum}) is more than the ${candidates} candidate(s) listed`);
        }
      }
      if (type === 'review') {
        missing('reviewers', 'review steps need reviewers: a list of at least one model');
        const needs = graph.get(name) ?? [];
        if (raw.artifact === undefined && new Set(needs).size !== 1) {
          add(
            `${at}.artifact`,
            'say what to review: set artifact (e.g. "{{ steps.draft.output }}"), or need exactly one step whose output is reviewed',
          );
        }
      }
      if (raw.back_to !== undefined && (type === 'llm' || type === 'ensemble') && raw.until === undefined) {
        add(
          `${at}.back_to`,
          'back_to needs a verdict to act on: use it on a review step, or together with until (after its last iteration fails)',
        );
      }
    }

    // output schema
    if (isObject(raw.schema)) {
      if (raw.output !== 'json' && (type === 'llm' || type === 'ensemble')) {
        add(`${at}.schema`, 'schema applies to JSON outputs: add output: json');
      }
      const compiled = compiler.compile(raw.schema);
      if (!compiled.ok) {
        for (const p of compiled.problems) {
          add(p.path === '(root)' ? `${at}.schema` : `${at}.schema.${p.path}`, p.message);
        }
      }
    }

    // back_to
    const backTo = asObject(raw.back_to);
    if (typeof backTo.step === 'string') {
      const target = backTo.step;
      if (target === name) {
        add(
          `${at}.back_to.step`,
          'a step cannot go back to itself; use until to repeat a step with feedback',
        );
      } else if (!graph.has(target)) {
        add(`${at}.back_to.step`, `unknown step "${target}"${didYouMean(target, stepNames)}`);
      } else if (!ancestors.has(target)) {
        add(
          `${at}.back_to.step`,
          `back_to goes to an earlier step: "${name}" does not need "${target}" (directly or transitively)` +
            (ancestors.size
              ? `; it may go back to ${listNames(stepNames.filter((n) => ancestors.has(n)))}`
              : ''),
        );
      }
    }

    // templates
    const stepScope: TemplateScope = { ...scope, reader: name, readable: ancestors };
    for (const field of ['prompt', 'system', 'artifact'] as const) {
      const text = raw[field];
      if (typeof text === 'string') append(problems, checkTemplate(text, `${at}.${field}`, stepScope));
    }
    const until = asObject(raw.until);
    if (typeof until.criteria === 'string') {
      append(problems, checkTemplate(until.criteria, `${at}.until.criteria`, stepScope));
    }
  }

  for (const cycle of findCycles(graph)) {
    add(
      `steps.${cycle[0]}.needs`,
      cycle.length === 2
        ? `cycle ${cycle.join(' → ')}: a step cannot need itself; remove "${cycle[0]}" from its needs`
        : `cycle ${cycle.join(' → ')}: a step cannot (transitively) need itself; remove one of these needs`,
    );
  }

  for (const [name, template] of Object.entries(asObject(data.outputs))) {
    if (typeof template === 'string') append(problems, checkTemplate(template, `outputs.${name}`, scope));
  }
  return problems;
}

/**
 * How many candidates an ensemble step asks (one per sample), or the path (under `models`) of a member
 * whose samples and temperatures disagree; undefined while `models` is malformed (zod reports that).
 */
function candidateCount(raw: Record<string, unknown>): number | Problem | undefined {
  const models = raw.models;
  if (!Array.isArray(models) || !models.every((m) => typeof m === 'string' || isObject(m))) return undefined;
  const defaults = {
    ...(typeof raw.samples === 'number' ? { samples: raw.samples } : {}),
    ...(Array.isArray(raw.temperatures) ? { temperatures: raw.temperatures as number[] } : {}),
  };
  const { samples, problems } = expandMembers(models as EnsembleMember[], defaults);
  return problems[0] ?? samples.length;
}
