import type { CostBounds, DeploymentHealth, TaskProfile } from './route-types.ts';
import { isEmbeddingModel, type ModelSpec } from './types.ts';

/**
 * Output tokens set aside in the context-window check when the request gives no max_tokens. Requiring
 * the model's full max_output_tokens (often 128K) would reject every long prompt for an answer it
 * will never write; 4,096 covers nearly all real answers, and the provider still caps the rest.
 */
export const OUTPUT_RESERVE = 4096;

/** Output tokens a request is assumed to produce: what it asked for, else OUTPUT_RESERVE (capped by the model). */
export function outputReserve(spec: ModelSpec, task: TaskProfile): number {
  return task.maxOutputTokens ?? Math.min(spec.max_output_tokens, OUTPUT_RESERVE);
}

/**
 * The most this request can cost on this model: the prompt's upper-bound estimate (no more than the
 * context window, which no provider bills past) × input price + (max_tokens, else the model's
 * max_output_tokens) × output price, per million. Budgets reserve this, and `max_cost_usd` is checked
 * against it.
 */
export function worstCaseCost(spec: ModelSpec, task: CostBounds): number {
  const output = task.maxOutputTokens ?? spec.max_output_tokens;
  const prompt = Math.min(task.promptTokensMax ?? task.promptTokens, spec.context_window);
  return (prompt * spec.price.input + output * spec.price.output) / 1e6;
}

/**
 * The largest `max_tokens` whose worst case fits `budgetUsd` on this model (the inverse of
 * worstCaseCost); 0 when the prompt alone may cost more.
 */
export function outputTokensWithin(spec: ModelSpec, task: CostBounds, budgetUsd: number): number {
  const prompt = Math.min(task.promptTokensMax ?? task.promptTokens, spec.context_window);
  const left = budgetUsd * 1e6 - prompt * spec.price.input;
  if (left <= 0) return 0;
  if (spec.price.output <= 0) return spec.max_output_tokens;
  return Math.min(spec.max_output_tokens, Math.floor(left / spec.price.output));
}

/** The request-level restrictions, prepared once per `route()` call. */
export interface FilterLimits {
  /** `quorum.route.models`, or null for no restriction. */
  models: ReadonlySet<string> | null;
  /** The team's allow-list, or null for everything. */
  allowList: ReadonlySet<string> | null;
  maxCostUsd: number | undefined;
}

/** True when the set names the model by id or by any alias. */
export function listsModel(set: ReadonlySet<string>, spec: ModelSpec): boolean {
  if (set.has(spec.id)) return true;
  for (const alias of spec.aliases) if (set.has(alias)) return true;
  return false;
}

/** Four significant digits are enough to see why a cost check failed. */
const usd = (x: number) => `$${Number(x.toPrecision(4))}`;

/**
 * Why this deployment cannot serve the task, or undefined when it can. Checks run cheapest and most
 * deliberate first (who may be used), then fit (capabilities, context, output), then money, then
 * health, and the first failure is the reason.
 */
export function exclusionReason(
  spec: ModelSpec,
  task: TaskProfile,
  limits: FilterLimits,
  health: DeploymentHealth | undefined,
): string | undefined {
  // Chat is all the router routes: an embedding model answers POST /v1/embeddings only.
  if (isEmbeddingModel(spec)) return 'embedding model (POST /v1/embeddings only)';
  if (limits.models && !listsModel(limits.models, spec)) return 'not in quorum.route.models';
  if (limits.allowList && !listsModel(limits.allowList, spec)) return 'not in team allow-list';
  let missing: string | undefined;
  for (const cap of task.required) {
    if (!spec.capabilities.includes(cap)) missing = missing ? `${missing}, ${cap}` : cap;
  }
  if (missing) return `lacks capability: ${missing}`;
  const needed = task.promptTokens + outputReserve(spec, task);
  if (spec.context_window < needed) return `context window ${spec.context_window} < needed ${needed}`;
  if (task.maxOutputTokens !== null && spec.max_output_tokens < task.maxOutputTokens) {
    return `max_output_tokens ${spec.max_output_tokens} < requested ${task.maxOutputTokens}`;
  }
  if (limits.maxCostUsd !== undefined) {
    const cost = worstCaseCost(spec, task);
    if (cost > limits.maxCostUsd)
      return `worst-case cost ${usd(cost)} > max_cost_usd ${usd(limits.maxCostUsd)}`;
  }
  if (health?.circuit === 'open') return 'circuit open';
  return undefined;
}
