import type { RunRecord } from '../state.ts';
import { snapshot } from './live.ts';
import { isSettled } from './step-state.ts';

/**
 * Several instances: callers of `wait`, answered once the run settles — as the store's notifications
 * (any instance's changes) or a look now and then show it, not from this instance's own copy.
 */
export class StoredWaiters {
  readonly #waiting = new Map<string, Set<(run: RunRecord) => void>>();

  has(runId: string): boolean {
    return this.#waiting.has(runId);
  }

  runs(): string[] {
    return [...this.#waiting.keys()];
  }

  /** Resolves when the run has ended or waits for a person; `get` reads it from the store. */
  async wait(runId: string, get: (runId: string) => Promise<RunRecord>): Promise<RunRecord> {
    let resolve!: (run: RunRecord) => void;
    const answer = new Promise<RunRecord>((r) => {
      resolve = r;
    });
    const set = this.#waiting.get(runId) ?? new Set();
    this.#waiting.set(runId, set);
    set.add(resolve);
    try {
      // Registered first: a change committed meanwhile is either in this read or noticed after it.
      const run = await get(runId);
      if (isSettled(run.status)) return run;
      return await answer;
    } finally {
      set.delete(resolve);
      if (!set.size && this.#waiting.get(runId) === set) this.#waiting.delete(runId);
    }
  }

  /** The run as the store has it now: its callers are answered if it has settled. */
  seen(run: RunRecord): void {
    if (!isSettled(run.status)) return;
    for (const resolve of this.#waiting.get(run.id) ?? []) resolve(snapshot(run));
  }
}
