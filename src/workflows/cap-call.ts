/**
 * One step call inside the run's `max_cost_usd`: its worst case (the gateway's own budget hold for the
 * request) is held against the cap before the call is made and settled to what it cost after. A call
 * that would fit once the calls in flight have settled waits for them; one that cannot fit even then
 * fails the step before anything is sent — unless it has no `max_tokens` of its own, in which case it
 * is sent with the largest `max_tokens` that fits (never fewer than MIN_CLAMPED_TOKENS).
 */
import { amountNanos } from '../limits/nanos.ts';
import { type CallPrice, largestFit } from './call-price.ts';
import { formatNanos, type RunCap } from './engine/cost-cap.ts';
import { StepError } from './engine/execute-step.ts';
import type { RunnerKind } from './engine/runner.ts';

/** A call clamped to fewer output tokens than this fails instead: an answer cut that short is no answer. */
export const MIN_CLAMPED_TOKENS = 256;

export interface CappedCall<R, T> {
  kind: RunnerKind;
  request: R;
  /** The request's worst case, priced as the gateway will hold it (in the same turn as the call). */
  price: (request: R) => CallPrice;
  /** The request with another `max_tokens`, for chat calls: to clamp it (`clamp`) or to say what would fit. */
  maxTokens?: { set: (maxTokens: number) => R; clamp: boolean };
  /** Makes the call; `spent` is told what it was charged, also when it fails. */
  call: (request: R, spent: (usd: number) => void) => Promise<T>;
}

export async function withinCap<R, T>(cap: RunCap, signal: AbortSignal, spec: CappedCall<R, T>): Promise<T> {
  for (;;) {
    let request = spec.request;
    let price = spec.price(request);
    const fits = (usd: number) => amountNanos(usd) <= cap.roomNanos;
    if (!fits(price.worstUsd)) {
      const upper = Math.max(0, ...price.specs.map((s) => s.max_output_tokens));
      const set = spec.maxTokens?.set;
      const most = set ? largestFit((n) => spec.price(set(n)).worstUsd, upper, fits) : 0;
      if (!set || !spec.maxTokens?.clamp || most < MIN_CLAMPED_TOKENS) {
        throw new StepError(refusal(cap, spec, price, most), false);
      }
      request = set(most);
      price = spec.price(request);
    }
    // Checked and taken at once (in one JS turn, or in one conditional UPDATE of the run's row).
    const taking = cap.tryHold(price.worstUsd);
    const hold = taking instanceof Promise ? await taking : taking;
    if (!hold) {
      // Only calls in flight stand in the way: once one settles there may be room.
      await cap.released(signal);
      continue;
    }
    // Every admitted gateway request reports its charge when it ends; one refused before admission
    // (a budget, a rate limit) never reports, and cost nothing.
    let cost = 0;
    try {
      return await spec.call(request, (usd) => {
        cost = usd;
      });
    } finally {
      const settled = hold.settle(cost);
      if (settled) await settled;
    }
  }
}

function refusal<R, T>(cap: RunCap, spec: CappedCall<R, T>, price: CallPrice, most: number): string {
  const subject =
    spec.kind === 'llm'
      ? `the call to ${price.what}`
      : spec.kind === 'judge'
        ? `the judge call to ${price.what}`
        : price.what;
  let text =
    `max_cost_usd ${formatNanos(cap.capNanos)} cannot cover the next call: the run has spent ` +
    `${formatNanos(cap.spentNanos)} and ${subject} may cost up to ${formatNanos(amountNanos(price.worstUsd))}.`;
  if (!spec.maxTokens || most < 1) text += ' Raise max_cost_usd.';
  else if (spec.maxTokens.clamp) {
    text += ` At most ${most} output tokens would fit (fewer than ${MIN_CLAMPED_TOKENS}); raise max_cost_usd.`;
  } else text += ` Lower the step's max_tokens to at most ${most}, or raise max_cost_usd.`;
  return text;
}
