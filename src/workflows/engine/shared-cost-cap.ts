/**
 * A run's `max_cost_usd` when its steps run on several instances at once: each call's hold is taken on
 * the run's row in the store (one conditional UPDATE: what the run's capped calls have cost, what they
 * hold and this call together stay within the cap), so two instances checking at the same moment cannot
 * both pass; the hold is settled to what the call cost once it returns. A call that does not fit while
 * others hold room waits for one to settle — here, or on another instance (seen by looking again).
 *
 * A call in flight on an instance that dies keeps its hold: what it cost is unknown (the gateway may
 * have charged it), so the run's room stays reduced by its worst case rather than risk passing the cap.
 */
import { amountNanos, limitNanos } from '../../limits/nanos.ts';
import type { Store } from '../../store/index.ts';
import { raceAbort, sleep } from './abort.ts';
import type { CapHold, RunCap } from './cost-cap.ts';

/** How often a call waiting for room looks again (other instances' holds settle without telling us). */
const LOOK_AGAIN_MS = 200;

export class SharedCostCap implements RunCap {
  readonly capNanos: number;
  readonly #store: Pick<Store['workflows'], 'holdCost' | 'settleCost'>;
  readonly #runId: string;
  readonly #onError: (err: unknown) => void;
  #spentNanos: number;
  #waiters = new Set<() => void>();

  /** `spentUsd`: the run's cost as last read (refreshed by every hold). */
  constructor(
    store: Pick<Store['workflows'], 'holdCost' | 'settleCost'>,
    runId: string,
    capUsd: number,
    spentUsd: number,
    onError: (err: unknown) => void,
  ) {
    this.#store = store;
    this.#runId = runId;
    this.capNanos = limitNanos(capUsd);
    this.#spentNanos = amountNanos(spentUsd);
    this.#onError = onError;
  }

  get spentNanos(): number {
    return this.#spentNanos;
  }

  get roomNanos(): number {
    return Math.max(0, this.capNanos - this.#spentNanos);
  }

  async tryHold(usd: number): Promise<CapHold | null> {
    const nanos = amountNanos(usd);
    const seen = await this.#store.holdCost(this.#runId, nanos, this.capNanos);
    this.#spentNanos = seen.spentNanos;
    if (!seen.held) return null;
    let open = true;
    return {
      nanos,
      settle: async (actualUsd) => {
        if (!open) return;
        open = false;
        const actual = amountNanos(actualUsd);
        try {
          await this.#store.settleCost(this.#runId, nanos, actual);
          this.#spentNanos += actual;
        } catch (err) {
          // Not settled: the hold stays on the row (room lost, never the cap passed).
          this.#onError(err);
        }
        const waiters = [...this.#waiters];
        this.#waiters.clear();
        for (const wake of waiters) wake();
      },
    };
  }

  /** Resolves when a hold of this step settles or after a while (another instance's may have). */
  released(signal: AbortSignal): Promise<void> {
    let wake: () => void = () => {};
    const settled = new Promise<void>((resolve) => {
      wake = resolve;
      this.#waiters.add(resolve);
    });
    return raceAbort(Promise.race([settled, sleep(LOOK_AGAIN_MS, signal)]), signal).finally(() =>
      this.#waiters.delete(wake),
    );
  }
}
