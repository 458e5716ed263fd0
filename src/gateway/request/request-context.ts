/**
 * The per-request object: created once when a request enters the gateway and passed through every
 * stage — plan, admit, execute, reply, settle. It holds what the request is (id, caller, timestamps),
 * what it obeys (one signal: the client leaving or the deadline), and the record being built (every
 * call charged, every attempt, the route). A leaf: it imports no stage.
 */
import type { RoutePlan } from '../../../routing/route-types.ts';
import type { ChatRequest } from '../../chat/index.ts';
import { GatewayError } from '../../errors/index.ts';
import type { ScopedWindow } from '../../limits/scopes.ts';
import type { BudgetPolicy } from '../../limits/types.ts';
import { metrics } from '../../telemetry/index.ts';
import { type Caller, routeRecord } from '../access/index.ts';
import {
  type AccountCap,
  type Admission,
  type AdmissionBounds,
  type Attribution,
  type CallRecord,
  type CallSink,
  type LedgerSink,
  type OutputCap,
  RequestAccount,
  recordCall,
} from '../budget/index.ts';
import type { Attempt, LearningHook } from '../deployments/index.ts';

/** One request as the server (or a workflow step) hands it to the gateway. */
export interface ChatContext {
  requestId: string;
  caller: Caller;
  /** Aborted when the client goes away. */
  clientSignal: AbortSignal;
  /** performance.now() when the request arrived. */
  startedAt: number;
  /** The surface, end user and workflow run and step its ledger rows name (none: unattributed). */
  attribution?: Attribution;
  /**
   * Told what the request was charged when it ends, answered or failed: a fan-out that fails after its
   * candidates answered has still spent (a workflow's cost cap counts that).
   */
  onSpent?: (usd: number) => void;
  /**
   * Where the request log reads what the gateway learnt about the request once it is over (the server
   * passes one for each proxied request; a workflow step does not). The request's context puts itself
   * here when it is created: nothing is built unless the log asks.
   */
  trace?: TraceSlot;
  /**
   * Where this request's ledger rows go instead of the gateway's ledger: a workflow step on several
   * instances records them with the run's cost in one transaction.
   */
  ledger?: LedgerSink;
}

/** What the request log reads of a request when it is over. */
export interface RequestFacts {
  /** Every try: the answering chains' (as `quorum.attempts` shows them), then the failed chains'. */
  attempts: Attempt[];
  /** The router's decision, when the client asked for `auto[:policy]` (as `quorum.route`). */
  route: ReturnType<typeof routeRecord> | undefined;
  /** The answer's `quorum` record, once built (a fan-out's holds its panel). */
  answer: Readonly<Record<string, unknown>> | undefined;
  /** Tokens of every upstream call, as reported. */
  inputTokens: number;
  outputTokens: number;
  /** What the request was charged, integer nano-dollars. */
  costNanos: number;
}

/** Filled in by the gateway: the request that can report its facts. */
export interface TraceSlot {
  request:
    | {
        facts(): RequestFacts;
        /** The settle stage, once it has begun (undefined before): its calls are all accounted then. */
        settling(): Promise<void> | undefined;
      }
    | undefined;
}

/** The signals and the account one chain of upstream calls reports to. */
export interface CallScope extends CallSink {
  /** Aborts everything: client gone, deadline passed (or, for a fan-out candidate, its strategy done). */
  readonly signal: AbortSignal;
  /** A chain failed (its error is about to be thrown): its tries, for the request log. */
  chainFailed?(attempts: readonly Attempt[]): void;
  /** When the deadline passes (epoch ms), for queues that must not wait beyond it. */
  readonly deadlineAt: number;
  /** True once the request's deadline has passed (a 504, not a vanished client). */
  readonly timedOut: boolean;
}

/**
 * What bounds a request before it is let in — its worst case (computed only when needed: a budget, or
 * a charge to cap), its token estimate, its deadline: one small object per request, no closures.
 */
export interface RequestBounds extends AdmissionBounds {
  /** Deadline, when shorter than server.request_timeout_ms (an ensemble preset's timeout_ms). */
  readonly timeoutMs?: number | undefined;
}

/** Where a request reports: the ledger, soft-limit notices, operator warnings. The Gateway is one. */
export interface RequestHooks {
  readonly ledger: LedgerSink | undefined;
  readonly softLimits: {
    check(policy: BudgetPolicy): Promise<void>;
    checkWindows?(windows: readonly ScopedWindow[]): Promise<void>;
  };
  /** Errors that must not fail a request (a settle that failed). */
  readonly onError: ((err: Error) => void) | undefined;
  /** Where answers are reported for learning (absent: nothing is learnt). */
  readonly learning?: LearningHook | undefined;
  warn(message: string, fields: Record<string, unknown>): void;
}

const NO_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** The deadline timer's callback (module level: the request is its argument, so no closure per request). */
function deadlinePassed(rc: RequestContext): void {
  rc.timedOut = true;
  rc.abortAll(undefined);
}

export class RequestContext implements CallScope, AccountCap {
  readonly id: string;
  /** `chatcmpl-<id>`: the id of the reply body and of every chunk. */
  readonly completionId: string;
  readonly caller: Caller;
  /** performance.now() when the request arrived. */
  readonly startedAt: number;
  /** Unix seconds: the `created` of the reply body and of every chunk. */
  readonly created: number;
  /** The client's signal until the request is admitted; then also aborted when its deadline passes. */
  signal: AbortSignal;
  deadlineAt = Number.POSITIVE_INFINITY;
  timedOut = false;
  /** What the request was charged, call by call (never past its hold). */
  readonly spent: RequestAccount;
  /** Every try that answered, for `quorum.attempts`. */
  readonly attempts: Attempt[] = [];
  /** The router's decision when the client asked for `auto[:policy]`. */
  route: RoutePlan | undefined = undefined;
  /** x-ratelimit-* headers for the response. */
  headers: Record<string, string> = NO_HEADERS;
  /** The output cap the budget set (sent upstream; `quorum.output_cap`), once admitted. */
  outputCap: OutputCap | undefined = undefined;
  /** The answer's `quorum` record once the reply module built it (for the request log). */
  answer: Readonly<Record<string, unknown>> | undefined = undefined;
  /** The chat request, when this is one (what learning reads a category and a JSON schema from). */
  request: ChatRequest | undefined = undefined;
  /** The tries of chains that failed (answered chains' are in `attempts`). */
  private failedAttempts: Attempt[] | undefined = undefined;

  private readonly context: ChatContext;
  private readonly hooks: RequestHooks;
  /** The request's `quorum.tags` (null without any): its ledger rows and its tag budgets. */
  readonly tags: Record<string, string> | null;
  private bounds: RequestBounds | undefined = undefined;
  private admission: Admission | undefined = undefined;
  private controller: AbortController | undefined = undefined;
  private timer: ReturnType<typeof setTimeout> | undefined = undefined;
  private ended: Promise<void> | undefined = undefined;

  constructor(hooks: RequestHooks, context: ChatContext, tags?: Record<string, string>) {
    this.hooks = hooks;
    this.context = context;
    this.id = context.requestId;
    this.completionId = `chatcmpl-${context.requestId}`;
    this.caller = context.caller;
    this.startedAt = context.startedAt;
    this.created = Math.floor(Date.now() / 1000);
    this.signal = context.clientSignal;
    this.tags = tags && Object.keys(tags).length ? tags : null;
    this.spent = new RequestAccount(undefined, this);
    if (context.trace) context.trace.request = this;
  }

  /** The end user the client named, if any: its ledger rows and its end-user budget. */
  get endUser(): string | null {
    return this.context.attribution?.endUser ?? null;
  }

  chainFailed(attempts: readonly Attempt[]): void {
    this.failedAttempts ??= [];
    this.failedAttempts.push(...attempts);
  }

  /**
   * The answer's record is complete: learning notes who answered (for feedback) and what its signals
   * say. Never fails the answer: a learning error is reported and the answer goes out.
   */
  answered(
    record: Record<string, unknown>,
    model: string,
    text: string | null | undefined,
    cached = false,
  ): void {
    const learning = this.hooks.learning;
    if (!learning || !this.request) return;
    try {
      learning.answered({
        requestId: this.id,
        team: this.caller.team,
        model,
        request: this.request,
        task: this.route?.task,
        record,
        text,
        cached,
      });
    } catch (err) {
      this.hooks.onError?.(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** What the request log keeps of the request; built only when asked, after the request is over. */
  facts(): RequestFacts {
    let inputTokens = 0;
    let outputTokens = 0;
    for (const r of this.spent.records) {
      inputTokens += r.usage.prompt_tokens;
      outputTokens += r.usage.completion_tokens;
    }
    return {
      attempts: this.failedAttempts ? [...this.attempts, ...this.failedAttempts] : this.attempts,
      route: this.route ? routeRecord(this.route) : undefined,
      answer: this.answer,
      inputTokens,
      outputTokens,
      costNanos: this.spent.totalNanos,
    };
  }

  /**
   * The request was let in: it now has a deadline `ms` away and one signal that aborts when the client
   * leaves or the deadline passes. `end()` settles what it spent against `admission`.
   */
  open(admission: Admission, bounds: RequestBounds, ms: number): void {
    this.admission = admission;
    this.bounds = bounds;
    this.headers = admission.headers;
    this.outputCap = admission.outputCap;
    const controller = new AbortController();
    this.controller = controller;
    this.signal = controller.signal;
    this.deadlineAt = Date.now() + ms;
    const client = this.context.clientSignal;
    if (client.aborted) {
      controller.abort(client.reason);
      return;
    }
    this.timer = setTimeout(deadlinePassed, ms, this);
    // The client leaving ends the deadline timer at once; settlement waits for the calls to report.
    client.addEventListener('abort', this, { once: true });
  }

  /** The client left (this object is its own abort listener). */
  handleEvent(): void {
    clearTimeout(this.timer);
    this.abortAll(this.context.clientSignal.reason);
  }

  /** Aborts every call of the request. */
  abortAll(reason: unknown): void {
    this.controller?.abort(reason);
  }

  /** Charges one upstream call (capped at the hold) and writes its ledger row. */
  add(reported: CallRecord): CallRecord {
    const record = this.spent.add(reported);
    recordCall(
      this.context.ledger ?? this.hooks.ledger,
      this.id,
      this.caller,
      this.tags,
      record,
      this.context.attribution,
    );
    return record;
  }

  /** The most the request may be charged: its budget hold, or without a budget its worst case. */
  holdUsd(): number {
    return this.admission?.holdUsd ?? this.bounds?.reserveUsd() ?? 0;
  }

  /**
   * An upstream claimed more than the request's hold: charged only up to it. Logged (no prompt, no key),
   * counted and passed to the operator, since it means a broken or hostile upstream, or an estimate gap.
   */
  onExcess(record: CallRecord, chargedUsd: number): void {
    const team = this.caller.team;
    metrics.usageOverHold.inc({ team, model: record.model, provider: record.provider });
    metrics.usageOverHoldUsd.inc({ team }, Math.max(0, record.costUsd - chargedUsd));
    this.hooks.warn('upstream usage exceeds the request hold; charged only up to the hold', {
      team,
      request_id: this.id,
      model: record.model,
      provider: record.provider,
      prompt_tokens: record.usage.prompt_tokens,
      completion_tokens: record.usage.completion_tokens,
      reported_cost_usd: record.costUsd,
      charged_usd: chargedUsd,
    });
  }

  /**
   * The settle stage: clears the deadline and settles the budget hold with what the request spent, then
   * has the team's soft limit and alert thresholds checked. Idempotent; whichever path finishes the
   * request calls it.
   */
  end(): Promise<void> {
    this.ended ??= this.settle();
    return this.ended;
  }

  settling(): Promise<void> | undefined {
    return this.ended;
  }

  private async settle(): Promise<void> {
    clearTimeout(this.timer);
    this.context.clientSignal.removeEventListener('abort', this);
    const tokens = this.spent.countedTokens();
    this.context.onSpent?.(this.spent.totalUsd);
    if (!this.admission) return;
    try {
      await this.admission.settle(this.spent.totalUsd, tokens);
      // The soft limit and the alert thresholds read the budget's status (with Redis, a round trip):
      // not awaited, so the answer never waits for them.
      const windows = this.admission.windows;
      if (windows?.length && this.hooks.softLimits.checkWindows)
        this.hooks.softLimits.checkWindows(windows).catch((err) => this.report(err));
      else if (this.caller.budget)
        this.hooks.softLimits.check(this.caller.budget).catch((err) => this.report(err));
    } catch (err) {
      // A settle that fails (Redis gone) must not fail an answered request; the hold expires by itself.
      this.report(err);
    }
  }

  private report(err: unknown): void {
    this.hooks.onError?.(err instanceof Error ? err : new GatewayError('internal_error', String(err)));
  }
}
