/** One review execution, shared by POST /v1/reviews and workflow review steps. */
import { type ReviewOptions, type ReviewResult, review } from '../../consensus/index.ts';
import type { GatewayError } from '../errors/index.ts';
import { failSpan, metrics, tracer, withSpan } from '../telemetry/index.ts';
import type { ChatContext } from './chat.ts';
import type { Attempt } from './deployment.ts';
import { completer, fanOutFailure } from './fanout.ts';
import { reviewReserve } from './fanout-plan.ts';
import type { Gateway } from './gateway.ts';
import { beginRequest } from './lifecycle.ts';
import { authorizeReview } from './reach.ts';

export interface ReviewRun {
  result: ReviewResult;
  attempts: Attempt[];
  costUsd: number;
}

/**
 * A collaborative review through the gateway (POST /v1/reviews and workflow review steps): every model
 * and its fallbacks authorised (reach.ts), the whole loop's worst case over those reserved, each
 * review and revision a normal call, inside a `quorum.ensemble review` span.
 */
export async function runReview(
  gw: Gateway,
  ctx: ChatContext,
  options: ReviewOptions,
  tags?: Record<string, string>,
): Promise<ReviewRun> {
  const reach = authorizeReview(gw, ctx.caller, options);
  const signals = await beginRequest(gw, ctx, {
    reserveUsd: () => reviewReserve(options, reach),
    estimateTokens: () =>
      (options.reviewers.length + 1) * Math.ceil((options.artifact.length + options.instructions.length) / 4),
    ...(tags ? { tags } : {}),
  });
  const attempts: Attempt[] = [];
  const refusals: GatewayError[] = [];
  const span = tracer.startSpan('quorum.ensemble review', {
    attributes: { 'quorum.ensemble.strategy': 'review' },
  });
  try {
    const result = await withSpan(span, () =>
      review(options, completer(gw, reach, signals, attempts, refusals), signals.signal),
    );
    // What was charged: usage beyond the hold is never charged, nor shown as charged.
    const costUsd = signals.spent.totalUsd;
    span.setAttribute('quorum.cost_usd', costUsd);
    for (const reason of result.degraded ?? []) metrics.fanOutDegraded.inc({ strategy: 'review', reason });
    return { result, attempts, costUsd };
  } catch (err) {
    // No readable review, a failed draft: the models' failure, a 502 (504 past the deadline) naming each.
    const failure = fanOutFailure(err, signals, refusals, 'The review');
    failSpan(span, failure.code, failure.message);
    throw failure;
  } finally {
    span.end();
    await signals.end();
  }
}
