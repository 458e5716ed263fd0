/**
 * The most a workflow step's call can cost, priced exactly as the gateway prices the budget hold of the
 * same request (worstCaseCost over the chain, maxCost for a fan-out, reviewReserve for a review). The
 * gateway never charges a request more than that hold, so a call held at this price against the run's
 * `max_cost_usd` cannot spend past it.
 */
import type { ReviewOptions } from '../../consensus/index.ts';
import { analyzeTask } from '../../routing/analyze.ts';
import { worstCaseCost } from '../../routing/filter.ts';
import type { ModelSpec } from '../../routing/types.ts';
import type { ChatRequest } from '../chat/index.ts';
import {
  authorizeChat,
  authorizeReview,
  type Caller,
  type Gateway,
  maxCost,
  reviewReserve,
} from '../gateway/index.ts';

export interface CallPrice {
  /** The request's worst case in USD: its budget hold. */
  worstUsd: number;
  /** Every catalog entry the call can end on (fallbacks included). */
  specs: ModelSpec[];
  /** What is called, for messages: `oa-model`, `the consensus ensemble of a, b`. */
  what: string;
}

const unique = (specs: ModelSpec[]) => [...new Set(specs)];

/** A chat request (llm, judge, ensemble steps), through the same authorization a call meets. */
export function priceChat(gw: Gateway, caller: Caller, request: ChatRequest): CallPrice {
  const decision = authorizeChat(gw, caller, request);
  if (decision.kind === 'fanout') {
    const { plan, reach } = decision;
    return {
      worstUsd: maxCost(plan, analyzeTask(request), reach),
      specs: unique(plan.named.flatMap((n) => reach.specs(n.model))),
      what: `the ${plan.strategy} ensemble of ${plan.models.join(', ')}${plan.judge ? ` judged by ${plan.judge}` : ''}`,
    };
  }
  const { plan } = decision;
  const task = plan.route?.task ?? analyzeTask(request);
  let most = 0;
  for (const dep of plan.chain) most = Math.max(most, worstCaseCost(dep.spec, task));
  const specs = unique(plan.chain.map((d) => d.spec));
  return { worstUsd: most, specs, what: [...new Set(specs.map((s) => s.id))].join(' or ') };
}

/** A review step's whole loop: every review and revision it may make. */
export function priceReview(gw: Gateway, caller: Caller, options: ReviewOptions): CallPrice {
  const reach = authorizeReview(gw, caller, options);
  const names = [...options.reviewers, ...(options.author ? [options.author] : [])];
  return {
    worstUsd: reviewReserve(options, reach),
    specs: unique(names.flatMap((n) => reach.specs(n))),
    what: `the review by ${options.reviewers.join(', ')}${options.author ? ` (author ${options.author})` : ''}`,
  };
}

/**
 * The largest `max_tokens` in [1, upper] whose price is at most `roomUsd` (in nanos: `fits`), or 0 when
 * not even one token fits. Prices grow with max_tokens, so a binary search finds it in ~17 pricings.
 */
export function largestFit(
  priceFor: (maxTokens: number) => number,
  upper: number,
  fits: (usd: number) => boolean,
) {
  if (upper < 1 || !fits(priceFor(1))) return 0;
  let lo = 1;
  let hi = upper;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(priceFor(mid))) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
