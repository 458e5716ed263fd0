/**
 * Running a fan-out: candidates in parallel, then the strategy's judge, aggregator or reviewers, each
 * call on the chain the authorization decision (reach.ts) gave its model.
 */
import {
  type AggregationResult,
  aggregate,
  aggregatorRequest,
  type Complete,
  type Completion,
  type CompletionRequest,
  ensembleFallback,
  ensembleResult,
  errorMessage,
  propose,
  type ReviewResult,
  requestText,
  review,
  StrategyFailure,
} from '../../consensus/index.ts';
import { analyzeTask } from '../../routing/analyze.ts';
import { requestedOutputTokens } from '../../routing/request.ts';
import {
  type ChatRequest,
  type ChatResult,
  resultEvents,
  type StreamEvent,
  type Usage,
} from '../chat/index.ts';
import { GatewayError, strategyError, toGatewayError } from '../errors/index.ts';
import { amountNanos, usdOfNanos } from '../limits/nanos.ts';
import { failSpan, metrics, SpanKind, tracer, withSpan } from '../telemetry/index.ts';
import type { CallRecord } from './accounting.ts';
import type { ChatContext, ChatReply } from './chat.ts';
import { addUsage, costOf } from './cost.ts';
import type { Attempt } from './deployment.ts';
import { type CallSignals, completeChain, openStreamChain } from './execute.ts';
import { type FanOutPlan, maxCost } from './fanout-plan.ts';
import type { Gateway } from './gateway.ts';
import { beginRequest, type RequestScope, tokenEstimate } from './lifecycle.ts';
import type { Reach } from './reach.ts';
import { completionBody, publicAttempts, type QuorumRecord } from './response.ts';
import { streamChunks, streamFailure } from './stream-reply.ts';

const NO_USAGE: Usage = { prompt_tokens: 0, completion_tokens: 0 };

/** The request as every candidate sees it: the client's body without routing or streaming fields. */
export function candidateRequest(request: ChatRequest): CompletionRequest {
  const { model: _m, stream: _s, stream_options: _o, quorum: _q, ...rest } = request;
  return rest as CompletionRequest;
}

/**
 * The `complete` strategies call: one model through the normal call path (the chain the authorization
 * decision gave it, breakers, queues, telemetry), inside a `quorum.candidate {model}` span. Every
 * attempt is collected for the response's `quorum.attempts`. A candidate's `cost_usd` is what its
 * calls were charged (every try on its chain), so the record's costs add up to the request's.
 */
export function completer(
  gw: Gateway,
  reach: Reach,
  scope: RequestScope,
  attempts: Attempt[],
  /** Candidates whose request was invalid for their model (a 400): collected so a fan-out that no
   * candidate could answer for that reason is the client's 400, not an upstream failure. */
  refusals?: GatewayError[],
): Complete {
  return (model, request, signal) =>
    tracer.startActiveSpan(`quorum.candidate ${model}`, { kind: SpanKind.INTERNAL }, async (span) => {
      const started = performance.now();
      let nanos = 0;
      const account = (record: CallRecord) => {
        nanos += amountNanos(scope.spent.add(record).costUsd);
      };
      try {
        const chain = reach.chain(model);
        const body = { ...request, model, stream: false } as ChatRequest;
        const outcome = await completeChain(gw, chain, body, {
          signal: AbortSignal.any([scope.signal, signal]),
          deadline: scope.deadline,
          deadlineAt: scope.deadlineAt,
          account,
        });
        attempts.push(...outcome.attempts);
        const cost = usdOfNanos(nanos);
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

/**
 * A failed fan-out (or review) in the client's terms. The models' failure (a StrategyFailure: no
 * candidate answered, the quorum out of reach, no readable review, the draft failed) is a 502 listing
 * every attempt, or a 504 when the deadline passed — never a 500. When no candidate answered and some
 * refused the request as invalid for their model, the request is at fault: the first refusal (a 400)
 * says why.
 */
export function fanOutFailure(
  err: unknown,
  signals: CallSignals,
  refusals: GatewayError[] = [],
  what = 'The fan-out',
): GatewayError {
  if (err instanceof StrategyFailure) {
    if (refusals[0] && err.answered === 0) return refusals[0];
    return strategyError(err, { timedOut: signals.deadline.aborted, what });
  }
  if (err instanceof GatewayError) return err;
  if (signals.deadline.aborted) return new GatewayError('upstream_timeout', `${what} ran out of time.`);
  return toGatewayError(err);
}

/** What the calls cost, summed exactly (each is already whole nanos). */
function sumCalls(calls: readonly Completion[]) {
  let nanos = 0;
  for (const c of calls) nanos += amountNanos(c.cost_usd);
  return {
    usage: calls.reduce<Usage>((u, c) => addUsage(u, c.usage), NO_USAGE),
    cost: usdOfNanos(nanos),
    models: [...new Set(calls.map((c) => c.model))].join(','),
  };
}

/** The fan-out part of the `quorum` record. */
function aggregationRecord(result: AggregationResult) {
  return {
    strategy: result.strategy,
    candidates: result.candidates,
    agreement: result.agreement,
    ...(result.groups ? { groups: result.groups } : {}),
    selected: result.selected,
    ...(result.judge ? { judge: result.judge } : {}),
    ...(result.degraded?.length ? { degraded: result.degraded } : {}),
  };
}

/**
 * A fan-out whose judge or a reviewer failed still answers, but never silently: the record says so, a
 * metric counts it, and `"quorum": {"strict": true}` makes it a 502 instead.
 */
function degradation(result: AggregationResult, request: ChatRequest): GatewayError | undefined {
  if (!result.degraded?.length) return undefined;
  for (const reason of result.degraded) metrics.fanOutDegraded.inc({ strategy: result.strategy, reason });
  if (request.quorum?.strict !== true) return undefined;
  return new GatewayError(
    'upstream_failed',
    `The ${result.strategy} fan-out answered without what it needed (${result.degraded.join(', ')}); "quorum": {"strict": true} refuses such an answer.${result.judge ? ` Judge: ${result.judge.rationale}` : ''}`,
  );
}

/**
 * `review` as a chat strategy: the first model drafts an answer to the request, the others review it,
 * and the first revises until the loop's rules stop it (Self-Refine with a panel).
 */
async function reviewStrategy(
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
  let draft: Completion;
  try {
    draft = await complete(author, base, signal);
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
      ...(plan.rounds ? { rounds: plan.rounds } : {}),
      // Each revision is the answer to the request, so it keeps the request's limit (the hold counts on it).
      ...(limit !== null ? { authorMaxTokens: limit } : {}),
    },
    complete,
    signal,
  );
  return { draft, result };
}

function reviewAggregation(draft: Completion, result: ReviewResult): AggregationResult {
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

/** Runs a fan-out request: candidates in parallel, then the strategy's judge/aggregator/reviewers. */
export async function fanOutCompletion(
  gw: Gateway,
  ctx: ChatContext,
  request: ChatRequest,
  plan: FanOutPlan,
  reach: Reach,
): Promise<ChatReply> {
  const signals = await beginRequest(gw, ctx, {
    ...(plan.timeoutMs ? { timeoutMs: plan.timeoutMs } : {}),
    reserveUsd: () => maxCost(plan, analyzeTask(request), reach),
    ...(request.quorum?.tags ? { tags: request.quorum.tags } : {}),
    estimateTokens: () => plan.models.length * tokenEstimate(request),
  });
  const attempts: Attempt[] = [];
  const refusals: GatewayError[] = [];
  const complete = completer(gw, reach, signals, attempts, refusals);
  const base = candidateRequest(request);
  const options = {
    models: plan.models,
    ...(plan.judge ? { judge: plan.judge } : {}),
    ...(plan.quorum ? { quorum: plan.quorum } : {}),
    ...(plan.layers ? { layers: plan.layers } : {}),
  };
  const id = `chatcmpl-${ctx.requestId}`;
  const created = Math.floor(Date.now() / 1000);
  const record = (result: AggregationResult, extra: Record<string, unknown> = {}): QuorumRecord => ({
    request_id: ctx.requestId,
    // What was charged: the calls' costs, capped at the request's hold.
    cost_usd: signals.spent.totalUsd,
    attempts: publicAttempts(attempts),
    ...aggregationRecord(result),
    ...extra,
  });

  const span = tracer.startSpan(`quorum.ensemble ${plan.strategy}`, {
    attributes: {
      'quorum.ensemble.strategy': plan.strategy,
      'quorum.ensemble.name': plan.name,
      'quorum.ensemble.candidates': plan.models.length,
    },
  });
  const run = <T>(fn: () => Promise<T>) => withSpan(span, fn);
  const endSpan = (result?: AggregationResult, error?: GatewayError) => {
    if (result)
      span.setAttributes({
        'quorum.cost_usd': sumCalls(result.calls).cost,
        'quorum.agreement': result.agreement,
      });
    if (error) failSpan(span, error.code, error.message);
    span.end();
  };

  const callStart = performance.now();
  /** Answers with a finished result (JSON, or streamed whole) — unless it is degraded and strict. */
  const answer = async (
    result: AggregationResult,
    extra: Record<string, unknown> = {},
  ): Promise<ChatReply> => {
    const degraded = degradation(result, request);
    if (degraded) {
      endSpan(undefined, degraded);
      await signals.end();
      throw degraded;
    }
    await signals.end();
    endSpan(result);
    const { usage, models } = sumCalls(result.calls);
    const quorum = record(result, extra);
    // Gateway time before the fan-out began; the fan-out itself is upstream calls and their aggregation.
    const meta = {
      model: models,
      costUsd: signals.spent.totalUsd,
      overheadMs: Math.round((callStart - ctx.startedAt) * 1000) / 1000,
      headers: signals.headers,
    };
    if (!request.stream) {
      const body: ChatResult = { content: result.content, finish_reason: 'stop', usage };
      return { stream: false, body: completionBody(id, created, result.model, body, usage, quorum), meta };
    }
    const events = (async function* () {
      yield* resultEvents({ content: result.content, finish_reason: 'stop', usage }, result.model);
    })();
    const first = await events.next();
    const chunks = streamChunks(
      { first: first.value as StreamEvent, rest: events },
      {
        id,
        created,
        model: result.model,
        includeUsage: request.stream_options?.include_usage === true,
        finish: () => ({ usage, quorum }),
        describeFailure: (err) => streamFailure(result.model, err, false),
        cleanup: () => {},
      },
    );
    return { stream: true, meta, chunks };
  };
  const fail = async (err: unknown): Promise<never> => {
    const failure = fanOutFailure(err, signals, refusals);
    endSpan(undefined, failure);
    await signals.end();
    throw failure;
  };

  // Ensemble streams its aggregator live; everything else must finish before the answer is known.
  if (request.stream && plan.strategy === 'ensemble') {
    return streamEnsemble(gw, request, plan, {
      signals,
      reach,
      attempts,
      complete,
      base,
      options,
      id,
      created,
      record,
      run,
      endSpan,
      answer,
      fail,
    });
  }

  let result: AggregationResult;
  let extra: Record<string, unknown> = {};
  try {
    result = await run(async () => {
      if (plan.strategy !== 'review')
        return aggregate(plan.strategy, base, options, complete, signals.signal);
      const { draft, result: reviewed } = await reviewStrategy(plan, base, complete, signals.signal);
      extra = {
        review: {
          verdict: reviewed.verdict,
          score: reviewed.score,
          rounds: reviewed.rounds,
          stopped_by: reviewed.stopped_by,
          best_round: reviewed.best_round,
          reviews: reviewed.reviews,
        },
      };
      return reviewAggregation(draft, reviewed);
    });
  } catch (err) {
    return fail(err);
  }
  return answer(result, extra);
}

interface EnsembleContext {
  signals: RequestScope;
  reach: Reach;
  attempts: Attempt[];
  complete: Complete;
  base: CompletionRequest;
  options: { models: string[]; judge?: string; quorum?: number; layers?: number };
  id: string;
  created: number;
  record: (result: AggregationResult, extra?: Record<string, unknown>) => QuorumRecord;
  run: <T>(fn: () => Promise<T>) => Promise<T>;
  endSpan: (result?: AggregationResult, error?: GatewayError) => void;
  /** Answers with a finished result (the fallback when the aggregator cannot be reached). */
  answer: (result: AggregationResult) => Promise<ChatReply>;
  /** Ends the request with the failure in the client's terms. */
  fail: (err: unknown) => Promise<never>;
}

/**
 * Mixture-of-agents with the aggregator's answer streamed as it is written. An aggregator that fails
 * before its first token leaves the proposers' vote as the answer, marked `aggregator_failed` (a 502
 * with `"strict": true`); one that fails after it ends the stream with an error event.
 */
async function streamEnsemble(
  gw: Gateway,
  request: ChatRequest,
  plan: FanOutPlan,
  e: EnsembleContext,
): Promise<ChatReply> {
  const judge = plan.judge!;
  let opened: Awaited<ReturnType<typeof openStreamChain>>;
  let proposals: Awaited<ReturnType<typeof propose>>;
  try {
    proposals = await e.run(() => propose(e.base, e.options, e.complete, e.signals.signal));
  } catch (err) {
    return e.fail(err);
  }
  try {
    const aggregatorBody = {
      ...aggregatorRequest(e.base, proposals.answers),
      model: judge,
      stream: true,
    } as ChatRequest;
    const chain = e.reach.chain(judge);
    opened = await e.run(() => openStreamChain(gw, chain, aggregatorBody, e.signals));
  } catch (err) {
    if (e.signals.signal.aborted) {
      const attempt = { model: judge, role: 'aggregator' as const, error: errorMessage(err) };
      return e.fail(new StrategyFailure('the aggregator was stopped', [attempt], { aborted: true }));
    }
    return e.answer(ensembleFallback(proposals, judge, errorMessage(err)));
  }
  e.attempts.push(...opened.attempts);
  const started = performance.now();
  let text = '';
  const proposalCalls = proposals.calls;
  const meta = {
    model: [...new Set([...proposalCalls.map((c) => c.model), opened.deployment.spec.id])].join(','),
    costUsd: 0,
    overheadMs: 0,
    headers: e.signals.headers,
  };
  const chunks = streamChunks(opened, {
    id: e.id,
    created: e.created,
    model: opened.deployment.spec.id,
    includeUsage: request.stream_options?.include_usage === true,
    onEvent: (event) => {
      if (event.type === 'text') text += event.text;
    },
    finish: (usage) => {
      const aggregator: Completion = {
        model: opened.deployment.spec.id,
        content: text,
        usage,
        cost_usd: costOf(usage, opened.deployment.spec.price),
        latency_ms: Math.round(performance.now() - started),
      };
      const result = ensembleResult(proposals, aggregator);
      e.endSpan(result);
      const totals = sumCalls(result.calls);
      meta.costUsd = e.signals.spent.totalUsd;
      return { usage: totals.usage, quorum: e.record(result) };
    },
    describeFailure: (err) => {
      const failure = streamFailure(opened.deployment.spec.id, err, e.signals.deadline.aborted);
      e.endSpan(undefined, failure);
      return failure;
    },
    cleanup: () => e.signals.end(),
  });
  return { stream: true, meta, chunks };
}
