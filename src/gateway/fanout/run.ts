/**
 * Running a fan-out once the request is admitted: candidates in parallel, then the strategy's judge,
 * aggregator or reviewers, each call on the chain the authorization decision gave its model; the
 * answer goes out through the reply module, and the request is settled however it ends.
 */
import {
  type AggregationResult,
  aggregate,
  type Complete,
  type Completion,
  type CompletionRequest,
  ensembleStages,
  errorMessage,
  type FanOutOptions,
  fusionStages,
  type Prepared,
  runStaged,
  type Staged,
  writerStopped,
} from '../../../consensus/index.ts';
import type { ChatRequest, ChatResult, StreamEvent, Usage } from '../../chat/index.ts';
import type { GatewayError } from '../../errors/index.ts';
import { failSpan, type Span, tracer, withSpan } from '../../telemetry/index.ts';
import type { FanOutPlan, Reach } from '../access/index.ts';
import { type CallServices, openStreamChain, type StreamOutcome } from '../calls/index.ts';
import { costOf } from '../deployments/index.ts';
import {
  type ChatMeta,
  type ChatReply,
  finishedReply,
  type QuorumRecord,
  quorumRecord,
  ReplyStream,
  roundMs,
  streamFailure,
  streamReply,
} from '../replies/index.ts';
import type { RequestContext } from '../request/index.ts';
import { candidateRequest, completer } from './completer.ts';
import { fanOutFailure } from './failure.ts';
import { aggregationRecord, degradation, reviewAggregation, reviewStrategy, sumCalls } from './strategies.ts';

/** One fan-out's run: what its strategy calls with, its span, and how it answers or fails. */
export class FanOutRun {
  private readonly services: CallServices;
  private readonly rc: RequestContext;
  private readonly request: ChatRequest;
  private readonly plan: FanOutPlan;
  private readonly reach: Reach;
  private readonly refusals: GatewayError[] = [];
  private readonly complete: Complete;
  private readonly base: CompletionRequest;
  private readonly options: FanOutOptions;
  private readonly span: Span;
  /** When the fan-out began: gateway time before it is the overhead; after it, upstream calls. */
  private readonly callStart: number;

  constructor(
    services: CallServices,
    rc: RequestContext,
    request: ChatRequest,
    plan: FanOutPlan,
    reach: Reach,
  ) {
    this.services = services;
    this.rc = rc;
    this.request = request;
    this.plan = plan;
    this.reach = reach;
    this.complete = completer(services, reach, rc, this.refusals);
    this.base = candidateRequest(request);
    this.options = {
      models: plan.models,
      ...(plan.temperatures ? { temperatures: plan.temperatures } : {}),
      ...(plan.judge ? { judge: plan.judge } : {}),
      ...(plan.synthesizer ? { synthesizer: plan.synthesizer } : {}),
      ...(plan.quorum ? { quorum: plan.quorum } : {}),
      ...(plan.layers ? { layers: plan.layers } : {}),
    };
    this.span = tracer.startSpan(`quorum.ensemble ${plan.strategy}`, {
      attributes: {
        'quorum.ensemble.strategy': plan.strategy,
        'quorum.ensemble.name': plan.name,
        'quorum.ensemble.candidates': plan.models.length,
      },
    });
    this.callStart = performance.now();
  }

  /**
   * Runs the strategy and answers. Ensemble and fusion stream their last call (the aggregator, the
   * synthesizer) live; the rest finish first.
   */
  async reply(): Promise<ChatReply> {
    const { strategy } = this.plan;
    if (this.request.stream && (strategy === 'ensemble' || strategy === 'fusion')) {
      return this.streamFinal(this.staged(strategy));
    }
    let outcome: { result: AggregationResult; extra?: Record<string, unknown> };
    try {
      outcome = await withSpan(this.span, () => this.aggregate());
    } catch (err) {
      return this.fail(err);
    }
    return this.answer(outcome.result, outcome.extra);
  }

  private async aggregate(): Promise<{ result: AggregationResult; extra?: Record<string, unknown> }> {
    const { plan, base, complete, rc } = this;
    if (plan.strategy === 'ensemble' || plan.strategy === 'fusion') {
      const staged = this.staged(plan.strategy);
      return { result: await runStaged(staged, complete, rc.signal, (p) => this.refuseDegraded(p)) };
    }
    if (plan.strategy !== 'review') {
      return { result: await aggregate(plan.strategy, base, this.options, complete, rc.signal) };
    }
    const { draft, result: reviewed } = await reviewStrategy(plan, base, complete, rc.signal);
    const review = {
      verdict: reviewed.verdict,
      score: reviewed.score,
      rounds: reviewed.rounds,
      stopped_by: reviewed.stopped_by,
      best_round: reviewed.best_round,
      reviews: reviewed.reviews,
    };
    return { result: reviewAggregation(draft, reviewed, plan.temperatures?.[0]), extra: { review } };
  }

  /** The `quorum` record: what was charged (the calls' costs, capped at the hold) and the strategy's part. */
  record(result: AggregationResult, extra?: Record<string, unknown>): QuorumRecord {
    return quorumRecord(
      this.rc,
      this.rc.spent.totalUsd,
      this.rc.attempts,
      { ...aggregationRecord(result), ...extra },
      { model: result.model, text: result.content },
    );
  }

  endSpan(result?: AggregationResult, error?: GatewayError): void {
    if (result) {
      this.span.setAttributes({
        'quorum.cost_usd': sumCalls(result.calls).cost,
        'quorum.agreement': result.agreement,
      });
    }
    if (error) failSpan(this.span, error.code, error.message);
    this.span.end();
  }

  /** Answers with a finished result (JSON, or streamed whole) — unless it is degraded and strict. */
  private async answer(result: AggregationResult, extra?: Record<string, unknown>): Promise<ChatReply> {
    const { rc, request } = this;
    const degraded = degradation(result, request.quorum?.strict === true);
    if (degraded) {
      this.endSpan(undefined, degraded);
      await rc.end();
      throw degraded;
    }
    await rc.end();
    this.endSpan(result);
    const { usage, models } = sumCalls(result.calls);
    const quorum = this.record(result, extra);
    // Gateway time before the fan-out began; the fan-out itself is upstream calls and their aggregation.
    const meta: ChatMeta = {
      model: models,
      costUsd: rc.spent.totalUsd,
      overheadMs: roundMs(this.callStart - rc.startedAt),
      headers: rc.headers,
    };
    const body: ChatResult = { content: result.content, finish_reason: 'stop', usage };
    return finishedReply(
      rc,
      request,
      { model: result.model, result: body, usage, quorum },
      result.model,
      meta,
    );
  }

  /** Ends the request with the failure in the client's terms. */
  private async fail(err: unknown): Promise<never> {
    const failure = fanOutFailure(err, this.rc, this.refusals);
    this.endSpan(undefined, failure);
    await this.rc.end();
    throw failure;
  }

  private staged(strategy: 'ensemble' | 'fusion'): Staged {
    return (strategy === 'ensemble' ? ensembleStages : fusionStages)(this.base, this.options);
  }

  /**
   * `"strict": true` refuses a degraded answer before its writer is called, so the request does not pay
   * for an answer it will refuse. The degradation is counted here; otherwise when the answer is made.
   */
  private refuseDegraded(prepared: Prepared): void {
    if (!prepared.degraded.length || this.request.quorum?.strict !== true) return;
    throw degradation({ strategy: this.plan.strategy, degraded: prepared.degraded }, true)!;
  }

  /**
   * A strategy whose last call writes the answer (the ensemble's aggregator, fusion's synthesizer), with
   * that answer streamed as it is written. A writer that fails before its first token leaves the
   * candidates' vote as the answer, marked `aggregator_failed` (a 502 with `"strict": true`); one that
   * fails after it ends the stream with an error event.
   */
  private async streamFinal(staged: Staged): Promise<ChatReply> {
    const { rc, complete, span } = this;
    const writer = staged.writer;
    let prepared: Prepared;
    try {
      prepared = await withSpan(span, () => staged.prepare(complete, rc.signal));
      this.refuseDegraded(prepared);
    } catch (err) {
      return this.fail(err);
    }
    let opened: StreamOutcome;
    try {
      const body = { ...prepared.request, model: writer, stream: true } as ChatRequest;
      const chain = this.reach.chain(writer);
      opened = await withSpan(span, () => openStreamChain(this.services, chain, body, rc));
    } catch (err) {
      if (rc.signal.aborted) return this.fail(writerStopped(writer, err));
      return this.answer(prepared.fallback(errorMessage(err)));
    }
    rc.attempts.push(...opened.attempts);
    const meta: ChatMeta = {
      model: [...new Set([...prepared.calls.map((c) => c.model), opened.deployment.spec.id])].join(','),
      costUsd: 0,
      overheadMs: 0,
      headers: rc.headers,
    };
    return streamReply(opened, new FinalStream(this, rc, this.request, prepared, opened, meta), meta);
  }
}

/** The writer's stream passed on; its text is kept to make the record's writer call. */
class FinalStream extends ReplyStream {
  private readonly run: FanOutRun;
  private readonly rc: RequestContext;
  private readonly prepared: Prepared;
  private readonly opened: StreamOutcome;
  private readonly meta: ChatMeta;
  private readonly started = performance.now();
  private text = '';

  constructor(
    run: FanOutRun,
    rc: RequestContext,
    request: ChatRequest,
    prepared: Prepared,
    opened: StreamOutcome,
    meta: ChatMeta,
  ) {
    super(rc, request, opened.deployment.spec.id);
    this.run = run;
    this.rc = rc;
    this.prepared = prepared;
    this.opened = opened;
    this.meta = meta;
  }

  override onEvent(event: StreamEvent): void {
    if (event.type === 'text') this.text += event.text;
  }

  finish(usage: Usage) {
    const spec = this.opened.deployment.spec;
    const writer: Completion = {
      model: spec.id,
      content: this.text,
      usage,
      cost_usd: costOf(usage, spec.price),
      latency_ms: Math.round(performance.now() - this.started),
    };
    const result = this.prepared.result(writer);
    degradation(result, false); // counted, never refused: a strict request stopped before streaming
    this.run.endSpan(result);
    const totals = sumCalls(result.calls);
    this.meta.costUsd = this.rc.spent.totalUsd;
    return { usage: totals.usage, quorum: this.run.record(result) };
  }

  override describeFailure(err: unknown): GatewayError {
    const failure = streamFailure(this.model, err, this.rc.timedOut);
    this.run.endSpan(undefined, failure);
    return failure;
  }

  override cleanup(): Promise<void> {
    return this.rc.end();
  }
}
