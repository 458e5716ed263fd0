/**
 * Budgets for a single gateway instance. Every method body runs without an await between reading and
 * writing the counters, and JS runs one callback at a time, so each check-and-update is atomic.
 */
import { budgetStatus, periodTtlMs } from './budget-status.ts';
import { amountNanos, limitNanos, settleNanos } from './nanos.ts';
import { periodOfKey, periodWindow } from './periods.ts';
import type {
  BudgetBackend,
  BudgetPolicy,
  BudgetStatus,
  MultiReservation,
  Reservation,
  ReserveManyResult,
  ReserveResult,
} from './types.ts';

interface Hold {
  nanos: number;
  expiresAt: number;
}

/** One team's counters for one period. */
interface Bucket {
  spent: number;
  /** Sum of `holds`, kept alongside so a check is O(1). */
  reserved: number;
  holds: Map<string, Hold>;
  /** Ids already settled or released → when to forget them (insertion order ≈ that order). */
  /** Earliest hold expiry, so the purge skips its scan until something can have lapsed. */
  nextExpiry: number;
  /** Like a Redis key TTL: once past, with no holds left, the bucket is dropped (never for `total`). */
  dropAt: number;
}

export interface MemoryBudgetOptions {
  /** Clock in epoch ms (default Date.now). */
  now?: () => number;
}

export class MemoryBudget implements BudgetBackend {
  private readonly now: () => number;
  private readonly buckets = new Map<string, Bucket>();
  private readonly ended = new WeakSet<Reservation | MultiReservation>();
  /** Hold ids: unique within this instance, which is all a hold id must be here (no UUID to generate). */
  private holdSeq = 0;

  constructor(options: MemoryBudgetOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  readonly sync = {
    reserve: (policy: BudgetPolicy, amountUsd: number, ttlMs: number) =>
      this.reserveNow(policy, amountUsd, ttlMs),
    settle: (reservation: Reservation, actualUsd: number) =>
      this.end(reservation, settleNanos(reservation, actualUsd)),
    release: (reservation: Reservation) => this.end(reservation, 0),
    reserveMany: (policies: readonly BudgetPolicy[], amountUsd: number, ttlMs: number) =>
      this.reserveManyNow(policies, amountUsd, ttlMs),
    settleMany: (reservation: MultiReservation, actualUsd: number) =>
      this.endMany(reservation, settleNanos(reservation, actualUsd)),
    releaseMany: (reservation: MultiReservation) => this.endMany(reservation, 0),
  };

  async reserveMany(
    policies: readonly BudgetPolicy[],
    amountUsd: number,
    ttlMs: number,
  ): Promise<ReserveManyResult> {
    return this.reserveManyNow(policies, amountUsd, ttlMs);
  }

  async settleMany(reservation: MultiReservation, actualUsd: number): Promise<void> {
    this.endMany(reservation, settleNanos(reservation, actualUsd));
  }

  async releaseMany(reservation: MultiReservation): Promise<void> {
    this.endMany(reservation, 0);
  }

  /** Every window checked, then every window held: no await between, so all or none. */
  private reserveManyNow(
    policies: readonly BudgetPolicy[],
    amountUsd: number,
    ttlMs: number,
  ): ReserveManyResult {
    const now = this.now();
    const nanos = amountNanos(amountUsd);
    const held = new Map<string, Bucket>();
    const parts: MultiReservation['parts'] = [];
    for (let i = 0; i < policies.length; i++) {
      const policy = policies[i]!;
      const { key, resetsAt } = periodWindow(policy.period, now);
      const bucket = this.bucket(policy.team, key);
      purgeHolds(bucket, now);
      if (bucket.spent + bucket.reserved + nanos > limitNanos(policy.limitUsd)) {
        return {
          ok: false,
          index: i,
          status: budgetStatus(policy, key, resetsAt, bucket.spent, bucket.reserved),
        };
      }
      const id = bucketKey(policy.team, key);
      if (held.has(id)) continue; // two windows of one period on one scope share a counter
      held.set(id, bucket);
      parts.push({ team: policy.team, period: key });
    }
    const id = (++this.holdSeq).toString(36);
    const expiresAt = now + Math.max(0, ttlMs);
    for (const bucket of held.values()) {
      bucket.holds.set(id, { nanos, expiresAt });
      bucket.reserved += nanos;
      bucket.nextExpiry = Math.min(bucket.nextExpiry, expiresAt);
    }
    return { ok: true, reservation: { id, nanos, expiresAt, parts } };
  }

  private endMany(reservation: MultiReservation, chargeNanos: number): void {
    if (this.ended.has(reservation)) return;
    this.ended.add(reservation);
    for (const part of reservation.parts) this.endPart(part.team, part.period, reservation.id, chargeNanos);
  }

  async reserve(policy: BudgetPolicy, amountUsd: number, ttlMs: number): Promise<ReserveResult> {
    return this.reserveNow(policy, amountUsd, ttlMs);
  }

  private reserveNow(policy: BudgetPolicy, amountUsd: number, ttlMs: number): ReserveResult {
    const now = this.now();
    const { key, resetsAt } = periodWindow(policy.period, now);
    const bucket = this.bucket(policy.team, key);
    purgeHolds(bucket, now);
    const nanos = amountNanos(amountUsd);
    if (bucket.spent + bucket.reserved + nanos > limitNanos(policy.limitUsd)) {
      return { ok: false, status: budgetStatus(policy, key, resetsAt, bucket.spent, bucket.reserved) };
    }
    const id = (++this.holdSeq).toString(36);
    const expiresAt = now + Math.max(0, ttlMs);
    bucket.holds.set(id, { nanos, expiresAt });
    bucket.reserved += nanos;
    bucket.nextExpiry = Math.min(bucket.nextExpiry, expiresAt);
    return { ok: true, reservation: { id, team: policy.team, period: key, nanos, expiresAt } };
  }

  async settle(reservation: Reservation, actualUsd: number): Promise<void> {
    this.end(reservation, settleNanos(reservation, actualUsd));
  }

  async release(reservation: Reservation): Promise<void> {
    this.end(reservation, 0);
  }

  async status(policy: BudgetPolicy): Promise<BudgetStatus> {
    const now = this.now();
    const { key, resetsAt } = periodWindow(policy.period, now);
    const bucket = this.buckets.get(bucketKey(policy.team, key));
    if (bucket) purgeHolds(bucket, now);
    return budgetStatus(policy, key, resetsAt, bucket?.spent ?? 0, bucket?.reserved ?? 0);
  }

  async seed(team: string, periodKey: string, spentUsd: number): Promise<void> {
    const bucket = this.bucket(team, periodKey);
    bucket.spent = Math.max(bucket.spent, amountNanos(spentUsd));
  }

  async close(): Promise<void> {}

  /** Settle or release: charged to the period the hold was taken in, even after a rollover. */
  private end(reservation: Reservation, chargeNanos: number): void {
    // A repeated settle or release (the same request's cleanup paths) is a no-op. The reservation is
    // this process's own object, so a WeakSet remembers it exactly as long as anything can repeat it —
    // a map of ended ids kept for minutes held hundreds of MB under sustained load.
    if (this.ended.has(reservation)) return;
    this.ended.add(reservation);
    this.endPart(reservation.team, reservation.period, reservation.id, chargeNanos);
  }

  private endPart(team: string, period: string, id: string, chargeNanos: number): void {
    const bucket = this.bucket(team, period);
    // A hold that lapsed and was purged no longer counts in `reserved`: only subtract a live one.
    const hold = bucket.holds.get(id);
    if (hold) {
      bucket.holds.delete(id);
      bucket.reserved -= hold.nanos;
    }
    bucket.spent += chargeNanos;
  }

  private bucket(team: string, periodKey: string): Bucket {
    const key = bucketKey(team, periodKey);
    const now = this.now();
    const ttl = periodTtlMs(periodOfKey(periodKey));
    const dropAt = ttl === null ? Infinity : now + ttl;
    let bucket = this.buckets.get(key);
    if (bucket) {
      bucket.dropAt = dropAt;
      return bucket;
    }
    // A new bucket means a new period began somewhere: a good moment to drop finished ones.
    for (const [k, b] of this.buckets) if (b.dropAt <= now && b.holds.size === 0) this.buckets.delete(k);
    bucket = { spent: 0, reserved: 0, holds: new Map(), nextExpiry: Infinity, dropAt };
    this.buckets.set(key, bucket);
    return bucket;
  }
}

const bucketKey = (team: string, periodKey: string) => `${team}\u0000${periodKey}`;

/** Drops lapsed holds (a hold lapses at `expiresAt`). */
function purgeHolds(bucket: Bucket, now: number): void {
  if (now < bucket.nextExpiry) return;
  let next = Infinity;
  for (const [id, hold] of bucket.holds) {
    if (hold.expiresAt <= now) {
      bucket.holds.delete(id);
      bucket.reserved -= hold.nanos;
    } else if (hold.expiresAt < next) {
      next = hold.expiresAt;
    }
  }
  bucket.nextExpiry = next;
}
