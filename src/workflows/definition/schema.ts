import { z } from 'zod';
import { IDENTIFIER, MAX_LOOPS, RESERVED_NAMES, WORKFLOW_NAME } from './names.ts';

/**
 * The shape of a workflow definition, as zod checks it. Objects are strict: an unknown
 * key is a problem, not silently ignored. Cross-field rules (which fields a step type allows, `needs`
 * naming real steps, cycles, template references, JSON Schemas) are checked by `parseDefinition`.
 */

/** `error` option that only replaces zod's message when the field is missing. */
const whenMissing = (message: string) => ({
  error: (issue: { input?: unknown }) => (issue.input === undefined ? message : undefined),
});

const identifier = (what: string) =>
  z
    .string()
    .regex(IDENTIFIER, `${what} names use letters, digits, _ or - and start with a letter or _ (max 64)`)
    .refine((name) => !RESERVED_NAMES.has(name), `"__proto__", "constructor" and "prototype" are reserved`);

const positiveInt = z.int().positive();
const loopBound = (field: string) =>
  z
    .int(whenMissing(`${field} is required: every loop needs a bound (1–${MAX_LOOPS})`))
    .min(1)
    .max(MAX_LOOPS, `${field} is at most ${MAX_LOOPS}`);
const modelName = z.string().min(1, 'name a model (a catalog id, alias, ensemble preset or auto)');

export const INPUT_TYPES = ['string', 'number', 'boolean', 'object', 'array'] as const;
export type InputType = (typeof INPUT_TYPES)[number];

/** Whether a value has an input's declared type (`number` means a finite number). */
export function hasInputType(value: unknown, type: InputType): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'array':
      return Array.isArray(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
  }
}

export const InputObjectSchema = z.strictObject({
  type: z.enum(INPUT_TYPES, whenMissing(`type is required: one of ${INPUT_TYPES.join(', ')}`)),
  description: z.string().optional(),
  /** Used when a run does not give this input; an input without a default is required. */
  default: z.unknown().optional(),
});

export const InputSchema = InputObjectSchema.superRefine((input, ctx) => {
  if (input.default !== undefined && !hasInputType(input.default, input.type)) {
    ctx.addIssue({
      code: 'custom',
      path: ['default'],
      message: `default must be of type ${input.type}`,
    });
  }
});

export const STEP_TYPES = ['llm', 'ensemble', 'review', 'approval'] as const;
export type StepType = (typeof STEP_TYPES)[number];

export const ENSEMBLE_STRATEGIES = ['consensus', 'best_of_n', 'ensemble'] as const;

export const RetrySchema = z.strictObject({
  /** Total tries, the first included (1 = no retry). */
  attempts: z.int(whenMissing('attempts is required (total tries, 1–10)')).min(1).max(10),
  /** Wait before each retry, doubling each time (engine's choice of jitter). */
  backoff_ms: z.int().min(0).max(600_000).default(1_000),
});

/** Re-run the step with the judge's critique as `{{ feedback }}` until it scores `min_score`. */
export const UntilSchema = z.strictObject({
  /** The model that scores the output (0..10) and writes the critique. */
  judge: modelName.default('auto'),
  /** What the judge scores against (a template: it may read inputs and needed steps). */
  criteria: z.string(whenMissing('criteria is required: say what the judge scores against')).min(1),
  min_score: z.number().min(0).max(10).default(8),
  max_iterations: loopBound('until.max_iterations'),
  /**
   * When no draft reaches `min_score` within `max_iterations`: `fail` the step (default), or `continue`
   * with the best-scored draft. (A step with `back_to` goes back instead.)
   */
  on_exhausted: z.enum(['fail', 'continue']).default('fail'),
});

/** Backtrack to an ancestor with this step's feedback, re-running the steps between. */
export const BackToSchema = z.strictObject({
  step: z.string(whenMissing('back_to.step is required: the earlier step to return to')).min(1),
  max_loops: loopBound('back_to.max_loops'),
});

/** A step's fields, before the per-type defaults (`model: auto`, `strategy: consensus`). */
export const StepObjectSchema = z.strictObject({
  type: z.enum(STEP_TYPES).default('llm'),
  /** Free text; an approval step shows it to the person. */
  description: z.string().optional(),
  needs: z
    .array(z.string(), {
      error: (issue) =>
        issue.code === 'invalid_type' ? 'needs is a list of step names, e.g. needs: [town_a]' : undefined,
    })
    .default([]),
  prompt: z.string().optional(),
  system: z.string().optional(),
  /** `llm` steps: the model (default `auto`, the router picks). */
  model: modelName.optional(),
  max_tokens: positiveInt.optional(),
  temperature: z.number().min(0).max(2).optional(),
  /** `llm` and `ensemble` steps: `text` (default) or `json` (parsed, and checked against `schema`). */
  output: z.enum(['text', 'json']).optional(),
  /** With `output: json`: the JSON Schema the output must match. */
  schema: z.record(z.string(), z.unknown()).optional(),
  retry: RetrySchema.optional(),
  timeout_ms: positiveInt.optional(),
  until: UntilSchema.optional(),
  back_to: BackToSchema.optional(),
  // ensemble
  strategy: z.enum(ENSEMBLE_STRATEGIES).optional(),
  models: z.array(modelName).min(1, 'models needs at least one model').optional(),
  judge: modelName.optional(),
  quorum: positiveInt.optional(),
  // review
  reviewers: z.array(modelName).min(1, 'reviewers needs at least one model').optional(),
  author: modelName.optional(),
  rounds: z.int().min(1).max(10).optional(),
  /** Score (0..10) at which the reviewed artifact passes (the review default is 8). */
  threshold: z.number().min(0).max(10).optional(),
  /** What is reviewed (a template); defaults to the output of the step's single need. */
  artifact: z.string().optional(),
});

export const StepSchema = StepObjectSchema.transform((step) => {
  if (step.type === 'llm') return { ...step, model: step.model ?? 'auto', output: step.output ?? 'text' };
  if (step.type === 'ensemble') {
    return { ...step, strategy: step.strategy ?? 'consensus', output: step.output ?? 'text' };
  }
  return step;
});

export const WorkflowDefinitionSchema = z.strictObject({
  name: z
    .string(whenMissing('name is required: a slug such as "hometown-distance"'))
    .regex(WORKFLOW_NAME, 'use a lowercase slug: letters, digits, - or _ (e.g. "hometown-distance")'),
  description: z.string().optional(),
  inputs: z.record(identifier('input'), InputSchema).default({}),
  steps: z
    .record(identifier('step'), StepSchema, whenMissing('steps is required: a map of step name → step'))
    .refine((steps) => Object.keys(steps).length > 0, 'a workflow needs at least one step'),
  /** Run outputs: name → template (may read any step). */
  outputs: z.record(identifier('output'), z.string()).optional(),
  /** Stop the run once it has spent this much. */
  max_cost_usd: z.number().positive().optional(),
});

/** A validated definition (defaults applied). */
export type WorkflowDefinition = z.output<typeof WorkflowDefinitionSchema>;
/** What a person writes (defaults optional): what the builder produces and `parseDefinition` accepts. */
export type WorkflowDefinitionInput = z.input<typeof WorkflowDefinitionSchema>;
export type StepDefinition = z.output<typeof StepSchema>;
export type StepDefinitionInput = z.input<typeof StepSchema>;
export type InputDefinition = z.output<typeof InputSchema>;
