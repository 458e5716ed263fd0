/**
 * Admission: rate limits and the budget hold taken before any upstream call, and the settlement that
 * ends the hold with what the request spent.
 */
import { OUTPUT_RESERVE } from '../../../routing/filter.ts';
import { requestedOutputTokens } from '../../../routing/request.ts';
import { maxPromptTokens } from '../../../routing/tokens.ts';
import type { ChatRequest } from '../../chat/index.ts';
import { GatewayError } from '../../errors/index.ts';
import { LimitsUnavailableError } from '../../limits/errors.ts';
import { type OverrideBook, parseSubject, type ScopedWindow } from '../../limits/scopes.ts';
import type {
  BudgetBackend,
  MultiReservation,
  RateDecision,
  RateLimitBackend,
  RateLimits,
  ReserveManyResult,
} from '../../limits/types.ts';
import { metrics } from '../../telemetry/index.ts';
import type { Caller } from '../access/index.ts';
import { CLAMP_RETRIES, OUTPUT_CAP_HEADER, type OutputCap, type OutputCapping } from './output-cap.ts';
import { budgetRefusal, budgetWindows, type RequestScope, scopeRateSubjects } from './scopes.ts';

export interface LimitBackends {
  budget: BudgetBackend;
  rates: RateLimitBackend;
  /** Live raises of scopes' limits (POST /admin/overrides); absent: none. */
  overrides?: OverrideBook | undefined;
  close(): Promise<void>;
}

/** A request let in: its x-ratelimit-* headers, and how to settle once its cost is known. */
export interface Admission {
  headers: Record<string, string>;
  /** The budget hold in USD (the request's worst-case cost); undefined for a caller without a budget. */
  holdUsd?: number;
  /** Every budget window the request is held in (team, key, end user, tags): soft limits and alerts. */
  windows?: readonly ScopedWindow[];
  /** The output cap the gateway set (its allowance, or lowered to fit the budget): to send upstream. */
  outputCap?: OutputCap;
  /** Charges what the request actually spent (every upstream call) and ends its budget hold. Idempotent. */
  settle(actualUsd: number, actualTokens: number): Promise<void>;
}

const NOTHING: Admission = { headers: {}, settle: async () => {} };

/** What admission asks of a request, each computed only when a limit needs it. */
export interface AdmissionBounds {
  /** The request's worst-case cost: the budget hold. */
  reserveUsd(): number;
  /** Tokens to count against tpm limits before the answer is known. */
  estimateTokens(): number;
  /** What would fit in what remains of the budget, said in the refusal (e.g. a smaller max_tokens). */
  fitHint?(remainingUsd: number): string | undefined;
  /**
   * With a budget: the request's output cap (output-cap.ts), which `reserveUsd` is priced on and which
   * may be lowered to fit the remainder instead of refusing. Undefined: the hold is fixed.
   */
  capping?(): OutputCapping | undefined;
}

/**
 * Before any upstream call: the rate limits of the key, the team, the end user and the tags (one
 * request, the token estimate), then every budget window that applies (team, key, end user, tags: one
 * hold on the request's worst-case cost in all of them, or in none). Refusals are the API's 429s;
 * nothing is counted for a refused request. Callers without limits or a budget pay nothing here.
 */
export async function admitWithin(
  limits: LimitBackends,
  caller: Caller,
  bounds: AdmissionBounds,
  ttlMs: number,
  scope: RequestScope = {},
): Promise<Admission> {
  if (!caller.budget && !caller.teamLimits && !caller.keyLimits && !caller.scopes) return NOTHING;
  const windows = budgetWindows(caller, scope, limits.overrides);
  const policies = windows.map((w) => w.policy);
  const hasBudget = policies.length > 0;
  const scoped = scopeRateSubjects(caller, scope);
  const estimatedTokens =
    caller.teamLimits?.tpm || caller.keyLimits?.tpm || scoped.some((s) => s.limits.tpm)
      ? bounds.estimateTokens()
      : 0;
  const subjects: { subject: string; limits: RateLimits }[] = [];
  if (caller.keyLimits && (caller.keyLimits.rpm || caller.keyLimits.tpm)) {
    subjects.push({
      subject: `key:${caller.keyId ?? caller.keyName ?? caller.team}`,
      limits: caller.keyLimits,
    });
  }
  if (caller.teamLimits && (caller.teamLimits.rpm || caller.teamLimits.tpm)) {
    subjects.push({ subject: `team:${caller.team}`, limits: caller.teamLimits });
  }
  subjects.push(...scoped);
  if (!hasBudget && !subjects.length) return NOTHING;
  const counted = subjects.map((s) => s.subject);
  const capping = hasBudget ? bounds.capping?.() : undefined;
  let amount = hasBudget ? bounds.reserveUsd() : 0;
  // A request that cannot cost anything (a free model) takes no hold, so an empty budget serves it.
  const holding = hasBudget && amount > 0;

  // Rate limits and the budget hold go out together (with Redis: two scripts, one round trip); a
  // refusal by one undoes what the other took.
  // In-process backends answer at once: no turn of the event loop, which would let other requests in
  // first (and the overhead header count their time). Shared ones (Redis) are awaited together.
  const rateSync = limits.rates.sync;
  const budgetSync = limits.budget.sync;
  const sync = (!subjects.length || !!rateSync) && (!holding || !!budgetSync);
  let rateOutcome: PromiseSettledResult<RateDecision | undefined>;
  let budgetOutcome: PromiseSettledResult<ReserveManyResult | undefined>;
  if (sync) {
    try {
      const value = subjects.length ? rateSync!.admitMany(subjects, estimatedTokens) : undefined;
      rateOutcome = { status: 'fulfilled', value };
    } catch (reason) {
      rateOutcome = { status: 'rejected', reason };
    }
    try {
      const value = holding ? budgetSync!.reserveMany(policies, amount, ttlMs) : undefined;
      budgetOutcome = { status: 'fulfilled', value };
    } catch (reason) {
      budgetOutcome = { status: 'rejected', reason };
    }
  } else {
    [rateOutcome, budgetOutcome] = await Promise.allSettled([
      subjects.length ? limits.rates.admitMany!(subjects, estimatedTokens).catch(asUnavailable) : undefined,
      holding ? limits.budget.reserveMany(policies, amount, ttlMs).catch(asUnavailable) : undefined,
    ]);
  }
  const decision = rateOutcome.status === 'fulfilled' ? rateOutcome.value : undefined;
  let result = budgetOutcome.status === 'fulfilled' ? budgetOutcome.value : undefined;
  const rateCounted = !!decision?.ok;
  let reservation: MultiReservation | null = result?.ok ? result.reservation : null;
  const undo = async () => {
    await Promise.all([
      ...(rateCounted ? counted.map((s) => limits.rates.adjust(s, -estimatedTokens)) : []),
      reservation ? limits.budget.releaseMany(reservation) : undefined,
    ]);
  };
  if (rateOutcome.status === 'rejected' || budgetOutcome.status === 'rejected') {
    await undo();
    throw rateOutcome.status === 'rejected'
      ? rateOutcome.reason
      : (budgetOutcome as PromiseRejectedResult).reason;
  }
  let headers: Record<string, string> = decision?.headers ?? {};
  if (decision && !decision.ok) {
    await undo();
    metrics.refusals.inc({ team: caller.team, reason: 'rate_limit_exceeded' });
    throw rateLimitError(decision, caller.team, estimatedTokens);
  }
  let outputCap = capping?.initial();
  // --- output cap: a hold refused for want of money is retried with the output cap lowered to what
  // the refusing window's own remainder pays for (output-cap.ts), down to the floor. Each try is the
  // backend's atomic hold in every window, so requests racing for a remainder can never overspend it.
  const refusedAmount = amount;
  if (result && !result.ok && capping && holding) {
    try {
      for (let i = 0; i < CLAMP_RETRIES && result && !result.ok; i++) {
        const clamp = capping.clampTo(result.status.remainingUsd);
        if (!clamp) break;
        const tried: ReserveManyResult = sync
          ? budgetSync!.reserveMany(policies, clamp.reserveUsd, ttlMs)
          : await limits.budget.reserveMany(policies, clamp.reserveUsd, ttlMs).catch(asUnavailable);
        result = tried;
        if (tried.ok) {
          reservation = tried.reservation;
          amount = clamp.reserveUsd;
          outputCap = clamp.cap;
        }
      }
    } catch (err) {
      await undo();
      throw err;
    }
  }
  // --- end output cap
  if (result && !result.ok) {
    await undo();
    metrics.refusals.inc({ team: caller.team, reason: 'budget_exceeded' });
    const st = result.status;
    const hint = bounds.fitHint?.(st.remainingUsd);
    throw budgetRefusal(windows[result.index]!, st, refusedAmount, hint, capping && floorText(capping));
  }
  if (outputCap) headers = { ...headers, [OUTPUT_CAP_HEADER]: String(outputCap.max_tokens) };

  let settled = false;
  return {
    headers,
    ...(hasBudget ? { holdUsd: amount, windows } : {}),
    ...(outputCap ? { outputCap } : {}),
    async settle(actualUsd, actualTokens) {
      if (settled) return;
      settled = true;
      if (sync) {
        for (const s of counted) rateSync!.adjust(s, actualTokens - estimatedTokens);
        if (reservation) budgetSync!.settleMany(reservation, actualUsd);
        return;
      }
      const corrections = counted.map((s) => limits.rates.adjust(s, actualTokens - estimatedTokens));
      await Promise.all([
        ...corrections,
        reservation ? limits.budget.settleMany(reservation, actualUsd) : undefined,
      ]);
    },
  };
}

/** What a refused request's output cap was, and how far the gateway would have lowered it. */
function floorText(capping: OutputCapping): string {
  const { wanted, minOutputTokens } = capping;
  return minOutputTokens < wanted
    ? ` with ${wanted} output tokens, and even the smallest cap the gateway lowers that to, ${minOutputTokens} tokens, does not fit`
    : ` with ${wanted} output tokens`;
}

/**
 * The 429 for a refused rate limit. `retry-after` (whole seconds, rounded up) and `retry-after-ms` (which
 * the OpenAI SDKs prefer) are the time until the sliding window admits this same request, and the
 * message says the same number. A request whose tokens alone exceed a tpm gets `x-should-retry: false`
 * and no retry time: no wait makes it fit.
 */
export function rateLimitError(decision: RateDecision, team: string, estimatedTokens: number): GatewayError {
  const who = decision.subject?.startsWith('key:')
    ? 'this key'
    : decision.subject?.startsWith('scope:')
      ? scopeWords(decision.subject.slice('scope:'.length))
      : `team \`${team}\``;
  const what = decision.limitedBy ?? 'requests';
  const limit = decision.limit === undefined ? '' : ` (${decision.limit} ${what} per minute)`;
  if (decision.neverFits) {
    return new GatewayError(
      'rate_limit_exceeded',
      `Request too large for ${who}: its estimated ${Math.ceil(estimatedTokens)} tokens (prompt plus max_tokens) exceed the tpm limit${limit}, so it can never fit; lower max_tokens or shorten the prompt.`,
      { headers: { ...decision.headers, 'x-should-retry': 'false' } },
    );
  }
  const ms = Math.max(1, Math.ceil(decision.retryAfterMs ?? (decision.retryAfterSeconds ?? 1) * 1000));
  const seconds = Math.ceil(ms / 1000);
  return new GatewayError(
    'rate_limit_exceeded',
    `Rate limit reached for ${who}: too many ${what} in the last minute${limit}. Retry after ${seconds} s.`,
    {
      headers: { ...decision.headers, 'retry-after': String(seconds), 'retry-after-ms': String(ms) },
    },
  );
}

/** An end user's or a tag's rate-limit subject, in words. */
function scopeWords(subject: string): string {
  const ref = parseSubject(subject);
  return ref.kind === 'user' ? `end user \`${ref.id}\`` : `requests tagged \`${ref.id}\``;
}

/** Redis unreachable with fail-closed limits: the request is refused as 503, to be retried shortly. */
export async function unavailable<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    return asUnavailable(err);
  }
}

function asUnavailable(err: unknown): never {
  if (err instanceof LimitsUnavailableError) {
    throw new GatewayError(
      'limits_unavailable',
      'Budgets and rate limits are unavailable (Redis unreachable); retry shortly.',
      {
        headers: { 'retry-after': '1' },
        cause: err,
      },
    );
  }
  throw err;
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
