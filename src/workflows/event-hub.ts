/** Live run events, fanned out in-process from the engine to each open /events stream. */
import type { RunEvent } from './state.ts';

interface Subscription {
  listen: (event: RunEvent) => void;
  onClose: (() => void) | undefined;
}

/** Live run events for SSE subscribers: the engine publishes, each open /events stream listens. */
export class EventHub {
  private readonly subscriptions = new Map<string, Set<Subscription>>();
  #closed = false;

  publish = (event: RunEvent): void => {
    for (const s of this.subscriptions.get(event.run_id) ?? []) s.listen(event);
  };

  /** True once `close` was called: no stream should stay open waiting for events. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Open subscriptions to one run (every /events stream that ended must have let go of its own). */
  subscribers(runId: string): number {
    return this.subscriptions.get(runId)?.size ?? 0;
  }

  /** `onClose` is called when the hub closes (the server is shutting down) while still subscribed. */
  subscribe(runId: string, listen: (event: RunEvent) => void, onClose?: () => void): () => void {
    let set = this.subscriptions.get(runId);
    if (!set) {
      set = new Set();
      this.subscriptions.set(runId, set);
    }
    const subscription: Subscription = { listen, onClose };
    set.add(subscription);
    return () => {
      set.delete(subscription);
      if (!set.size) this.subscriptions.delete(runId);
    };
  }

  /**
   * Ends every subscription, for a shutdown: a stream following a run that waits for a person would
   * otherwise stay open for as long as the person takes, and the server's drain would never finish.
   * Followers lose nothing: they reconnect with `Last-Event-ID` to whichever instance serves next.
   */
  close(): void {
    this.#closed = true;
    for (const set of [...this.subscriptions.values()]) {
      for (const s of [...set]) s.onClose?.();
    }
  }
}
