/** Live run events, fanned out in-process from the engine to each open /events stream. */
import type { RunEvent } from './state.ts';

/** Live run events for SSE subscribers: the engine publishes, each open /events stream listens. */
export class EventHub {
  private readonly listeners = new Map<string, Set<(event: RunEvent) => void>>();

  publish = (event: RunEvent): void => {
    for (const listen of this.listeners.get(event.run_id) ?? []) listen(event);
  };

  /** Open subscriptions to one run (every /events stream that ended must have let go of its own). */
  subscribers(runId: string): number {
    return this.listeners.get(runId)?.size ?? 0;
  }

  subscribe(runId: string, listen: (event: RunEvent) => void): () => void {
    let set = this.listeners.get(runId);
    if (!set) {
      set = new Set();
      this.listeners.set(runId, set);
    }
    set.add(listen);
    return () => {
      set.delete(listen);
      if (!set.size) this.listeners.delete(runId);
    };
  }
}
