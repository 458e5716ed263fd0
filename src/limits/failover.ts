/**
 * What the Redis backends do when Redis cannot be reached, chosen by `failMode`:
 * - `closed` (default): reserve, admit and status throw LimitsUnavailableError, so no request runs
 *   unmetered; the gateway answers 503.
 * - `open`: requests keep flowing, metered by this instance's own in-memory counters (budgets seeded
 *   at start-up, rate limits per instance), so one instance cannot spend more than one whole limit
 *   during the outage, but N instances together could spend up to N limits. Logged via `onWarn`.
 * In both modes settle, release, seed and adjust never throw: a settle or release that cannot reach
 * Redis is queued and replayed once it is back (replays are idempotent by hold id and dropped after a
 * few minutes, past which the id tombstone may be gone), and a hold that is never replayed lapses at
 * its expiry anyway. The ledger stays the durable record of spend either way.
 */
import { ENDED_RETENTION_MS } from './budget-status.ts';
import { LimitsUnavailableError } from './errors.ts';
import { MemoryBudget } from './memory-budget.ts';
import { MemoryRateLimit } from './memory-rate.ts';
import type {
  BudgetBackend,
  BudgetPolicy,
  BudgetStatus,
  MultiReservation,
  RateDecision,
  RateLimitBackend,
  RateLimits,
  Reservation,
  ReserveManyResult,
  ReserveResult,
} from './types.ts';

export type FailMode = 'closed' | 'open';
export type WarnFn = (message: string, err?: unknown) => void;

/** Logs an outage once when it starts and once when it ends, not once per request. */
export class RedisHealth {
  private readonly onWarn: WarnFn;
  private readonly failMode: FailMode;
  private down = false;

  constructor(failMode: FailMode, onWarn: WarnFn) {
    this.failMode = failMode;
    this.onWarn = onWarn;
  }

  failed(err: unknown): void {
    if (this.down) return;
    this.down = true;
    const what =
      this.failMode === 'closed'
        ? 'requests with a budget or rate limit are refused (fail closed)'
        : 'budgets and rate limits fall back to this instance’s memory (fail open)';
    this.onWarn(`Redis unreachable: ${what}`, err);
  }

  ok(): void {
    if (!this.down) return;
    this.down = false;
    this.onWarn('Redis reachable again: budgets and rate limits are shared across instances');
  }
}

/** Local holds taken during an outage carry this id prefix, so their settle knows where to go. */
const LOCAL = 'local:';
/** Replays older than this could double-charge once the id's tombstone is forgotten: dropped. */
const MAX_REPLAY_AGE_MS = ENDED_RETENTION_MS / 2;
const MAX_PENDING = 10_000;

interface Pending {
  run: () => Promise<void>;
  queuedAt: number;
}

export interface FailoverOptions {
  failMode: FailMode;
  health: RedisHealth;
  onWarn: WarnFn;
  now: () => number;
}

export class FailoverBudget implements BudgetBackend {
  private readonly primary: BudgetBackend;
  private readonly options: FailoverOptions;
  private readonly local: MemoryBudget;
  private pending: Pending[] = [];
  private flushing = false;

  constructor(primary: BudgetBackend, options: FailoverOptions) {
    this.primary = primary;
    this.options = options;
    this.local = new MemoryBudget({ now: options.now });
  }

  async reserve(policy: BudgetPolicy, amountUsd: number, ttlMs: number): Promise<ReserveResult> {
    try {
      const result = await this.primary.reserve(policy, amountUsd, ttlMs);
      this.recovered();
      return result;
    } catch (err) {
      this.unavailable('reserve', err);
      const result = await this.local.reserve(policy, amountUsd, ttlMs);
      if (!result.ok) return result;
      return { ok: true, reservation: { ...result.reservation, id: LOCAL + result.reservation.id } };
    }
  }

  async reserveMany(
    policies: readonly BudgetPolicy[],
    amountUsd: number,
    ttlMs: number,
  ): Promise<ReserveManyResult> {
    try {
      const result = await this.primary.reserveMany(policies, amountUsd, ttlMs);
      this.recovered();
      return result;
    } catch (err) {
      this.unavailable('reserve', err);
      const result = await this.local.reserveMany(policies, amountUsd, ttlMs);
      if (!result.ok) return result;
      return { ok: true, reservation: { ...result.reservation, id: LOCAL + result.reservation.id } };
    }
  }

  async settleMany(reservation: MultiReservation, actualUsd: number): Promise<void> {
    await this.endMany(
      reservation,
      (r) => this.primary.settleMany(r, actualUsd),
      (r) => this.local.settleMany(r, actualUsd),
    );
  }

  async releaseMany(reservation: MultiReservation): Promise<void> {
    await this.endMany(
      reservation,
      (r) => this.primary.releaseMany(r),
      (r) => this.local.releaseMany(r),
    );
  }

  private async endMany(
    reservation: MultiReservation,
    onPrimary: (r: MultiReservation) => Promise<void>,
    onLocal: (r: MultiReservation) => Promise<void>,
  ): Promise<void> {
    if (reservation.id.startsWith(LOCAL)) {
      await onLocal({ ...reservation, id: reservation.id.slice(LOCAL.length) });
    }
    await this.attempt(() => onPrimary(reservation));
  }

  async settle(reservation: Reservation, actualUsd: number): Promise<void> {
    await this.end(
      reservation,
      (r) => this.primary.settle(r, actualUsd),
      (r) => this.local.settle(r, actualUsd),
    );
  }

  async release(reservation: Reservation): Promise<void> {
    await this.end(
      reservation,
      (r) => this.primary.release(r),
      (r) => this.local.release(r),
    );
  }

  async status(policy: BudgetPolicy): Promise<BudgetStatus> {
    try {
      const status = await this.primary.status(policy);
      this.recovered();
      return status;
    } catch (err) {
      this.unavailable('status', err);
      return this.local.status(policy);
    }
  }

  /** Seeds both, so the local fallback starts from the ledger's totals too. */
  async seed(team: string, periodKey: string, spentUsd: number): Promise<void> {
    await this.local.seed(team, periodKey, spentUsd);
    await this.attempt(() => this.primary.seed(team, periodKey, spentUsd));
  }

  async close(): Promise<void> {
    await Promise.all([this.primary.close(), this.local.close()]);
  }

  /** Replays queued settles/releases/seeds in order; stops at the first that fails again. */
  async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      let dropped = 0;
      while (this.pending.length > 0) {
        const next = this.pending[0]!;
        if (this.options.now() - next.queuedAt > MAX_REPLAY_AGE_MS) {
          this.pending.shift();
          dropped++;
          continue;
        }
        try {
          await next.run();
        } catch {
          break;
        }
        this.pending.shift();
      }
      if (dropped > 0) {
        this.options.onWarn(`Dropped ${dropped} budget updates queued too long while Redis was unreachable`);
      }
    } finally {
      this.flushing = false;
    }
  }

  private async end(
    reservation: Reservation,
    onPrimary: (r: Reservation) => Promise<void>,
    onLocal: (r: Reservation) => Promise<void>,
  ): Promise<void> {
    if (reservation.id.startsWith(LOCAL)) {
      await onLocal({ ...reservation, id: reservation.id.slice(LOCAL.length) });
    }
    // A local hold was never in Redis, so this only adds its charge to the shared `spent`.
    await this.attempt(() => onPrimary(reservation));
  }

  /** Runs a write that must not be lost; queues it for replay when Redis is unreachable. */
  private async attempt(run: () => Promise<void>): Promise<void> {
    try {
      await run();
      this.recovered();
    } catch (err) {
      this.options.health.failed(err);
      if (this.pending.length >= MAX_PENDING) this.pending.shift();
      this.pending.push({ run, queuedAt: this.options.now() });
    }
  }

  private unavailable(operation: string, err: unknown): void {
    this.options.health.failed(err);
    if (this.options.failMode === 'closed') throw new LimitsUnavailableError(operation, err);
  }

  private recovered(): void {
    this.options.health.ok();
    if (this.pending.length > 0) void this.flush();
  }
}

export class FailoverRateLimit implements RateLimitBackend {
  private readonly primary: RateLimitBackend & Required<Pick<RateLimitBackend, 'admitMany'>>;
  private readonly options: FailoverOptions;
  private readonly local: MemoryRateLimit;

  constructor(
    primary: RateLimitBackend & Required<Pick<RateLimitBackend, 'admitMany'>>,
    options: FailoverOptions,
  ) {
    this.primary = primary;
    this.options = options;
    this.local = new MemoryRateLimit({ now: options.now });
  }

  admit(subject: string, limits: RateLimits, tokens: number): Promise<RateDecision> {
    return this.admitMany([{ subject, limits }], tokens);
  }

  async admitMany(
    subjects: { subject: string; limits: RateLimits }[],
    tokens: number,
  ): Promise<RateDecision> {
    try {
      const decision = await this.primary.admitMany(subjects, tokens);
      this.options.health.ok();
      return decision;
    } catch (err) {
      this.options.health.failed(err);
      if (this.options.failMode === 'closed') throw new LimitsUnavailableError('admit', err);
      return this.local.admitMany(subjects, tokens);
    }
  }

  /** A lost correction only skews a subject's token count for a minute: not queued. */
  async adjust(subject: string, tokensDelta: number): Promise<void> {
    try {
      await this.primary.adjust(subject, tokensDelta);
    } catch (err) {
      this.options.health.failed(err);
      await this.local.adjust(subject, tokensDelta);
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.primary.close(), this.local.close()]);
  }
}
