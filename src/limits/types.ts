/**
 * Budgets and rate limits behind one interface with two backends: in memory (one gateway instance)
 * and Redis (several instances share the counters; every check-and-update is one atomic Lua script).
 * Money is counted in integer nano-dollars (1e-9 USD) so sums are exact and atomic increments never
 * round; `nanos.ts` converts at the edge.
 */

export type BudgetPeriod = 'daily' | 'weekly' | 'monthly' | 'total';

export interface BudgetPolicy {
  team: string;
  limitUsd: number;
  period: BudgetPeriod;
  /** Crossing it logs, counts a metric, alerts and marks GET /v1/budget; it never refuses. */
  softLimitUsd?: number;
  /** Percent of `limitUsd` at which to alert, ascending (src/alerts); each fires once per period. */
  alertThresholds?: readonly number[];
}

/** A hold on part of a team's budget for one request, until it settles. */
export interface Reservation {
  id: string;
  team: string;
  /** The budget period the hold was taken in (e.g. `2026-11` for monthly). */
  period: string;
  nanos: number;
  /** Epoch ms after which the hold lapses even if never settled (request deadline + margin). */
  expiresAt: number;
}

export interface BudgetStatus {
  team: string;
  period: BudgetPeriod;
  /** The current period's key (`2026-11-22`, `2026-W47`, `2026-11`, `total`). */
  periodKey: string;
  limitUsd: number;
  spentUsd: number;
  reservedUsd: number;
  remainingUsd: number;
  /** ISO time the period resets; null for `total`. */
  resetsAt: string | null;
  softLimitReached: boolean;
}

export type ReserveResult = { ok: true; reservation: Reservation } | { ok: false; status: BudgetStatus };

/**
 * One hold across several budget windows (a request's team, key, end-user and tag budgets, each with
 * one or more periods), taken and ended together. `parts[i]` is the window of `policies[i]` given to
 * `reserveMany` (windows sharing a counter are held once, so parts may be fewer).
 */
export interface MultiReservation {
  id: string;
  nanos: number;
  expiresAt: number;
  parts: { team: string; period: string }[];
}

/** Admitted in every window, or refused by the first that cannot cover it (`index` into the policies). */
export type ReserveManyResult =
  | { ok: true; reservation: MultiReservation }
  | { ok: false; index: number; status: BudgetStatus };

export interface BudgetBackend {
  /**
   * Atomically: refuse when spent + reserved + amount > limit, else hold `amountUsd` until settle,
   * release or `ttlMs` passes. Expired holds are dropped before the check.
   */
  reserve(policy: BudgetPolicy, amountUsd: number, ttlMs: number): Promise<ReserveResult>;
  /** Ends a hold and charges the actual cost, capped at the hold (the request's worst case). */
  settle(reservation: Reservation, actualUsd: number): Promise<void>;
  /** Ends a hold without charging (nothing was spent). */
  release(reservation: Reservation): Promise<void>;
  status(policy: BudgetPolicy): Promise<BudgetStatus>;
  /** Sets a period's spent total (start-up rebuild from the ledger); only raises, never lowers. */
  seed(team: string, periodKey: string, spentUsd: number): Promise<void>;
  close(): Promise<void>;
  /**
   * `reserve` over several windows in one atomic step (one Lua script with Redis): every window can
   * cover `amountUsd` and each is held, or none is. `policy.team` names each window's counter (a team
   * id, or a scope subject from scopes.ts).
   */
  reserveMany(
    policies: readonly BudgetPolicy[],
    amountUsd: number,
    ttlMs: number,
  ): Promise<ReserveManyResult>;
  /** Ends every part of a multi-window hold, charging each the same actual cost (capped at the hold). */
  settleMany(reservation: MultiReservation, actualUsd: number): Promise<void>;
  releaseMany(reservation: MultiReservation): Promise<void>;
  /**
   * In-process backends only: the same operations answered at once. The request path uses them when
   * present, so a budget costs no turn of the event loop (each turn lets other requests in first).
   */
  sync?: {
    reserve(policy: BudgetPolicy, amountUsd: number, ttlMs: number): ReserveResult;
    settle(reservation: Reservation, actualUsd: number): void;
    release(reservation: Reservation): void;
    reserveMany(policies: readonly BudgetPolicy[], amountUsd: number, ttlMs: number): ReserveManyResult;
    settleMany(reservation: MultiReservation, actualUsd: number): void;
    releaseMany(reservation: MultiReservation): void;
  };
}

/** One subject's limits: a key (`key:<id>`) or a team (`team:<id>`). */
export interface RateLimits {
  rpm?: number;
  tpm?: number;
}

export interface RateDecision {
  ok: boolean;
  /**
   * When refused: ms until the same request would be admitted if nothing else is counted meanwhile
   * (never more than one window), and the same rounded up to whole seconds. Absent when `neverFits`.
   */
  retryAfterMs?: number;
  retryAfterSeconds?: number;
  /** Refused because its tokens alone exceed a tpm: no wait would ever admit it. */
  neverFits?: boolean;
  /** OpenAI's x-ratelimit-* headers for the tightest limit that applies. */
  headers: Record<string, string>;
  /** When refused: which kind of limit, whose, and its value (for the 429 message). */
  limitedBy?: 'requests' | 'tokens';
  subject?: string;
  limit?: number;
}

export interface RateLimitBackend {
  /**
   * Sliding one-minute windows (sliding-window.ts): counts one request and `tokens` (the estimate)
   * against the subject's rpm/tpm, or refuses without counting anything when either would be exceeded.
   */
  admit(subject: string, limits: RateLimits, tokens: number): Promise<RateDecision>;
  /**
   * `admit` for several subjects at once (a key and its team) in one atomic step: counts the request in
   * all of them or in none, so a refusal by one never uses up another's quota.
   */
  admitMany?(subjects: { subject: string; limits: RateLimits }[], tokens: number): Promise<RateDecision>;
  /**
   * Corrects the token count once the actual usage is known: a positive delta counts from now, a
   * negative one is taken back from the newest entries (never below zero).
   */
  adjust(subject: string, tokensDelta: number): Promise<void>;
  close(): Promise<void>;
  /** In-process backends only: `admitMany` and `adjust` answered at once (see BudgetBackend.sync). */
  sync?: {
    admitMany(subjects: { subject: string; limits: RateLimits }[], tokens: number): RateDecision;
    adjust(subject: string, tokensDelta: number): void;
  };
}
