/** The strategies' glue: the review strategy as a chat fan-out, the `quorum` record's fan-out part, sums. */
import {
  type AggregationResult,
  type Complete,
  type Completion,
  type CompletionRequest,
  errorMessage,
  type ReviewResult,
  requestText,
  review,
  StrategyFailure,
  sampleRequest,
} from '../../../consensus/index.ts';
import { requestedOutputTokens } from '../../../routing/request.ts';
import type { Usage } from '../../chat/index.ts';
import { GatewayError } from '../../errors/index.ts';
import { amountNanos, usdOfNanos } from '../../limits/nanos.ts';
import { metrics } from '../../telemetry/index.ts';
import type { FanOutPlan } from '../access/index.ts';
import { addUsage, NO_USAGE } from '../replies/index.ts';

/** What the calls cost, summed exactly (each is already whole nanos). */
export function sumCalls(calls: readonly Completion[]) {
  let nanos = 0;
  for (const c of calls) nanos += amountNanos(c.cost_usd);
  return {
    usage: calls.reduce<Usage>((u, c) => addUsage(u, c.usage), NO_USAGE),
    cost: usdOfNanos(nanos),
    models: [...new Set(calls.map((c) => c.model))].join(','),
  };
}

/** The fan-out part of the `quorum` record. */
export function aggregationRecord(result: AggregationResult) {
  return {
    strategy: result.strategy,
    candidates: result.candidates,
    agreement: result.agreement,
    ...(result.groups ? { groups: result.groups } : {}),
    selected: result.selected,
    ...(result.judge ? { judge: result.judge } : {}),
    ...(result.analysis ? { analysis: result.analysis } : {}),
    ...(result.degraded?.length ? { degraded: result.degraded } : {}),
  };
}

/**
 * A fan-out whose judge or a reviewer failed still answers, but never silently: the record says so, a
 * metric counts it, and `"quorum": {"strict": true}` makes it a 502 instead.
 */
export function degradation(
  result: Pick<AggregationResult, 'strategy' | 'degraded' | 'judge'>,
  strict: boolean,
): GatewayError | undefined {
  if (!result.degraded?.length) return undefined;
  for (const reason of result.degraded) metrics.fanOutDegraded.inc({ strategy: result.strategy, reason });
  if (!strict) return undefined;
  return new GatewayError(
    'upstream_failed',
    `The ${result.strategy} fan-out answered without what it needed (${result.degraded.join(', ')}); "quorum": {"strict": true} refuses such an answer.${result.judge ? ` Judge: ${result.judge.rationale}` : ''}`,
  );
}

/**
 * `review` as a chat strategy: the first model drafts an answer to the request, the others review it,
 * and the first revises until the loop's rules stop it (Self-Refine with a panel).
 */
export async function reviewStrategy(
  plan: FanOutPlan,
  base: CompletionRequest,
  complete: Complete,
  signal: AbortSignal,
) {
  const [author, ...reviewers] = plan.models;
  if (!author || !reviewers.length) {
    throw new GatewayError(
      'invalid_body',
      'The review strategy needs an author and at least one reviewer model.',
      {
        param: 'quorum.ensemble.models',
      },
    );
  }
  const [authorTemperature, ...reviewerTemperatures] = plan.temperatures ?? [];
  let draft: Completion;
  try {
    draft = await complete(author, sampleRequest(base, authorTemperature), signal);
  } catch (err) {
    // A refusal of the client's own request stays the client's 400; anything else is the author's failure.
    if (err instanceof GatewayError && err.status === 400) throw err;
    const attempt = { model: author, role: 'author' as const, error: errorMessage(err) };
    throw new StrategyFailure('the author could not draft an answer to review', [attempt], {
      aborted: signal.aborted,
    });
  }
  const limit = requestedOutputTokens(base);
  const result = await review(
    {
      artifact: draft.content,
      instructions: `Answer this request as well as possible:\n${requestText(base)}`,
      reviewers,
      author,
      ...(plan.temperatures ? { reviewerTemperatures } : {}),
      ...(plan.rounds ? { rounds: plan.rounds } : {}),
      // Each revision is the answer to the request, so it keeps the request's limit (the hold counts on it).
      ...(limit !== null ? { authorMaxTokens: limit } : {}),
    },
    complete,
    signal,
  );
  return { draft, result };
}

export function reviewAggregation(
  draft: Completion,
  result: ReviewResult,
  /** The temperature the draft was written at, when a self-ensemble chose one. */
  temperature?: number,
): AggregationResult {
  return {
    strategy: 'review',
    content: result.artifact,
    model: draft.model,
    candidates: [
      {
        model: draft.model,
        content: draft.content,
        usage: draft.usage,
        cost_usd: draft.cost_usd,
        latency_ms: draft.latency_ms,
        ...(temperature !== undefined ? { temperature } : {}),
      },
    ],
    agreement: result.reviews.length
      ? result.reviews.filter((r) => r.verdict === 'accept').length / result.reviews.length
      : 0,
    selected: { index: 0, model: draft.model },
    ...(result.degraded?.length ? { degraded: result.degraded } : {}),
    calls: [draft, ...result.calls],
  };
}
