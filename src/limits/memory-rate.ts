/** Rate limits for a single gateway instance: a per-second log per subject (sliding-window.ts). */
import {
  admits,
  decide,
  drain,
  live,
  record,
  type Slot,
  type SubjectState,
  windowState,
} from './sliding-window.ts';
import type { RateDecision, RateLimitBackend, RateLimits } from './types.ts';

export interface MemoryRateLimitOptions {
  /** Clock in epoch ms (default Date.now). */
  now?: () => number;
}

export class MemoryRateLimit implements RateLimitBackend {
  private readonly now: () => number;
  /** Live entries per subject, oldest first; a subject whose entries have all left is dropped. */
  private readonly logs = new Map<string, Slot[]>();

  constructor(options: MemoryRateLimitOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  async admit(subject: string, limits: RateLimits, tokens: number): Promise<RateDecision> {
    return this.admitAll([{ subject, limits }], tokens);
  }

  async admitMany(
    subjects: { subject: string; limits: RateLimits }[],
    tokens: number,
  ): Promise<RateDecision> {
    return this.admitAll(subjects, tokens);
  }

  readonly sync = {
    admitMany: (subjects: { subject: string; limits: RateLimits }[], tokens: number) =>
      this.admitAll(subjects, tokens),
    adjust: (subject: string, tokensDelta: number) => this.adjustNow(subject, tokensDelta),
  };

  async adjust(subject: string, tokensDelta: number): Promise<void> {
    this.adjustNow(subject, tokensDelta);
  }

  private adjustNow(subject: string, tokensDelta: number): void {
    const delta = Math.round(tokensDelta);
    if (delta === 0) return;
    const now = this.now();
    const slots = this.log(subject, now);
    if (delta > 0) record(slots, now, 0, delta);
    else drain(slots, -delta);
    this.keep(subject, slots);
  }

  async close(): Promise<void> {}

  /** Synchronous from read to update: atomic, as JS runs one callback at a time. */
  private admitAll(subjects: { subject: string; limits: RateLimits }[], tokens: number): RateDecision {
    const now = this.now();
    const need = Math.max(0, Math.ceil(tokens));
    const logs = subjects.map(({ subject }) => this.log(subject, now));
    const states: SubjectState[] = subjects.map(({ subject, limits }, i) => ({
      subject,
      limits,
      state: windowState(logs[i]!, now, need, limits),
    }));
    const ok = admits(states);
    if (ok) {
      subjects.forEach(({ subject }, i) => {
        record(logs[i]!, now, 1, need);
        this.keep(subject, logs[i]!);
      });
    }
    return decide(states, need, ok);
  }

  /** The subject's live entries at `now` (the ones that left the window are dropped). */
  private log(subject: string, now: number): Slot[] {
    const slots = this.logs.get(subject);
    if (!slots) return [];
    let gone = 0;
    while (gone < slots.length && !live(slots[gone]!, now)) gone++;
    if (gone > 0) slots.splice(0, gone);
    if (slots.length === 0) this.logs.delete(subject);
    return slots;
  }

  private keep(subject: string, slots: Slot[]): void {
    if (slots.length > 0) this.logs.set(subject, slots);
    else this.logs.delete(subject);
  }
}
