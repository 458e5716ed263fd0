/** How a strategy calls one model: the normal call path, inside a `quorum.candidate {model}` span. */
import type { Complete, Completion, CompletionRequest } from '../../../consensus/index.ts';
import type { ChatRequest } from '../../chat/index.ts';
import { GatewayError } from '../../errors/index.ts';
import { amountNanos, usdOfNanos } from '../../limits/nanos.ts';
import { failSpan, SpanKind, tracer } from '../../telemetry/index.ts';
import type { Reach } from '../access/index.ts';
import type { CallRecord } from '../budget/index.ts';
import { type CallServices, completeChain } from '../calls/index.ts';
import type { Attempt } from '../deployments/index.ts';
import type { CallScope, RequestContext } from '../request/index.ts';

/** The request as every candidate sees it: the client's body without routing or streaming fields. */
export function candidateRequest(request: ChatRequest): CompletionRequest {
  const { model: _m, stream: _s, stream_options: _o, quorum: _q, ...rest } = request;
  return rest as CompletionRequest;
}

/**
 * One candidate's calls: the request's signal and the strategy's together, charged to the request and
 * tallied, so the candidate's `cost_usd` is what its calls were charged (every try on its chain).
 */
class CandidateScope implements CallScope {
  readonly signal: AbortSignal;
  readonly deadlineAt: number;
  nanos = 0;
  private readonly rc: RequestContext;

  constructor(rc: RequestContext, signal: AbortSignal) {
    this.rc = rc;
    this.signal = AbortSignal.any([rc.signal, signal]);
    this.deadlineAt = rc.deadlineAt;
  }

  get timedOut(): boolean {
    return this.rc.timedOut;
  }

  add(record: CallRecord): void {
    this.nanos += amountNanos(this.rc.add(record).costUsd);
  }

  chainFailed(attempts: readonly Attempt[]): void {
    this.rc.chainFailed(attempts);
  }
}

/**
 * The `complete` strategies call: one model through the normal call path (the chain the authorization
 * decision gave it, breakers, queues, telemetry), inside a `quorum.candidate {model}` span. Every
 * attempt is collected for the response's `quorum.attempts`. A candidate's `cost_usd` is what its
 * calls were charged (every try on its chain), so the record's costs add up to the request's.
 */
export function completer(
  services: CallServices,
  reach: Reach,
  rc: RequestContext,
  /** Candidates whose request was invalid for their model (a 400): collected so a fan-out that no
   * candidate could answer for that reason is the client's 400, not an upstream failure. */
  refusals?: GatewayError[],
): Complete {
  return (model, request, signal) =>
    tracer.startActiveSpan(`quorum.candidate ${model}`, { kind: SpanKind.INTERNAL }, async (span) => {
      const started = performance.now();
      try {
        const chain = reach.chain(model);
        const body = { ...request, model, stream: false } as ChatRequest;
        const scope = new CandidateScope(rc, signal);
        const outcome = await completeChain(services, chain, body, scope);
        rc.attempts.push(...outcome.attempts);
        const cost = usdOfNanos(scope.nanos);
        span.setAttributes({ 'quorum.candidate.model': outcome.deployment.spec.id, 'quorum.cost_usd': cost });
        return {
          model: outcome.deployment.spec.id,
          content: outcome.result.content ?? '',
          usage: outcome.result.usage,
          cost_usd: cost,
          latency_ms: Math.round(performance.now() - started),
        } satisfies Completion;
      } catch (err) {
        failSpan(span, err instanceof GatewayError ? err.code : 'error');
        if (err instanceof GatewayError && err.status === 400) refusals?.push(err);
        throw err;
      } finally {
        span.end();
      }
    });
}
