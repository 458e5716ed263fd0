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
import { tokenEstimate } from '../budget/index.ts';
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
  private cost: CostBounds | undefined;

  constructor(plan: Plan, request: ChatRequest) {
    this.plan = plan;
    this.request = request;
  }

  /** One pass over the prompt serves the hold, the tpm estimate and the hint (the router's, if it routed). */
  private bounds(): CostBounds {
    this.cost ??= this.plan.route?.task ?? costBounds(this.request);
    return this.cost;
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

  constructor(plan: FanOutPlan, reach: Reach, request: ChatRequest) {
    this.plan = plan;
    this.reach = reach;
    this.request = request;
    this.timeoutMs = plan.timeoutMs || undefined;
  }

  reserveUsd(): number {
    return maxCost(this.plan, analyzeTask(this.request), this.reach);
  }

  estimateTokens(): number {
    return this.plan.models.length * tokenEstimate(this.request);
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
