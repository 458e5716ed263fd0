/**
 * Run events across instances: every transition announces its events with `pg_notify` in its own
 * transaction (src/store/workflows.ts), so Postgres delivers exactly the committed changes, in commit
 * order, to each instance's `LISTEN` connection. For a run someone here cares about (an /events stream,
 * a caller of `wait`, a step this instance runs) the feed reads those events from the store and hands
 * them on in order. After a lost connection it reads what each followed run missed.
 */
import pg from 'pg';
import type { Store } from '../../store/index.ts';
import type { RunEvent } from '../state.ts';

export interface RunFeedOptions {
  databaseUrl: string;
  store: Pick<Store, 'workflows'>;
  /** Whether anyone here cares about the run's events. */
  interested: (runId: string) => boolean;
  /** The run's new events, in order, each once. */
  deliver: (runId: string, events: RunEvent[]) => void;
  onError: (err: unknown) => void;
  /** Wait before reconnecting a lost connection (default 1000 ms). */
  retryMs?: number;
}

interface Notice {
  r: string;
  f: number;
  l: number;
}

export class RunFeed {
  readonly #options: RunFeedOptions;
  #client: pg.Client | undefined;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  /** The last sequence number handed on, per run (a run no one follows any more is forgotten). */
  readonly #last = new Map<string, number>();
  /** One read at a time per run, so events are handed on in order. */
  readonly #chains = new Map<string, Promise<void>>();

  constructor(options: RunFeedOptions) {
    this.#options = options;
  }

  /** Connects and listens; resolves once listening (rejects if the first connection fails). */
  async open(): Promise<void> {
    await this.#connect();
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#options.databaseUrl });
    client.on('error', (err) => this.#lost(client, err));
    client.on('end', () => this.#lost(client));
    client.on('notification', (message) => this.#onNotification(message.payload));
    await client.connect();
    const { rows } = await client.query<{ channel: string }>(
      `select 'quorum_runs_' || current_schema() as channel`,
    );
    await client.query(`LISTEN "${rows[0]!.channel.replaceAll('"', '""')}"`);
    this.#client = client;
  }

  #lost(client: pg.Client, err?: unknown): void {
    if (this.#client !== client || this.#closed) return;
    this.#client = undefined;
    if (err) this.#options.onError(err);
    client.end().catch(() => {});
    const retry = () => {
      this.#timer = undefined;
      if (this.#closed) return;
      this.#connect().then(
        () => this.#catchUp(),
        (e) => {
          this.#options.onError(e);
          this.#timer = setTimeout(retry, this.#options.retryMs ?? 1000);
        },
      );
    };
    this.#timer = setTimeout(retry, this.#options.retryMs ?? 1000);
  }

  /** After a reconnect: each followed run's events since the last one handed on. */
  #catchUp(): void {
    for (const [runId, last] of this.#last) this.#read(runId, last, Number.POSITIVE_INFINITY);
  }

  #onNotification(payload: string | undefined): void {
    let notice: Notice;
    try {
      notice = JSON.parse(payload ?? '');
    } catch {
      return;
    }
    if (typeof notice?.r !== 'string' || !Number.isSafeInteger(notice.f)) return;
    if (!this.#options.interested(notice.r)) {
      this.#last.delete(notice.r);
      return;
    }
    this.#read(notice.r, notice.f - 1, notice.l);
  }

  /** Reads the run's events in (after, upTo] and hands on those not handed on yet. */
  #read(runId: string, after: number, upTo: number): void {
    const previous = this.#chains.get(runId) ?? Promise.resolve();
    const next = previous.then(async () => {
      const last = this.#last.get(runId);
      const from = last === undefined ? after : Math.max(last, after);
      const events = (await this.#options.store.workflows.events(runId, from)).filter((e) => e.seq <= upTo);
      if (!events.length) return;
      this.#last.set(runId, events.at(-1)!.seq);
      this.#options.deliver(runId, events);
    });
    const settled = next.catch((err) => this.#options.onError(err));
    this.#chains.set(runId, settled);
    void settled.then(() => {
      if (this.#chains.get(runId) === settled) this.#chains.delete(runId);
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => {});
  }
}
