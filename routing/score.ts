import { BAND_HARD, BAND_MEDIUM } from './difficulty.ts';
import { outputReserve } from './filter.ts';
import type { DeploymentHealth, TaskProfile } from './route-types.ts';
import type { ModelSpec, Policy } from './types.ts';

/**
 * The quality a task needs in its category, by band: what the calibration set labels easy, medium and
 * hard need (bench/calibration/dataset.ts). A greeting needs only BAR_BASE.
 */
export const NEED = { easy: 0.55, medium: 0.7, hard: 0.86 } as const;
export const BAR_BASE = 0.45;
/**
 * `balanced` reads every task this much harder than the analyzer does (in difficulty): a margin for
 * the analyzer's errors, paid for with a pricier model near a band boundary. The smallest margin that
 * keeps 98% of the calibration set's tune part at its needed quality (docs/routing.md, "Calibration").
 */
export const BALANCED_MARGIN = 0.15;

/**
 * The quality bar for a difficulty: from BAR_BASE (a greeting) up to the easy need across the easy
 * band, then the medium need from BAND_MEDIUM and the hard need from BAND_HARD (the band boundaries
 * the analyzer was fitted to). `min_quality` can only raise it. Clamped to [0, 1].
 */
export function qualityBar(difficulty: number, minQuality?: number): number {
  const bar =
    difficulty >= BAND_HARD
      ? NEED.hard
      : difficulty >= BAND_MEDIUM
        ? NEED.medium
        : BAR_BASE + ((NEED.easy - BAR_BASE) * Math.max(0, difficulty)) / BAND_MEDIUM;
  const raised = Math.max(bar, minQuality ?? 0);
  return raised < 0 ? 0 : raised > 1 ? 1 : raised;
}

/** The bar a policy routes to: `balanced` adds its margin to the difficulty first. */
export function policyBar(policy: Policy, difficulty: number, minQuality?: number): number {
  return qualityBar(policy === 'balanced' ? difficulty + BALANCED_MARGIN : difficulty, minQuality);
}

/** Σ category weight × the model's quality in that category. */
export function expectedQuality(spec: ModelSpec, task: TaskProfile): number {
  const w = task.categories;
  const q = spec.quality;
  // Unrolled over CATEGORIES: this runs once per model per request.
  return (
    w.general * q.general +
    w.code * q.code +
    w.math * q.math +
    w.reasoning * q.reasoning +
    w.writing * q.writing
  );
}

/**
 * What the request is expected to cost: like the worst case, but with the output reserve (max_tokens,
 * else at most 4,096) instead of the model's full max_output_tokens. Ranking on the worst case would
 * make a model look 8× cheaper just because its output cap is 16K rather than 128K.
 */
export function expectedCost(spec: ModelSpec, task: TaskProfile): number {
  return (task.promptTokens * spec.price.input + outputReserve(spec, task) * spec.price.output) / 1e6;
}

/** USD per 1M tokens treated as "practically free": the scale of the log-cost penalty. */
export const PRICE_FLOOR = 0.01;

/**
 * Cost on a log scale: log2(1 + cost / ε), where ε is what the same tokens cost at PRICE_FLOOR. Free
 * models score 0, one at the floor price 1, and each doubling of price adds about 1. So cost / ε is
 * the task's blended price per token over $0.01/M: independent of prompt size and of other models,
 * which keeps every model's score a function of its own spec (what the monotonicity tests rely on).
 */
export function costPenalty(spec: ModelSpec, task: TaskProfile, cost = expectedCost(spec, task)): number {
  const tokens = task.promptTokens + outputReserve(spec, task);
  const epsilon = (tokens * PRICE_FLOOR) / 1e6;
  return epsilon > 0 ? Math.log2(1 + cost / epsilon) : 0;
}

/**
 * Latency with no measurement yet: pricier models are bigger and slower. 500 ms plus 250 ms per
 * doubling of the mean of input and output price (free: 500 ms; $0.10/$0.50: ~650 ms; $8/$40: ~1.8 s).
 */
export function defaultLatencyMs(spec: ModelSpec): number {
  return 500 + 250 * Math.log2(1 + (spec.price.input + spec.price.output) / 2);
}

/** The latency EWMA when there is one, else the default; a failure rate r costs r retries' worth more. */
export function expectedLatencyMs(spec: ModelSpec, health: DeploymentHealth | undefined): number {
  const base = health?.latencyMs ?? defaultLatencyMs(spec);
  return base * (1 + (health?.errorRate ?? 0));
}

/** How much a doubling of price must buy under `balanced` (see balancedValue). */
export const BALANCE_LAMBDA = 0.05;
/** Quality more than this far above the bar buys nothing under `balanced`: the task cannot use it. */
export const QUALITY_HEADROOM = 0.1;

/**
 * Quality per log-dollar: min(q, bar + headroom) / (1 + λ·penalty). A free model keeps its full
 * (usable) quality; at typical penalties (5-12) one doubling of price must buy about 3-4% more usable
 * quality to pay off. The headroom cap is what keeps a $40/M model off a greeting: for an easy task
 * every competent model is equally good, so price decides; for a hard one the cap is out of reach and
 * quality counts in full.
 */
export function balancedValue(quality: number, penalty: number, bar: number): number {
  const usable = Math.min(quality, bar + QUALITY_HEADROOM);
  return usable / (1 + BALANCE_LAMBDA * penalty);
}

/**
 * The policy's score, higher is better. `quality` ranks every eligible model by quality alone. The
 * others rank models that clear the bar in (0, 1] by their own measure, and the rest by quality in
 * [-1, 0), so a model below the bar never beats one above it and, when none clears, the best one
 * comes first. A negative total therefore reads "below the bar by 1 − total in quality".
 */
export function policyTotal(
  policy: Policy,
  quality: number,
  penalty: number,
  latencyMs: number,
  bar: number,
): number {
  if (policy === 'quality') return quality;
  if (quality < bar) return quality - 1;
  if (policy === 'cost') return 1 / (1 + penalty);
  if (policy === 'latency') return 1 / (1 + latencyMs / 1000);
  return balancedValue(quality, penalty, bar);
}
