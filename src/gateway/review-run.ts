import { type ReviewOptions, type ReviewResult, review } from '../../consensus/index.ts';
import { GatewayError } from '../errors/index.ts';
import { failSpan, tracer, withSpan } from '../telemetry/index.ts';
import type { ChatContext } from './chat.ts';
import type { Attempt } from './deployment.ts';
import { completer } from './fanout.ts';
import { reviewReserve } from './fanout-plan.ts';
import type { Gateway } from './gateway.ts';
import { beginRequest } from './lifecycle.ts';

export interface ReviewRun {
  result: ReviewResult;
  attempts: Attempt[];
  costUsd: number;
}

/**
 * A collaborative review through the gateway (POST /v1/reviews and workflow review steps): every model
 * checked against the catalog and the team's allow-list, the whole loop's worst case reserved, each
 * review and revision a normal call, inside a `quorum.ensemble review` span.
 */
export async function runReview(
  gw: Gateway,
  ctx: ChatContext,
  options: ReviewOptions,
  tags?: Record<string, string>,
): Promise<ReviewRun> {
  const models: [string, string][] = options.reviewers.map((m, i) => [m, `reviewers[${i}]`]);
  if (options.author) models.push([options.author, 'author']);
  for (const [model, param] of models) {
    if (!gw.table.resolve(model).length) {
      throw new GatewayError('model_not_found', `The model \`${model}\` does not exist.`, { param });
    }
    if (ctx.caller.allowedModels && !ctx.caller.allowedModels.has(model)) {
      throw new GatewayError(
        'model_not_allowed',
        `Team \`${ctx.caller.team}\` may not use the model \`${model}\`.`,
        {
          param,
        },
      );
    }
  }
  const signals = await beginRequest(gw, ctx, {
    reserveUsd: () => reviewReserve(gw, options),
    estimateTokens: () =>
      (options.reviewers.length + 1) * Math.ceil((options.artifact.length + options.instructions.length) / 4),
    ...(tags ? { tags } : {}),
  });
  const attempts: Attempt[] = [];
  const span = tracer.startSpan('quorum.ensemble review', {
    attributes: { 'quorum.ensemble.strategy': 'review' },
  });
  try {
    const result = await withSpan(span, () =>
      review(options, completer(gw, ctx.caller, signals, attempts), signals.signal),
    );
    const costUsd = result.calls.reduce((sum, call) => sum + call.cost_usd, 0);
    span.setAttribute('quorum.cost_usd', costUsd);
    return { result, attempts, costUsd };
  } catch (err) {
    const failure =
      err instanceof GatewayError
        ? err
        : signals.deadline.aborted
          ? new GatewayError('upstream_timeout', 'The review ran out of time.')
          : new GatewayError('upstream_failed', `The review failed: ${(err as Error).message}`);
    failSpan(span, failure.code, failure.message);
    throw failure;
  } finally {
    span.end();
    await signals.end();
  }
}
