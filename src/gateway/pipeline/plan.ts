/**
 * The plan stage: the one authorization decision (every model the request can reach, checked against
 * the caller's allow-list before any call), the cache lookup for a single model's request, and the
 * bounds admission prices the request on — all before anything is spent.
 */
import type { ReviewOptions } from '../../../consensus/index.ts';
import { analyzeTask, costBounds } from '../../../routing/analyze.ts';
import { OUTPUT_RESERVE } from '../../../routing/filter.ts';
import type { CostBounds } from '../../../routing/route-types.ts';
import type { ChatRequest } from '../../chat/index.ts';
import {
  authorizeChat,
  chainFit,
  chainReserve,
  type FanOutPlan,
  maxCost,
  type Plan,
  type Reach,
  reviewReserve,
} from '../access/index.ts';
import { OutputCapping, type OutputCapSettings, outputAllowance, tokenEstimate } from '../budget/index.ts';
import type { CachedAnswer } from '../cache/index.ts';
import type { Gateway } from '../gateway.ts';
import type { RequestBounds, RequestContext } from '../request/index.ts';

export type ChatPlan =
  | {
      kind: 'single';
      plan: Plan;
      /** The cache key, when the request is cacheable. */
      cacheKey: string | null;
      /** A cached answer for it, if any: no admission, no call. */
      hit: CachedAnswer | undefined;
    }
  | { kind: 'fanout'; plan: FanOutPlan; reach: Reach };

/** Plans a chat request: authorizes it, records the router's choice on the request, looks up the cache. */
export function planChat(gw: Gateway, rc: RequestContext, request: ChatRequest): ChatPlan {
  const decision = authorizeChat(gw, rc.caller, request);
  if (decision.kind === 'fanout') return { kind: 'fanout', plan: decision.plan, reach: decision.reach };
  rc.route = decision.plan.route;
  const cacheKey = gw.cache.keyFor(rc.caller.team, request);
  const hit = cacheKey ? gw.cache.get(cacheKey) : undefined;
  return { kind: 'single', plan: decision.plan, cacheKey, hit };
}

/** A single model's request: its chain's priciest deployment, and what would fit a budget's remainder. */
export class ChainBounds implements RequestBounds {
  private readonly plan: Plan;
  private readonly request: ChatRequest;
  /** With a budget: the team's output-cap settings (output-cap.ts). */
  private readonly capSettings: OutputCapSettings | undefined;
  private raw: CostBounds | undefined;
  private cost: CostBounds | undefined;
  private capper: OutputCapping | null | undefined;

  constructor(plan: Plan, request: ChatRequest, capSettings?: OutputCapSettings) {
    this.plan = plan;
    this.request = request;
    this.capSettings = capSettings;
  }

  /** One pass over the prompt serves the hold, the tpm estimate and the hint (the router's, if it routed). */
  private requestBounds(): CostBounds {
    this.raw ??= this.plan.route?.task ?? costBounds(this.request);
    return this.raw;
  }

  /** The request's bounds, its output at the gateway's allowance when it set no max_tokens. */
  private bounds(): CostBounds {
    if (this.cost) return this.cost;
    const raw = this.requestBounds();
    const capping = this.capping();
    this.cost = capping?.defaulted ? { ...raw, maxOutputTokens: capping.wanted } : raw;
    return this.cost;
  }

  capping(): OutputCapping | undefined {
    if (this.capper !== undefined) return this.capper ?? undefined;
    this.capper = null;
    if (!this.capSettings) return undefined;
    const raw = this.requestBounds();
    const specs = this.plan.chain.map((d) => d.spec);
    const wanted = raw.maxOutputTokens ?? outputAllowance(this.capSettings, specs);
    if (wanted == null) return undefined;
    const plan = this.plan;
    this.capper = new OutputCapping(wanted, raw.maxOutputTokens == null, this.capSettings, (cap) =>
      chainReserve(plan, { ...raw, maxOutputTokens: cap }),
    );
    return this.capper;
  }

  reserveUsd(): number {
    return chainReserve(this.plan, this.bounds());
  }

  fitHint(remainingUsd: number): string {
    return chainFit(this.plan, this.bounds(), remainingUsd);
  }

  estimateTokens(): number {
    const b = this.bounds();
    return (b.promptTokensMax ?? b.promptTokens) + (b.maxOutputTokens ?? OUTPUT_RESERVE);
  }
}

/** A fan-out: every call its strategy may make, each on the dearest deployment it can fall back to. */
export class FanOutBounds implements RequestBounds {
  readonly timeoutMs: number | undefined;
  private readonly plan: FanOutPlan;
  private readonly reach: Reach;
  private readonly request: ChatRequest;
  /** With a budget: the team's output-cap settings; every call that inherits the request's cap gets it. */
  private readonly capSettings: OutputCapSettings | undefined;
  private capper: OutputCapping | null | undefined;

  constructor(plan: FanOutPlan, reach: Reach, request: ChatRequest, capSettings?: OutputCapSettings) {
    this.plan = plan;
    this.reach = reach;
    this.request = request;
    this.timeoutMs = plan.timeoutMs || undefined;
    this.capSettings = capSettings;
  }

  reserveUsd(): number {
    const capping = this.capping();
    return capping ? capping.reserveUsd() : maxCost(this.plan, analyzeTask(this.request), this.reach);
  }

  capping(): OutputCapping | undefined {
    if (this.capper !== undefined) return this.capper ?? undefined;
    this.capper = null;
    if (!this.capSettings) return undefined;
    const task = analyzeTask(this.request);
    // Every model that may write the request's answer (candidates, and an aggregator or synthesizer,
    // which inherit its cap): the allowance is the smallest any of them takes.
    const writers = [...this.plan.models, this.plan.judge, this.plan.synthesizer];
    const specs = writers.flatMap((m) => (m ? this.reach.specs(m) : []));
    const allowance = outputAllowance(this.capSettings, specs);
    const own = task.maxOutputTokens;
    const wanted =
      own ??
      (allowance == null
        ? null
        : Math.min(
            allowance,
            ...this.plan.models.map((m) => this.reach.specs(m)[0]?.default_max_output_tokens ?? allowance),
          ));
    if (wanted == null) return undefined;
    const { plan, reach } = this;
    this.capper = new OutputCapping(wanted, own == null, this.capSettings, (cap) =>
      maxCost(plan, { ...task, maxOutputTokens: cap }, reach),
    );
    return this.capper;
  }

  fitHint(remainingUsd: number): string | undefined {
    const fits = this.capping()?.fits(remainingUsd) ?? 0;
    return fits >= 1
      ? `With \`max_tokens\` of at most ${fits} it would fit the remaining budget.`
      : undefined;
  }

  estimateTokens(): number {
    const capping = this.capping();
    const request = capping?.defaulted
      ? { ...this.request, max_completion_tokens: capping.wanted }
      : this.request;
    return this.plan.models.length * tokenEstimate(request);
  }
}

/** A collaborative review: every review and revision its loop may make. */
export class ReviewBounds implements RequestBounds {
  private readonly options: ReviewOptions;
  private readonly reach: Reach;

  constructor(options: ReviewOptions, reach: Reach) {
    this.options = options;
    this.reach = reach;
  }

  reserveUsd(): number {
    return reviewReserve(this.options, this.reach);
  }

  estimateTokens(): number {
    const { reviewers, artifact, instructions } = this.options;
    return (reviewers.length + 1) * Math.ceil((artifact.length + instructions.length) / 4);
  }
}
