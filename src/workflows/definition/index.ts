/**
 * Workflow definitions: schema, parsing with every problem reported by path, safe
 * templates, the typed DAG, drawings (Mermaid, DOT) and a TypeScript builder. Pure: no I/O, no clock.
 */
export {
  type FlowNode,
  type GroupNode,
  parallel,
  type StepNode,
  type StepSpec,
  sequence,
  step,
  WorkflowBuilder,
  type WorkflowOptions,
  workflow,
} from './builder.ts';
export { ancestorSet, buildDag, type Dag, findCycles, type NeedsGraph } from './dag.ts';
export { type GraphDefinition, type GraphStep, toDot, toMermaid } from './graph.ts';
export { type ResolveInputsOptions, resolveInputs } from './inputs.ts';
export {
  builtinSchemaCompiler,
  type CompiledSchema,
  checkSchema,
  type SchemaCompiler,
  type SchemaValidation,
  validateAgainst,
} from './json-schema.ts';
export { IDENTIFIER, isIdentifier, MAX_LOOPS, RESERVED_NAMES, WORKFLOW_NAME } from './names.ts';
export { type ParseOptions, type ParseResult, parseDefinition, validateDefinition } from './parse.ts';
export { formatPath, type Problem } from './problems.ts';
export {
  BackToSchema,
  ENSEMBLE_STRATEGIES,
  ensembleFields,
  hasInputType,
  INPUT_TYPES,
  type InputDefinition,
  InputSchema,
  type InputType,
  RetrySchema,
  STEP_TYPES,
  type StepDefinition,
  type StepDefinitionInput,
  StepSchema,
  type StepType,
  UntilSchema,
  type WorkflowDefinition,
  type WorkflowDefinitionInput,
  WorkflowDefinitionSchema,
} from './schema.ts';
export {
  extractReferences,
  inputExpansionExceeds,
  type Reference,
  type RenderOptions,
  render,
  renderValue,
  stringify,
  type TemplateContext,
  TemplateError,
  type TemplateSyntaxError,
  TemplateTooLargeError,
} from './template.ts';
