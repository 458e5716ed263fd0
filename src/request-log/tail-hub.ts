/**
 * The live tail's subscribers in this process: each finished request is offered to every open
 * GET /v1/requests/stream, which keeps it if its scope and filters match. With several workers, the
 * records other workers finish arrive here too (see RequestLog.receive).
 */
import type { RequestLogSummaryRow } from '../store/index.ts';
import { matches, type RequestFilter } from './filter.ts';
import { summaryView } from './record.ts';

/** A finished request as the tail offers it: its row, and its frame made once for every subscriber. */
export class Published {
  readonly row: RequestLogSummaryRow;
  #json: string | undefined;

  constructor(row: RequestLogSummaryRow) {
    this.row = row;
  }

  /** The summary as JSON (the list's item shape). */
  get json(): string {
    this.#json ??= JSON.stringify(summaryView(this.row));
    return this.#json;
  }
}

interface Subscriber {
  filter: RequestFilter;
  listen: (record: Published) => void;
  onClose: () => void;
}

export class TailHub {
  readonly #subscribers = new Set<Subscriber>();
  #closed = false;

  get size(): number {
    return this.#subscribers.size;
  }

  get closed(): boolean {
    return this.#closed;
  }

  publish(row: RequestLogSummaryRow): void {
    if (this.#subscribers.size === 0) return;
    const record = new Published(row);
    for (const s of this.#subscribers) if (matches(row, s.filter)) s.listen(record);
  }

  /** `onClose`: the hub closed (a shutdown) while still subscribed. Returns the unsubscribe. */
  subscribe(filter: RequestFilter, listen: Subscriber['listen'], onClose: () => void): () => void {
    const s: Subscriber = { filter, listen, onClose };
    this.#subscribers.add(s);
    return () => {
      this.#subscribers.delete(s);
    };
  }

  /** Ends every subscription, so open tails do not hold a drain open. */
  close(): void {
    this.#closed = true;
    for (const s of [...this.#subscribers]) s.onClose();
    this.#subscribers.clear();
  }
}
