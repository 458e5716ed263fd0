import { OUTPUT_RESERVE } from '../../routing/filter.ts';
import { estimatePromptTokens } from '../../routing/tokens.ts';
import type { ChatRequest } from '../chat/index.ts';
import { GatewayError } from '../errors/index.ts';
import { type Account, RequestAccount } from './accounting.ts';
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
  );
  const spent = new RequestAccount(gw.recordCall(ctx, options.tags));
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
        const tokens = spent.records.reduce(
          (n, r) => n + r.usage.prompt_tokens + r.usage.completion_tokens,
          0,
        );
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

/** Tokens counted against tpm before the answer: the prompt estimate and the output the request allows. */
export function tokenEstimate(request: ChatRequest): number {
  return (
    estimatePromptTokens(request.messages, request.tools) +
    (request.max_completion_tokens ?? request.max_tokens ?? OUTPUT_RESERVE)
  );
}
