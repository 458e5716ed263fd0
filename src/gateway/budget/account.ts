/**
 * What one request spent: each upstream call's record (for the ledger) and the running total that
 * settles its budget hold. Charges never pass the hold: usage reported beyond it is recorded as
 * reported, charged only up to the hold, and reported to the operator.
 */
import { maxPromptTokens } from '../../../routing/tokens.ts';
import type { ChatRequest, Usage } from '../../chat/index.ts';
import { amountNanos, usdOfNanos } from '../../limits/nanos.ts';
import { costOf, type Deployment } from '../deployments/index.ts';

/** One upstream call's outcome, as the ledger records it. */
export interface CallRecord {
  model: string;
  provider: string;
  usage: Usage;
  costUsd: number;
  latencyMs: number;
  /** 200 = answered; the failure's status otherwise. */
  status: number;
  /** True when usage was estimated (a stream cut off before the provider reported it). */
  estimated: boolean;
  /** Set when the usage cost more than the hold had room for: what it would have cost (`costUsd` is capped). */
  reportedCostUsd?: number;
}

export type Account = (record: CallRecord) => void;

/** Where an upstream call's outcome is charged: a request's account, or a fan-out candidate's tally. */
export interface CallSink {
  add(record: CallRecord): unknown;
}

/**
 * The usage to charge for a stream that ended without the provider's usage (the client left, or the
 * connection dropped): the prompt's upper-bound estimate (the provider bills the prompt whatever
 * happens, and the hold caps it) and the text generated so far. A client that disconnects is charged
 * for what was generated.
 */
export function estimatedUsage(request: ChatRequest, generatedChars: number): Usage {
  return {
    prompt_tokens: maxPromptTokens(request.messages, request.tools, request.response_format),
    completion_tokens: Math.ceil(generatedChars / 4),
  };
}

export function recordOf(
  dep: Deployment,
  usage: Usage,
  latencyMs: number,
  status: number,
  estimated = false,
): CallRecord {
  return {
    model: dep.spec.id,
    provider: dep.provider.id,
    usage,
    costUsd: costOf(usage, dep.spec.price),
    latencyMs: Math.round(latencyMs),
    status,
    estimated,
  };
}

/** Usage beyond the hold: the call as reported, and what was charged for it. */
export type OnExcess = (record: CallRecord, chargedUsd: number) => void;

export interface AccountCap {
  /** The most the request may be charged in all (its budget hold), computed when first needed. */
  holdUsd(): number;
  onExcess(record: CallRecord, chargedUsd: number): void;
}

/**
 * Sums what one request spent across all its upstream calls, and passes each call on (to the ledger).
 * With a cap, a call is charged at most what is left of the hold; the ledger keeps its tokens as
 * reported, so the audit shows what the upstream claimed.
 */
export class RequestAccount {
  readonly records: CallRecord[] = [];
  private readonly onRecord: Account | undefined;
  private readonly cap: AccountCap | undefined;
  private holdNanos: number | undefined;
  /** Charged so far in whole nano-dollars, as the ledger counts them: sums stay exact. */
  private nanos = 0;

  constructor(onRecord?: Account, cap?: AccountCap) {
    this.onRecord = onRecord;
    this.cap = cap;
  }

  /** What the request was charged: the sum of its calls' charges, exact to the nano-dollar. */
  get totalUsd(): number {
    return usdOfNanos(this.nanos);
  }

  get totalNanos(): number {
    return this.nanos;
  }

  /** Charges one call; returns the call as charged (its `costUsd` capped at what the hold had left). */
  add(reported: CallRecord): CallRecord {
    // Each call is charged in whole nanos, rounded as the ledger and the budget round (up), so the
    // request's total is the ledger's and prints as 0.0000682, never 0.00006819999999999999.
    let charged = amountNanos(reported.costUsd);
    let record: CallRecord = { ...reported, costUsd: usdOfNanos(charged) };
    if (this.cap && charged > 0) {
      this.holdNanos ??= amountNanos(this.cap.holdUsd());
      const room = Math.max(0, this.holdNanos - this.nanos);
      if (charged > room) {
        charged = room;
        record = { ...reported, costUsd: usdOfNanos(room), reportedCostUsd: reported.costUsd };
        this.cap.onExcess(reported, usdOfNanos(room));
      }
    }
    this.nanos += charged;
    this.records.push(record);
    this.onRecord?.(record);
    return record;
  }

  /**
   * Tokens to count against tpm: as reported, except that a capped call counts only the share it was
   * charged for, so an absurd report cannot lock the team out of its rate limit either.
   */
  countedTokens(): number {
    let n = 0;
    for (const r of this.records) {
      const tokens = r.usage.prompt_tokens + r.usage.completion_tokens;
      n += r.reportedCostUsd ? Math.ceil((tokens * r.costUsd) / r.reportedCostUsd) : tokens;
    }
    return n;
  }
}
