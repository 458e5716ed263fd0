/**
 * The router's inputs and outputs. `route()` (routing/route.ts) is a pure function of these: no clock,
 * no I/O, no randomness, so the same inputs always give the same decision.
 */
import type { Capability, Category, ModelSpec, Policy } from './types.ts';

/** What routing learned about a request from its body alone. */
export interface TaskProfile {
  /** Weights over categories, summing to 1. */
  categories: Record<Category, number>;
  /** 0 (trivial: a greeting) .. 1 (hard: multi-step proof, large refactor). */
  difficulty: number;
  /** Capabilities a model must have to serve the request. */
  required: Capability[];
  /** Estimated prompt tokens (messages + tools), typical for natural text: for context-window fit. */
  promptTokens: number;
  /**
   * The most the prompt can bill (every script, file, audio and image at its upper bound): what the
   * worst-case cost holds. Absent: `promptTokens`.
   */
  promptTokensMax?: number;
  /** Output tokens reserved: the larger of max_completion_tokens and max_tokens, else null (the model's own maximum). */
  maxOutputTokens: number | null;
}

/** What a price needs of a task: the prompt's size and the output limit (no categories, no difficulty). */
export type CostBounds = Pick<TaskProfile, 'promptTokens' | 'promptTokensMax' | 'maxOutputTokens'>;

/** What the router may know about a deployment's recent behaviour (the gateway keeps it). */
export interface DeploymentHealth {
  /** EWMA of answered-call latency in ms; undefined before the first answer. */
  latencyMs?: number;
  /** EWMA of the failure rate, 0..1. */
  errorRate: number;
  circuit: 'closed' | 'open' | 'half_open';
  /** Calls in flight now. */
  inFlight: number;
}

/** Health by deployment key (`deploymentKey(spec)`); a missing entry means "no data, healthy". */
export type HealthView = (spec: ModelSpec) => DeploymentHealth | undefined;

export interface RouteOptions {
  policy: Policy;
  /** Raises the quality bar (0..1). */
  minQuality?: number;
  /** Worst-case cost limit for this request, in USD. */
  maxCostUsd?: number;
  /** `quorum.route.models`: only these names (ids or aliases) may be chosen. */
  models?: readonly string[];
  /** The team's allow-list (names, aliases or presets); null = everything. */
  allowList?: ReadonlySet<string> | null;
  /** `routing.fallbacks` from the config: explicit chains by model id. */
  fallbacks?: Readonly<Record<string, readonly string[]>>;
}

export interface CandidateScores {
  /** Expected quality for this task, 0..1 (category-weighted). */
  quality: number;
  /** Worst-case cost of this request on this model, USD. */
  cost_usd: number;
  /** Expected latency in ms (health EWMA or a default by model size/price). */
  latency_ms: number;
  /** The policy's score; higher is better. */
  total: number;
}

/** One catalog model in the explanation record (the API's `quorum.route.candidates[]`). */
export interface RouteCandidate {
  model: string;
  eligible: boolean;
  /** Why it was excluded (present when not eligible), e.g. `lacks capability: tools`. */
  reason?: string;
  scores?: CandidateScores;
}

export interface RoutePlan {
  policy: Policy;
  /** The chosen catalog id, or null when no candidate is eligible. */
  chosen: string | null;
  /** One line: why the chosen model beat the next one (routing/why.ts). */
  why: string;
  task: TaskProfile;
  /** The quality bar used (difficulty-derived, raised by min_quality). */
  bar: number;
  /** Every distinct catalog id, chosen first, then eligible by score, then the excluded. */
  candidates: RouteCandidate[];
  /** Ordered fallback ids after `chosen`: configured chain first, then the next-best eligible. */
  fallbacks: string[];
}
