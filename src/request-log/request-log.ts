/**
 * The request log: every proxied request's record, built after its response is out (on the next turn
 * of the event loop, never in front of a client), appended to the store's batched writer, offered to
 * the live tail here and — with several workers — relayed to the others. A background sweep deletes
 * records past `logging.retention_days` and erases text past `logging.content_retention_days`.
 */
import type { Caller } from '../gateway/index.ts';
import {
  REQUEST_LOG_SUMMARY_COLUMNS,
  type RequestLogRepo,
  type RequestLogSummaryRow,
} from '../store/index.ts';
import { buildRow } from './build.ts';
import { type DraftSink, RequestDraft, type RequestEnd } from './draft.ts';
import type { Surface } from './record.ts';
import { TailHub } from './tail-hub.ts';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** How long a cancelled stream's record waits for its request to settle: 40 × 50 ms. */
const SETTLE_POLLS = 40;
const SETTLE_POLL_MS = 50;

export interface RequestLogOptions {
  /** Keep prompt and answer text (`logging.content`). */
  content: boolean;
  /** `logging.retention_days`. */
  retentionDays: number;
  /** `logging.content_retention_days`. */
  contentRetentionDays: number;
  /** Epoch ms (default Date.now). */
  now?: () => number;
  /** Sends this process's finished records to the other workers (with `--workers N`). */
  relay?: (rows: RequestLogSummaryRow[]) => void;
  /** Background failures: a record that could not be built, a sweep that failed. */
  onError?: (err: unknown) => void;
  /** How often the retention sweep runs (default hourly; the first a minute after start). */
  sweepEveryMs?: number;
}

export class RequestLog implements DraftSink {
  readonly hub = new TailHub();
  readonly content: boolean;
  readonly #repo: RequestLogRepo;
  readonly #options: RequestLogOptions;
  readonly #now: () => number;
  #pending: { draft: RequestDraft; end: RequestEnd }[] = [];
  #scheduled = false;
  /** Records of cancelled streams waiting for their request to settle. */
  #waiting = 0;
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<unknown> | undefined;

  constructor(repo: RequestLogRepo, options: RequestLogOptions) {
    this.#repo = repo;
    this.#options = options;
    this.content = options.content;
    this.#now = options.now ?? Date.now;
  }

  /** The record of a request that has just been authenticated on a proxied endpoint. */
  begin(id: string, surface: Surface, caller: Caller, startedAt: number): RequestDraft {
    return new RequestDraft(this, id, surface, caller, startedAt, this.#now());
  }

  /** Queued: the record is built once the current turn of the event loop (the response) is done. */
  finish(draft: RequestDraft, end: RequestEnd): void {
    // A client that left mid-stream: the upstream call is closed after this, and charged then.
    if (end.cancelled && !end.settled && draft.request) {
      void this.#afterSettling(draft, end);
      return;
    }
    this.#pending.push({ draft, end });
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#build());
  }

  /** Waits (a bounded while) for the request's settle stage, so its record has every call's cost. */
  async #afterSettling(draft: RequestDraft, end: RequestEnd): Promise<void> {
    this.#waiting++;
    try {
      for (let i = 0; i < SETTLE_POLLS; i++) {
        const settling = draft.request?.settling();
        if (settling) {
          await settling.catch(() => {});
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS).unref());
      }
    } finally {
      this.#waiting--;
    }
    this.finish(draft, { ...end, cancelled: true, settled: true });
  }

  #build(): void {
    this.#scheduled = false;
    const batch = this.#pending;
    this.#pending = [];
    const relayed: RequestLogSummaryRow[] = [];
    for (const { draft, end } of batch) {
      try {
        const row = buildRow(draft, end, this.content);
        this.#repo.append(row);
        // The tail's copy, without the JSON columns: only when a tail (here or on another worker) may want it.
        if (this.hub.size === 0 && !this.#options.relay) continue;
        const summary = summaryOf(row);
        this.hub.publish(summary);
        if (this.#options.relay) relayed.push(summary);
      } catch (err) {
        this.#options.onError?.(err);
      }
    }
    if (relayed.length) this.#options.relay?.(relayed);
  }

  /** Records another worker finished, for this process's live tails. */
  receive(rows: readonly RequestLogSummaryRow[]): void {
    for (const row of rows) this.hub.publish(row);
  }

  /** Deletes records past the retention and erases text past the content retention. */
  sweep(): Promise<{ deleted: number; erased: number }> {
    const now = this.#now();
    const { retentionDays, contentRetentionDays } = this.#options;
    const run = this.#repo.sweep(now - retentionDays * DAY_MS, now - contentRetentionDays * DAY_MS);
    this.#sweeping = run.catch(() => {});
    return run;
  }

  /** Starts the background sweep (unref'd: it never keeps the process alive). */
  start(): void {
    const every = this.#options.sweepEveryMs ?? HOUR_MS;
    const tick = (delay: number) => {
      if (this.hub.closed) return;
      this.#timer = setTimeout(async () => {
        try {
          await this.sweep();
        } catch (err) {
          this.#options.onError?.(err);
        }
        tick(every);
      }, delay);
      this.#timer.unref();
    };
    tick(Math.min(every, 60_000));
  }

  /** Ends the live tails (so a drain is not held open) and stops the sweep. */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.hub.close();
  }

  /** Builds what is queued and writes every record so far (before a read, so it sees them). */
  async flush(): Promise<void> {
    if (this.#pending.length) this.#build();
    if (this.#repo.pending > 0) await this.#repo.flush();
  }

  /** Builds what is queued (cancelled streams' records too, once settled) and waits for a sweep (shutdown). */
  async settle(): Promise<void> {
    for (let i = 0; i < SETTLE_POLLS && this.#waiting > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
    }
    if (this.#pending.length) this.#build();
    await this.#sweeping;
  }
}

function summaryOf(row: RequestLogSummaryRow): RequestLogSummaryRow {
  const out: Record<string, unknown> = {};
  for (const k of REQUEST_LOG_SUMMARY_COLUMNS) out[k] = row[k];
  return out as unknown as RequestLogSummaryRow;
}
