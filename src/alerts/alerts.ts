/**
 * Budget alerts, off the request path. `observe` (called after a settle) only computes which
 * thresholds a subject has reached and notes the new ones in memory. A background loop then records
 * each noted crossing in the store's outbox — unique per scope, window, period and threshold, so a
 * restart or a second instance recording it again writes nothing — logs and counts the ones it
 * recorded, and delivers due webhook tries it claims (a lease per delivery, so one instance sends
 * each), retrying failures with exponential backoff. Without a store, an alert is logged and counted
 * once per instance and not delivered.
 */
import { randomBytes } from 'node:crypto';
import type { GatewayConfig } from '../config/index.ts';
import type { AlertsRepo, AlertsTable, ClaimedDelivery } from '../store/index.ts';
import { type Logger, metrics } from '../telemetry/index.ts';
import { retryAt } from './backoff.ts';
import { alertMessage, alertRow, sampleBody } from './payload.ts';
import { type AlertSink, type AlertSubject, crossing, reaches } from './subject.ts';
import { sendWebhook, type TryResult, type Webhook } from './webhook.ts';

export type AlertsSettings = GatewayConfig['alerts'];

export interface AlertsOptions {
  settings: AlertsSettings;
  /** Where alerts are recorded and their deliveries kept; without it alerts are only logged. */
  repo?: AlertsRepo | undefined;
  logger: Logger;
  /** Epoch ms (tests move it). */
  now?: () => number;
}

/** Crossings noted and waiting to be recorded, at most (a database that is down for long). */
const MAX_PENDING = 10_000;
/**
 * Scope windows remembered per instance, at most; past it all are forgotten at once (a forgotten
 * crossing seen again costs one insert that writes nothing).
 */
const SEEN_MAX = 100_000;
/** Deliveries claimed per round, and rounds per tick before the loop yields to its next poll. */
const BATCH = 20;
const ROUNDS = 10;
/** A claim outlives a try's deadline by this much before another instance may take it over. */
const LEASE_MARGIN_MS = 30_000;

export interface TestDelivery {
  webhook: string;
  delivered: boolean;
  http_status: number | null;
  error: string | null;
}

export class Alerts implements AlertSink {
  readonly #settings: AlertsSettings;
  readonly #repo: AlertsRepo | undefined;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #owner = 'inst_' + randomBytes(6).toString('hex');
  readonly #hooks: Map<string, Webhook>;
  /** Per scope, window and scope id: the period seen last and the thresholds noted in it. */
  readonly #seen = new Map<
    string,
    Map<string, Map<string, { periodKey: string; noted: Set<number | null> }>>
  >();
  #seenCount = 0;
  #pending: { row: () => AlertsTable }[] = [];
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  /** Recording runs one at a time (the loop, a list that wants what was noted, shutdown). */
  #recording: Promise<unknown> = Promise.resolve();
  #again = false;
  #closed = false;
  /** The loop's last round failed (the database, most likely): said once, and again when it works. */
  #failing = false;

  constructor(options: AlertsOptions) {
    this.#settings = options.settings;
    this.#repo = options.repo;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#hooks = new Map(options.settings.webhooks.map((w) => [w.name, w]));
  }

  /** The webhooks' names, as deliveries name them. */
  get webhooks(): string[] {
    return [...this.#hooks.keys()];
  }

  /** After a settle: notes the subject's newly reached thresholds. In memory, no I/O; never throws. */
  observe(subject: AlertSubject): void {
    if (this.#closed) return;
    // Runs after every settle of a budget with alerts: what was noted is found without building a key.
    const noted = this.#notedFor(subject);
    let added = false;
    for (const t of subject.thresholds) added = this.#note(subject, noted, t) || added;
    if (subject.softLimitUsd !== undefined) added = this.#note(subject, noted, null) || added;
    if (this.#pending.length > MAX_PENDING) {
      const dropped = this.#pending.splice(0, this.#pending.length - MAX_PENDING);
      this.#forget(); // so that the next settle notes them again
      this.#logger.error(
        { dropped: dropped.length },
        'alerts: too many waiting to be recorded; dropped the oldest',
      );
    }
    if (added) this.#wake();
  }

  /** The thresholds already noted for this scope's window in its current period (null: the soft limit). */
  #notedFor(subject: AlertSubject): Set<number | null> {
    let byId = this.#seen.get(subject.scope)?.get(subject.window);
    if (!byId) {
      const byWindow = this.#seen.get(subject.scope) ?? new Map();
      this.#seen.set(subject.scope, byWindow);
      byId = new Map();
      byWindow.set(subject.window, byId);
    }
    let entry = byId.get(subject.scopeId);
    if (entry?.periodKey !== subject.periodKey) {
      if (++this.#seenCount > SEEN_MAX) {
        this.#forget();
        return this.#notedFor(subject);
      }
      entry = { periodKey: subject.periodKey, noted: new Set() };
      byId.set(subject.scopeId, entry);
    }
    return entry.noted;
  }

  #forget(): void {
    this.#seen.clear();
    this.#seenCount = 0;
  }

  /** Notes one threshold if it is reached and new; true when it was noted. */
  #note(subject: AlertSubject, noted: Set<number | null>, threshold: number | null): boolean {
    if (noted.has(threshold) || !reaches(subject, threshold)) return false;
    noted.add(threshold);
    const c = crossing(subject, threshold);
    const at = this.#now();
    this.#pending.push({ row: () => alertRow(subject, c, at) });
    return true;
  }

  /** Starts the background loop: at once (deliveries due from before a restart), then every poll_ms. */
  start(): void {
    this.#schedule(0);
  }

  /** Records what was noted so far (a list made right after a request shows its alert). */
  flush(): Promise<void> {
    const run = this.#recording.then(() => this.#record());
    this.#recording = run.catch(() => {});
    return run;
  }

  /** Runs a whole round now (record, then the due tries) and resolves when it is over. */
  async poll(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      await this.#running;
    }
    if (!this.#running) this.#run();
    await this.#running;
  }

  /**
   * Stops the loop: waits for tries under way (each bounded by timeout_ms), records what was noted,
   * and claims nothing more. Call before the store closes.
   */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#running;
    await this.flush().catch((err) => this.#logger.error({ err }, 'alerts: could not record on shutdown'));
  }

  /** Sends a sample alert once to each webhook (or the one named), now; nothing is recorded or retried. */
  async sendTest(name?: string): Promise<{ id: string; deliveries: TestDelivery[] }> {
    const hooks = name === undefined ? [...this.#hooks.values()] : [this.#hooks.get(name)].filter((h) => !!h);
    const id = 'alt_test_' + randomBytes(9).toString('base64url');
    const now = this.#now();
    const body = sampleBody(id, now);
    const results = await Promise.all(
      hooks.map(async (hook) => {
        const r = await sendWebhook(hook, id, body, { timeoutMs: this.#settings.timeout_ms, nowMs: now });
        return {
          webhook: hook.name,
          delivered: r.ok,
          http_status: r.status,
          error: r.ok ? null : r.error,
        };
      }),
    );
    return { id, deliveries: results };
  }

  #wake(): void {
    if (this.#closed) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#schedule(0);
  }

  #schedule(ms: number): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#run(), ms);
    this.#timer.unref();
  }

  #run(): void {
    clearTimeout(this.#timer);
    this.#again = false;
    this.#running = this.#round().finally(() => {
      this.#running = undefined;
      this.#schedule(this.#again ? 0 : this.#settings.poll_ms);
    });
  }

  async #round(): Promise<void> {
    try {
      await this.flush();
      if (!this.#closed) await this.#deliver();
      if (this.#failing) this.#logger.info('alerts: recording and delivering again');
      this.#failing = false;
    } catch (err) {
      if (!this.#failing)
        this.#logger.warn({ err }, 'alerts: recording or delivering failed (the database?); will retry');
      this.#failing = true;
    }
  }

  /** Records what was noted; what the store could not take stays noted for the next round. */
  async #record(): Promise<void> {
    while (this.#pending.length) {
      const next = this.#pending[0]!;
      const row = next.row();
      const recorded = this.#repo ? await this.#repo.record(row, this.webhooks) : true;
      this.#pending.shift();
      if (recorded) this.#announce(row);
    }
  }

  /** The log line and the metric of an alert this instance recorded (so each is said once). */
  #announce(row: AlertsTable): void {
    metrics.alerts.inc({ team: row.team_id, scope: row.scope, kind: row.kind });
    this.#logger.warn(
      {
        alert_id: row.id,
        kind: row.kind,
        team: row.team_id,
        scope: `${row.scope}:${row.scope_id}`,
        period: row.period,
        threshold_percent: row.threshold,
        webhooks: this.#repo ? this.#hooks.size : 0,
      },
      `budget alert: ${alertMessage(row)}`,
    );
  }

  /** Claims due deliveries (a batch at a time) and tries each once. */
  async #deliver(): Promise<void> {
    const repo = this.#repo;
    if (!repo || !this.#hooks.size) return;
    const lease = this.#settings.timeout_ms + LEASE_MARGIN_MS;
    for (let round = 0; round < ROUNDS && !this.#closed; round++) {
      const claimed = await repo.claim(this.#owner, this.webhooks, BATCH, lease);
      // Every try ends (and is settled) before the round does, even when one of them fails.
      const tries = await Promise.allSettled(claimed.map((d) => this.#try(repo, d)));
      const failed = tries.find((t) => t.status === 'rejected');
      if (failed) throw failed.reason;
      if (claimed.length < BATCH) return;
    }
  }

  async #try(repo: AlertsRepo, delivery: ClaimedDelivery): Promise<void> {
    const hook = this.#hooks.get(delivery.webhook)!;
    const result: TryResult = await sendWebhook(hook, delivery.alertId, delivery.body, {
      timeoutMs: this.#settings.timeout_ms,
      nowMs: this.#now(),
    });
    const fields = { alert_id: delivery.alertId, webhook: hook.name, attempt: delivery.attempt };
    if (result.ok) {
      await repo.settle(this.#owner, delivery, { kind: 'delivered', httpStatus: result.status });
      metrics.alertDeliveries.inc({ webhook: hook.name, outcome: 'delivered' });
      this.#logger.info({ ...fields, http_status: result.status }, 'alert delivered');
      return;
    }
    const schedule = {
      maxAttempts: this.#settings.max_attempts,
      backoffMs: this.#settings.backoff_ms,
      maxBackoffMs: this.#settings.max_backoff_ms,
    };
    const next = retryAt(schedule, delivery.attempt, this.#now());
    await repo.settle(this.#owner, delivery, {
      kind: 'failed',
      httpStatus: result.status,
      error: result.error,
      retryAt: next,
    });
    metrics.alertDeliveries.inc({ webhook: hook.name, outcome: next === null ? 'failed' : 'retrying' });
    const detail = { ...fields, http_status: result.status, error: result.error };
    if (next === null) {
      this.#logger.error(detail, `alert delivery failed ${delivery.attempt} times; giving up`);
    } else {
      this.#logger.warn(
        { ...detail, retry_at: new Date(next).toISOString() },
        'alert delivery failed; will retry',
      );
    }
  }
}
