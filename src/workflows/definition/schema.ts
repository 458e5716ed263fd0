import { z } from 'zod';
import { SampledModelSchema, SamplingDefaults } from '../../chat/index.ts';
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

// The `.describe()` texts below are what editors show (schemas/workflow.schema.json is generated from
// this file by `npm run schemas`): say what a field does for the person writing the workflow.

export const InputObjectSchema = z
  .strictObject({
    type: z
      .enum(INPUT_TYPES, whenMissing(`type is required: one of ${INPUT_TYPES.join(', ')}`))
      .describe('The type a run must give: string, number (finite), boolean, object or array.'),
    description: z.string().optional().describe('What the input is, for people starting a run.'),
    /** Used when a run does not give this input; an input without a default is required. */
    default: z
      .unknown()
      .optional()
      .describe(
        'Used when a run does not give the input (of the declared type). Without one the input is required.',
      ),
  })
  .describe('A run input, read in templates as {{ inputs.NAME }}.');

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

export const ENSEMBLE_STRATEGIES = ['consensus', 'best_of_n', 'ensemble', 'fusion'] as const;

export const RetrySchema = z
  .strictObject({
    /** Total tries, the first included (1 = no retry). */
    attempts: z
      .int(whenMissing('attempts is required (total tries, 1–10)'))
      .min(1)
      .max(10)
      .describe('Total tries, the first included (1 = no retry). 1 to 10.'),
    /** Wait before each retry, doubling each time (engine's choice of jitter). */
    backoff_ms: z
      .int()
      .min(0)
      .max(600_000)
      .default(1_000)
      .describe('Wait before the first retry, in ms; it doubles before each next one. 0 to 600000.'),
  })
  .describe(
    'Try the step again when an attempt fails with an upstream error, a timeout or invalid JSON. Refusals (budget, unknown or forbidden model, bad template) are not retried.',
  );

/** Re-run the step with the judge's critique as `{{ feedback }}` until it scores `min_score`. */
export const UntilSchema = z
  .strictObject({
    /** The model that scores the output (0..10) and writes the critique. */
    judge: modelName
      .default('auto')
      .describe('The model that scores each output 0 to 10 and writes a critique. Default: auto.'),
    /** What the judge scores against (a template: it may read inputs and needed steps). */
    criteria: z
      .string(whenMissing('criteria is required: say what the judge scores against'))
      .min(1)
      .describe('What the judge scores against; a template that may read inputs and needed steps.'),
    min_score: z
      .number()
      .min(0)
      .max(10)
      .default(8)
      .describe('The score (0 to 10) at which the output is accepted.'),
    max_iterations: loopBound('until.max_iterations').describe(
      `Required: the most times the step is run, 1 to ${MAX_LOOPS}.`,
    ),
    /**
     * When no draft reaches `min_score` within `max_iterations`: `fail` the step (default), or `continue`
     * with the best-scored draft. (A step with `back_to` goes back instead.)
     */
    on_exhausted: z
      .enum(['fail', 'continue'])
      .default('fail')
      .describe(
        'When no output reaches min_score within max_iterations: fail the step, or continue with the best-scored output. A step with back_to goes back instead.',
      ),
  })
  .describe(
    "Run the step again, with the judge's critique as {{ feedback }}, until the judge scores its output at least min_score.",
  );

/** Backtrack to an ancestor with this step's feedback, re-running the steps between. */
export const BackToSchema = z
  .strictObject({
    step: z
      .string(whenMissing('back_to.step is required: the earlier step to return to'))
      .min(1)
      .describe('The earlier step (one this step needs, directly or not) to run again with the feedback.'),
    max_loops: loopBound('back_to.max_loops').describe(
      `Required: the most times this step sends the run back, 1 to ${MAX_LOOPS}; then the run goes on.`,
    ),
  })
  .describe(
    'On a review that asks for changes (or an until loop that never passes): run the named earlier step again with the feedback as its {{ feedback }}, and every step between.',
  );

/** A step's fields, before the per-type defaults (`model: auto`, `strategy: consensus`). */
export const StepObjectSchema = z
  .strictObject({
    type: z
      .enum(STEP_TYPES)
      .default('llm')
      .describe(
        'llm: one model call (default); ensemble: several models and an aggregation; review: reviewers score an artifact and an author revises it; approval: wait for a person.',
      ),
    /** Free text; an approval step shows it to the person. */
    description: z
      .string()
      .optional()
      .describe('Free text; an approval step shows it to the person deciding.'),
    needs: z
      .array(z.string(), {
        error: (issue) =>
          issue.code === 'invalid_type' ? 'needs is a list of step names, e.g. needs: [town_a]' : undefined,
      })
      .default([])
      .describe(
        'The steps that must succeed before this one starts. Steps without needs start at once, in parallel.',
      ),
    prompt: z
      .string()
      .optional()
      .describe(
        "The user message (a template: {{ inputs.NAME }}, {{ steps.NAME.output }}, {{ steps.NAME.output.field }}, {{ feedback }}). Required on llm and ensemble steps; a review step's instructions.",
      ),
    system: z.string().optional().describe('A system message (a template).'),
    /** `llm` steps: the model (default `auto`, the router picks). */
    model: modelName
      .optional()
      .describe(
        'llm steps: a catalog id, alias, ensemble preset or auto[:policy]. Default: auto (the router picks).',
      ),
    max_tokens: positiveInt.optional().describe('The most output tokens of each call.'),
    temperature: z.number().min(0).max(2).optional().describe('Sampling temperature, 0 to 2.'),
    /** `llm` and `ensemble` steps: `text` (default) or `json` (parsed, and checked against `schema`). */
    output: z
      .enum(['text', 'json'])
      .optional()
      .describe(
        'llm and ensemble steps: text (default) or json: the reply is parsed as JSON (and checked against schema), so templates may read its fields.',
      ),
    /** With `output: json`: the JSON Schema the output must match. */
    schema: z
      .record(z.string(), z.unknown())
      .optional()
      .describe(
        'With output: json, the JSON Schema (draft 2020-12) the output must match; a reply that does not is sent back once with the errors.',
      ),
    retry: RetrySchema.optional(),
    timeout_ms: positiveInt.optional().describe('Deadline of each attempt, in ms.'),
    until: UntilSchema.optional(),
    back_to: BackToSchema.optional(),
    // ensemble
    strategy: z
      .enum(ENSEMBLE_STRATEGIES)
      .optional()
      .describe(
        'ensemble steps: consensus (default; majority vote), best_of_n (the judge scores each answer), ensemble (the judge synthesises them) or fusion (the judge analyses them and the synthesizer writes the answer from the analysis).',
      ),
    models: z
      .array(z.union([modelName, SampledModelSchema]))
      .min(1, 'models needs at least one model')
      .optional()
      .describe(
        'ensemble steps: the models asked (at least one; a model may repeat). An entry may be a self-ensemble: {model, samples, temperature | temperatures}.',
      ),
    samples: SamplingDefaults.samples.describe(
      'ensemble steps: how many answers to ask each model for (each is a candidate).',
    ),
    temperatures: SamplingDefaults.temperatures.describe(
      'ensemble steps: the temperature of each sample, in order (one value: every sample at it).',
    ),
    judge: modelName
      .optional()
      .describe(
        'ensemble steps: the judge (required for best_of_n, ensemble and fusion; breaks consensus ties).',
      ),
    synthesizer: modelName
      .optional()
      .describe('ensemble steps, fusion: writes the answer from the analysis (default: the judge).'),
    quorum: positiveInt
      .optional()
      .describe('ensemble steps: answer once this many models have answered (at most the number of models).'),
    // review
    reviewers: z
      .array(modelName)
      .min(1, 'reviewers needs at least one model')
      .optional()
      .describe('review steps: the reviewing models (at least one).'),
    author: modelName
      .optional()
      .describe(
        'review steps: the model that revises the artifact between rounds. Without one, no revision.',
      ),
    rounds: z
      .int()
      .min(1)
      .max(10)
      .optional()
      .describe('review steps: the most review rounds, 1 to 10 (default 3).'),
    /** Score (0..10) at which the reviewed artifact passes (the review default is 8). */
    threshold: z
      .number()
      .min(0)
      .max(10)
      .optional()
      .describe('review steps: the mean score (0 to 10) at which the artifact passes (default 8).'),
    /** What is reviewed (a template); defaults to the output of the step's single need. */
    artifact: z
      .string()
      .optional()
      .describe('review steps: what is reviewed (a template). Default: the output of the one step it needs.'),
  })
  .describe('A step. Which fields apply depends on type.');

export const StepSchema = StepObjectSchema.transform((step) => {
  if (step.type === 'llm') return { ...step, model: step.model ?? 'auto', output: step.output ?? 'text' };
  if (step.type === 'ensemble') {
    return { ...step, strategy: step.strategy ?? 'consensus', output: step.output ?? 'text' };
  }
  return step;
});

export const WorkflowDefinitionSchema = z
  .strictObject({
    name: z
      .string(whenMissing('name is required: a slug such as "hometown-distance"'))
      .regex(WORKFLOW_NAME, 'use a lowercase slug: letters, digits, - or _ (e.g. "hometown-distance")')
      .describe(
        'The workflow name: a lowercase slug (letters, digits, - and _, at most 64). Storing the name again makes a new version.',
      ),
    description: z.string().optional().describe('What the workflow does.'),
    inputs: z
      .record(identifier('input'), InputSchema)
      .default({})
      .describe('The values a run is started with, by name.'),
    steps: z
      .record(identifier('step'), StepSchema, whenMissing('steps is required: a map of step name → step'))
      .refine((steps) => Object.keys(steps).length > 0, 'a workflow needs at least one step')
      .describe('The steps by name (letters, digits, _ and -, starting with a letter or _). At most 200.'),
    /** Run outputs: name → template (may read any step). */
    outputs: z
      .record(identifier('output'), z.string())
      .optional()
      .describe(
        "The run's outputs: name → template that may read any step. A template that is exactly one reference keeps the value's JSON type.",
      ),
    /** Stop the run once it has spent this much. */
    max_cost_usd: z
      .number()
      .positive()
      .optional()
      .describe(
        "The most the run may spend, in USD: each model call's worst case is held against it before the call is made; a call it cannot cover fails its step (and the run).",
      ),
  })
  .describe(
    'A Quorum workflow definition: a DAG of model steps, stored with POST /v1/workflows and run through the API or with quorum run.',
  );

/** A validated definition (defaults applied). */
export type WorkflowDefinition = z.output<typeof WorkflowDefinitionSchema>;
/** What a person writes (defaults optional): what the builder produces and `parseDefinition` accepts. */
export type WorkflowDefinitionInput = z.input<typeof WorkflowDefinitionSchema>;
export type StepDefinition = z.output<typeof StepSchema>;
export type StepDefinitionInput = z.input<typeof StepSchema>;
export type InputDefinition = z.output<typeof InputSchema>;

/**
 * An ensemble step's candidates and judges as a `quorum.ensemble` body names them: how the runner calls
 * the step and how its models are checked when the definition is stored, from one place.
 */
export function ensembleFields(step: StepDefinition) {
  return {
    ...(step.models && { models: step.models }),
    ...(step.samples !== undefined && { samples: step.samples }),
    ...(step.temperatures && { temperatures: step.temperatures }),
    ...(step.judge && { judge: step.judge }),
    ...(step.synthesizer && { synthesizer: step.synthesizer }),
  };
}
