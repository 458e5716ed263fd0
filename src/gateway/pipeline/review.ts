/** One review execution, shared by POST /v1/reviews and workflow review steps. */
import { type ReviewOptions, type ReviewResult, review } from '../../../consensus/index.ts';
import type { GatewayError } from '../../errors/index.ts';
import { failSpan, metrics, tracer, withSpan } from '../../telemetry/index.ts';
import { authorizeReview } from '../access/index.ts';
import type { Attempt } from '../deployments/index.ts';
import { completer, fanOutFailure } from '../fanout/index.ts';
import type { Gateway } from '../gateway.ts';
import { type ChatContext, RequestContext } from '../request/index.ts';
import { admitRequest } from './admit.ts';
import { ReviewBounds } from './plan.ts';

export interface ReviewRun {
  result: ReviewResult;
  attempts: Attempt[];
  costUsd: number;
}

/**
 * A collaborative review through the gateway (POST /v1/reviews and workflow review steps): every model
 * and its fallbacks authorised (access/reach.ts), the whole loop's worst case over those reserved, each
 * review and revision a normal call, inside a `quorum.ensemble review` span.
 */
export async function runReview(
  gw: Gateway,
  ctx: ChatContext,
  options: ReviewOptions,
  tags?: Record<string, string>,
): Promise<ReviewRun> {
  const reach = authorizeReview(gw, ctx.caller, options);
  const rc = new RequestContext(gw, ctx, tags);
  await admitRequest(gw.limits, gw.config.server.request_timeout_ms, rc, new ReviewBounds(options, reach));
  const refusals: GatewayError[] = [];
  const span = tracer.startSpan('quorum.ensemble review', {
    attributes: { 'quorum.ensemble.strategy': 'review' },
  });
  try {
    const result = await withSpan(span, () => review(options, completer(gw, reach, rc, refusals), rc.signal));
    // What was charged: usage beyond the hold is never charged, nor shown as charged.
    const costUsd = rc.spent.totalUsd;
    span.setAttribute('quorum.cost_usd', costUsd);
    for (const reason of result.degraded ?? []) metrics.fanOutDegraded.inc({ strategy: 'review', reason });
    if (options.author) learnFromReview(gw, rc, options, result);
    return { result, attempts: rc.attempts, costUsd };
  } catch (err) {
    // No readable review, a failed draft: the models' failure, a 502 (504 past the deadline) naming each.
    const failure = fanOutFailure(err, rc, refusals, 'The review');
    failSpan(span, failure.code, failure.message);
    throw failure;
  } finally {
    span.end();
    await rc.end();
  }
}

/** The reviewers' scores of the author's revisions are the author's signal (reported, never fatal). */
function learnFromReview(gw: Gateway, rc: RequestContext, options: ReviewOptions, result: ReviewResult) {
  try {
    gw.learning?.reviewed({
      requestId: rc.id,
      team: rc.caller.team,
      author: options.author!,
      text: `${options.instructions}\n\n${options.artifact}`,
      reviews: result.reviews,
    });
  } catch (err) {
    gw.onError?.(err instanceof Error ? err : new Error(String(err)));
  }
}
