/**
 * Output caps for callers with a budget. A request without max_tokens is held on a configured output
 * allowance (not the model's whole max_output_tokens, which can cost more than a team has left), and
 * that allowance is sent upstream as the request's cap, so the hold still bounds what it can cost.
 * When even that cap does not fit what remains, it is lowered to what the remainder pays for, down to
 * a floor; only below the floor is the request refused. Pure functions: admission.ts does the
 * reserving, with retries driven by each refusal's own status (never a check and then a reserve).
 */
import type { ModelSpec } from '../../../routing/types.ts';

/** The response header naming the output cap the gateway set. */
export const OUTPUT_CAP_HEADER = 'x-quorum-max-tokens';

export const DEFAULT_MAX_OUTPUT_TOKENS = 4096;
export const MIN_OUTPUT_TOKENS = 256;

/** How many times a clamped hold is retried when other requests took the remainder meanwhile. */
export const CLAMP_RETRIES = 3;

/** A team's output-cap settings: the allowance of a request without max_tokens, and the clamp's floor. */
export interface OutputCapSettings {
  defaultMaxOutputTokens: number;
  minOutputTokens: number;
}

/** Why the gateway set the output cap: the budget's allowance, or a remainder too small for it. */
export type OutputCapReason = 'default_allowance' | 'budget_remaining';

/** The cap the gateway set, as the answer's `quorum.output_cap` shows it. */
export interface OutputCap {
  max_tokens: number;
  reason: OutputCapReason;
}

interface CapConfig {
  budget?: { default_max_output_tokens?: number; min_output_tokens?: number } | undefined;
  teams: readonly {
    id: string;
    budget?: { default_max_output_tokens?: number; min_output_tokens?: number } | undefined;
  }[];
}

/** The settings for a team: its budget's overrides, else the top-level `budget` section, else defaults. */
export function outputCapSettings(config: CapConfig, team: string): OutputCapSettings {
  const own = config.teams.find((t) => t.id === team)?.budget;
  return {
    defaultMaxOutputTokens:
      own?.default_max_output_tokens ?? config.budget?.default_max_output_tokens ?? DEFAULT_MAX_OUTPUT_TOKENS,
    minOutputTokens: own?.min_output_tokens ?? config.budget?.min_output_tokens ?? MIN_OUTPUT_TOKENS,
  };
}

/**
 * The output allowance of a request without max_tokens whose calls may reach `specs` (the first is
 * the model it names): that model's own `default_max_output_tokens`, else the team's; never more than
 * any of them can write, so every deployment accepts the cap. Null when no model reached charges for
 * output: a free answer needs no cap.
 */
export function outputAllowance(settings: OutputCapSettings, specs: readonly ModelSpec[]): number | null {
  if (!specs.some((s) => s.price.output > 0)) return null;
  let cap = specs[0]?.default_max_output_tokens ?? settings.defaultMaxOutputTokens;
  for (const s of specs) if (s.max_output_tokens > 0) cap = Math.min(cap, s.max_output_tokens);
  return Math.max(1, cap);
}

/**
 * The largest output cap in [lo, hi] whose worst-case cost fits `budgetUsd` (costs grow with the cap),
 * or undefined when even `lo` does not fit.
 */
export function largestCapWithin(
  lo: number,
  hi: number,
  costAt: (cap: number) => number,
  budgetUsd: number,
): number | undefined {
  if (hi < lo || costAt(lo) > budgetUsd) return undefined;
  if (costAt(hi) <= budgetUsd) return hi;
  let ok = lo;
  let bad = hi;
  while (bad - ok > 1) {
    const mid = Math.floor((ok + bad) / 2);
    if (costAt(mid) <= budgetUsd) ok = mid;
    else bad = mid;
  }
  return ok;
}

/**
 * The budget backend rounds a hold up to the nano-dollar: a cap priced a hair under the remainder can
 * still be refused, so the clamp aims this far below it.
 */
const ROUNDING_USD = 1e-8;

/** A request's output cap under a budget: what it is held on, and how far it may be lowered. */
export class OutputCapping {
  /** The cap the request is first held on (the allowance, or its own max_tokens). */
  readonly wanted: number;
  /** Whether the gateway chose `wanted` (no max_tokens in the request) or the client did. */
  readonly defaulted: boolean;
  private readonly floor: number;
  private readonly costAt: (cap: number) => number;

  constructor(
    wanted: number,
    defaulted: boolean,
    settings: OutputCapSettings,
    costAt: (cap: number) => number,
  ) {
    this.wanted = wanted;
    this.defaulted = defaulted;
    // A request that asked for fewer tokens than the floor is not lowered at all.
    this.floor = Math.min(settings.minOutputTokens, wanted);
    this.costAt = costAt;
  }

  /** The cap the request is held on before any clamp: set by the gateway only when it had none. */
  initial(): OutputCap | undefined {
    return this.defaulted ? { max_tokens: this.wanted, reason: 'default_allowance' } : undefined;
  }

  /** The hold for the first cap. */
  reserveUsd(): number {
    return this.costAt(this.wanted);
  }

  /**
   * The largest cap (not above the first, not below the floor) whose worst case fits `remainingUsd`,
   * with its hold; undefined when the floor does not fit.
   */
  clampTo(remainingUsd: number): { cap: OutputCap; reserveUsd: number } | undefined {
    const cap = largestCapWithin(this.floor, this.wanted - 1, this.costAt, remainingUsd - ROUNDING_USD);
    if (cap === undefined) return undefined;
    return { cap: { max_tokens: cap, reason: 'budget_remaining' }, reserveUsd: this.costAt(cap) };
  }

  /** The largest max_tokens the remainder pays for, from one token up (for a refusal's message). */
  fits(remainingUsd: number): number {
    return largestCapWithin(1, this.wanted, this.costAt, remainingUsd - ROUNDING_USD) ?? 0;
  }

  get minOutputTokens(): number {
    return this.floor;
  }
}

/**
 * The request as sent upstream with the gateway's cap: each output limit the client set is lowered to
 * it; with none, it goes as `max_completion_tokens` (OpenAI's current name; the Anthropic and Gemini
 * adapters read either).
 */
export function withOutputCap<
  T extends { max_tokens?: number | null; max_completion_tokens?: number | null },
>(request: T, cap: number): T {
  const hasLegacy = request.max_tokens != null;
  const hasCurrent = request.max_completion_tokens != null;
  return {
    ...request,
    ...(hasLegacy ? { max_tokens: Math.min(request.max_tokens!, cap) } : {}),
    ...(hasCurrent || !hasLegacy
      ? { max_completion_tokens: Math.min(request.max_completion_tokens ?? cap, cap) }
      : {}),
  };
}
