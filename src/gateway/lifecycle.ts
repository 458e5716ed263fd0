/**
 * The life of one admitted request: admission (rate limits, budget hold), its deadline and signals,
 * the account of its upstream calls (charged at most the hold), and the settlement that ends it.
 */
import { OUTPUT_RESERVE } from '../../routing/filter.ts';
import { requestedOutputTokens } from '../../routing/request.ts';
import { maxPromptTokens } from '../../routing/tokens.ts';
import type { ChatRequest } from '../chat/index.ts';
import { GatewayError } from '../errors/index.ts';
import { metrics } from '../telemetry/index.ts';
import { type Account, type CallRecord, RequestAccount } from './accounting.ts';
import { type Admission, admit } from './admission.ts';
import type { ChatContext } from './chat.ts';
import type { CallSignals } from './execute.ts';
import type { Gateway } from './gateway.ts';

/** One admitted request's signals, spending and settlement. */
export interface RequestScope extends CallSignals {
  account: Account;
  spent: RequestAccount;
  /** x-ratelimit-* headers for the response. */
  headers: Record<string, string>;
  /** Ends the request: clears its deadline and settles its budget hold with what it spent. Idempotent. */
  end(): Promise<void>;
}

export interface ScopeOptions {
  /** Deadline, when shorter than server.request_timeout_ms (an ensemble preset's timeout_ms). */
  timeoutMs?: number;
  /** The request's worst-case cost (only computed when the team has a budget). */
  reserveUsd: () => number;
  /** Tokens to count against tpm limits before the answer is known. */
  estimateTokens: () => number;
  /** What would fit in what remains of a budget, for a refusal's message. */
  fitHint?: (remainingUsd: number) => string | undefined;
  /** The request's `quorum.tags`, for the ledger. */
  tags?: Record<string, string>;
}

/** Hold a reservation a little past the deadline, so a slow settle never releases it early. */
const RESERVATION_MARGIN_MS = 30_000;

/**
 * Admits a request (rate limits, then a budget hold on its worst-case cost) and opens its scope: a
 * deadline, the client's signal, and an account of every upstream call, which `end()` settles.
 */
export async function beginRequest(
  gw: Gateway,
  ctx: ChatContext,
  options: ScopeOptions,
): Promise<RequestScope> {
  const ms = Math.min(gw.config.server.request_timeout_ms, options.timeoutMs ?? Number.POSITIVE_INFINITY);
  const admission: Admission = await admit(
    gw.limits,
    ctx.caller,
    options.reserveUsd,
    options.estimateTokens,
    ms + RESERVATION_MARGIN_MS,
    options.fitHint,
  );
  const spent = new RequestAccount(gw.recordCall(ctx, options.tags), {
    // Without a budget there is no hold, but the worst case still bounds what a call can cost.
    holdUsd: () => admission.holdUsd ?? options.reserveUsd(),
    onExcess: (record, chargedUsd) => noticeExcess(gw, ctx, record, chargedUsd),
  });
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), ms);
  const clear = () => {
    clearTimeout(timer);
    ctx.clientSignal.removeEventListener('abort', clear);
  };
  // The client leaving ends the deadline timer at once; settlement waits for the calls to report.
  ctx.clientSignal.addEventListener('abort', clear, { once: true });
  let ended: Promise<void> | undefined;
  return {
    signal: AbortSignal.any([ctx.clientSignal, deadline.signal]),
    deadline: deadline.signal,
    deadlineAt: Date.now() + ms,
    account: spent.add,
    spent,
    headers: admission.headers,
    end() {
      ended ??= (async () => {
        clear();
        const tokens = spent.countedTokens();
        ctx.onSpent?.(spent.totalUsd);
        try {
          await admission.settle(spent.totalUsd, tokens);
          if (ctx.caller.budget) await gw.noticeSoftLimit(ctx.caller.budget);
        } catch (err) {
          // A settle that fails (Redis gone) must not fail an answered request; the hold expires by itself.
          gw.onError?.(err instanceof Error ? err : new GatewayError('internal_error', String(err)));
        }
      })();
      return ended;
    },
  };
}

/**
 * An upstream claimed more than the request's hold: charged only up to it. Logged (no prompt, no key),
 * counted and passed to the operator, since it means a broken or hostile upstream, or an estimate gap.
 */
function noticeExcess(gw: Gateway, ctx: ChatContext, record: CallRecord, chargedUsd: number): void {
  metrics.usageOverHold.inc({ team: ctx.caller.team, model: record.model, provider: record.provider });
  metrics.usageOverHoldUsd.inc({ team: ctx.caller.team }, Math.max(0, record.costUsd - chargedUsd));
  gw.warn('upstream usage exceeds the request hold; charged only up to the hold', {
    team: ctx.caller.team,
    request_id: ctx.requestId,
    model: record.model,
    provider: record.provider,
    prompt_tokens: record.usage.prompt_tokens,
    completion_tokens: record.usage.completion_tokens,
    reported_cost_usd: record.costUsd,
    charged_usd: chargedUsd,
  });
}

/**
 * Tokens counted against tpm before the answer: the prompt's upper-bound estimate and the output the
 * request allows.
 */
export function tokenEstimate(request: ChatRequest): number {
  return (
    maxPromptTokens(request.messages, request.tools, request.response_format) +
    (requestedOutputTokens(request) ?? OUTPUT_RESERVE)
  );
}
