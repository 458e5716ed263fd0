/**
 * A run's `max_cost_usd`, held call by call: before a model call is made, its worst case is held against
 * what the cap has left; when it returns, the hold becomes what it actually cost. Holding is synchronous
 * (one JS turn checks and takes), so parallel steps can never pass the cap together. Amounts are whole
 * nano-dollars, rounded as the budgets round (holds and charges up, the cap down), so the run's total
 * is ≤ the cap exactly, not within float noise.
 */
import { amountNanos, limitNanos, usdOfNanos } from '../../limits/nanos.ts';
import { raceAbort } from './abort.ts';

/** One call's hold on the cap. */
export interface CapHold {
  readonly nanos: number;
  /** Ends the hold: the call cost `actualUsd` (0 when it failed). Idempotent. */
  settle(actualUsd: number): void | Promise<void>;
}

/**
 * A run's `max_cost_usd` as the runner holds it call by call: in this process (`CostCap`), or on the
 * run's row in the store when the run's steps run on several instances (`SharedCostCap`).
 */
export interface RunCap {
  readonly capNanos: number;
  /** What the run's capped calls have cost, as last known. */
  readonly spentNanos: number;
  /** What a call could still be given with nothing else in flight, as last known. */
  readonly roomNanos: number;
  /** Holds `usd` when it fits beside what is spent and held; null when it does not fit now. */
  tryHold(usd: number): CapHold | null | Promise<CapHold | null>;
  /** Resolves when some hold may have ended (room may have freed); rejects when `signal` aborts. */
  released(signal: AbortSignal): Promise<void>;
}

export class CostCap implements RunCap {
  readonly capNanos: number;
  #spentNanos: number;
  #heldNanos = 0;
  #waiters = new Set<() => void>();

  /** `spentUsd`: what the run has already cost (a resumed or re-opened run). */
  constructor(capUsd: number, spentUsd = 0) {
    this.capNanos = limitNanos(capUsd);
    this.#spentNanos = amountNanos(spentUsd);
  }

  get capUsd(): number {
    return usdOfNanos(this.capNanos);
  }
  get spentNanos(): number {
    return this.#spentNanos;
  }
  get heldNanos(): number {
    return this.#heldNanos;
  }

  /** What a call could still be given with nothing else in flight. */
  get roomNanos(): number {
    return Math.max(0, this.capNanos - this.#spentNanos);
  }

  /** Holds `usd` when it fits beside what is spent and held; null when it does not fit now. */
  tryHold(usd: number): CapHold | null {
    const nanos = amountNanos(usd);
    if (this.#spentNanos + this.#heldNanos + nanos > this.capNanos) return null;
    this.#heldNanos += nanos;
    let open = true;
    return {
      nanos,
      settle: (actualUsd) => {
        if (!open) return;
        open = false;
        this.#heldNanos -= nanos;
        this.#spentNanos += amountNanos(actualUsd);
        const waiters = [...this.#waiters];
        this.#waiters.clear();
        for (const wake of waiters) wake();
      },
    };
  }

  /** Resolves when some hold ends (room may have freed); rejects when `signal` aborts. */
  released(signal: AbortSignal): Promise<void> {
    let wake: () => void = () => {};
    const promise = new Promise<void>((resolve) => {
      wake = resolve;
      this.#waiters.add(resolve);
    });
    return raceAbort(promise, signal).finally(() => this.#waiters.delete(wake));
  }
}

/** `$0.004010`-style: nano-dollar exact, trailing zeros dropped, never exponent notation. */
export function formatNanos(nanos: number): string {
  const text = (nanos / 1e9).toFixed(9).replace(/0+$/, '').replace(/\.$/, '');
  return `$${text}`;
}
