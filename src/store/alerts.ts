/**
 * Budget alerts as an outbox: `record` writes an alert and one pending delivery per webhook in one
 * transaction, or nothing when an alert with the same dedupe key exists (another instance, or this one
 * before a restart, recorded it); `claim` takes due deliveries with a lease in one atomic statement
 * (Postgres: `FOR UPDATE SKIP LOCKED`; SQLite: one UPDATE under its write lock), so two instances never
 * send the same one; `settle` ends a try as delivered, retried later or failed.
 */
import { randomBytes } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { StoreContext } from './context.ts';
import { type KeysetCursor, olderThan } from './keyset.ts';
import type { AlertDeliveriesTable, AlertsTable } from './types.ts';

export type AlertRow = Selectable<AlertsTable>;
export type DeliveryRow = Selectable<AlertDeliveriesTable>;

/** An alert with the state of its deliveries, as lists show it. */
export interface StoredAlert extends AlertRow {
  deliveries: DeliveryRow[];
}

/** A delivery this instance holds the lease of: send `body` to `webhook`, then `settle` it. */
export interface ClaimedDelivery {
  alertId: string;
  webhook: string;
  /** Tries started, this one included. */
  attempt: number;
  body: string;
}

/** How a try ended. */
export type TryOutcome =
  | { kind: 'delivered'; httpStatus: number }
  | { kind: 'failed'; httpStatus: number | null; error: string; retryAt: number | null }
  /** Not sent (the process is stopping): the try does not count, and is due again at once. */
  | { kind: 'released' };

export interface AlertListQuery {
  team?: string | undefined;
  limit: number;
  /** Keyset cursor: the page starts strictly before this row (newest first). */
  before?: KeysetCursor | undefined;
}

export const newAlertId = () => 'alt_' + randomBytes(12).toString('base64url');

export class AlertsRepo {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  /**
   * Records an alert and a pending delivery to each webhook, due now. false (and nothing written) when
   * an alert with its `dedupe_key` already exists.
   */
  async record(alert: AlertsTable, webhooks: readonly string[]): Promise<boolean> {
    return this.#ctx.db.transaction().execute(async (trx) => {
      const result = await trx
        .insertInto('alerts')
        .values(alert)
        .onConflict((oc) => oc.column('dedupe_key').doNothing())
        .executeTakeFirst();
      if (Number(result.numInsertedOrUpdatedRows ?? 0) === 0) return false;
      if (webhooks.length) {
        await trx
          .insertInto('alert_deliveries')
          .values(
            webhooks.map((webhook) => ({
              alert_id: alert.id,
              webhook,
              status: 'pending' as const,
              attempts: 0,
              next_attempt_at: alert.created_at,
              lease_until: null,
              lease_owner: null,
              last_attempt_at: null,
              last_http_status: null,
              last_error: null,
              delivered_at: null,
            })),
          )
          .execute();
      }
      return true;
    });
  }

  /**
   * Takes up to `limit` pending deliveries that are due, to these webhooks, whose lease (if any) has
   * lapsed: each gets this owner's lease for `leaseMs` and one more try counted. Atomic: a delivery
   * is handed to one claimer only, across processes and instances.
   */
  async claim(
    owner: string,
    webhooks: readonly string[],
    limit: number,
    leaseMs: number,
  ): Promise<ClaimedDelivery[]> {
    if (!webhooks.length) return [];
    const { db, engine } = this.#ctx;
    const now = this.#ctx.now();
    const due = () =>
      db
        .selectFrom('alert_deliveries')
        .select(['alert_id', 'webhook'])
        .where('status', '=', 'pending')
        .where('next_attempt_at', '<=', now)
        .where('webhook', 'in', webhooks)
        .where((w) => w.or([w('lease_until', 'is', null), w('lease_until', '<', now)]));
    // Most polls find nothing: a read first, so an idle loop never takes SQLite's write lock.
    if (!(await due().limit(1).executeTakeFirst())) return [];
    const claimed = await db
      .updateTable('alert_deliveries')
      .set((eb) => ({
        lease_until: now + leaseMs,
        lease_owner: owner,
        attempts: eb('attempts', '+', 1),
        last_attempt_at: now,
      }))
      .where((eb) =>
        eb(eb.refTuple('alert_id', 'webhook'), 'in', () => {
          let batch = due().orderBy('next_attempt_at').limit(limit);
          // Another instance's claim in flight holds its rows locked: take the others, never wait.
          if (engine === 'postgres') batch = batch.forUpdate().skipLocked();
          return batch as any;
        }),
      )
      .returning(['alert_id', 'webhook', 'attempts'])
      .execute();
    if (!claimed.length) return [];
    const ids = [...new Set(claimed.map((c) => c.alert_id))];
    const bodies = await db.selectFrom('alerts').select(['id', 'body']).where('id', 'in', ids).execute();
    const bodyOf = new Map(bodies.map((b) => [b.id, b.body]));
    return claimed.map((c) => ({
      alertId: c.alert_id,
      webhook: c.webhook,
      attempt: Number(c.attempts),
      body: bodyOf.get(c.alert_id) ?? '',
    }));
  }

  /** Ends a try this owner claimed; a try whose lease another instance took over changes nothing. */
  async settle(owner: string, delivery: ClaimedDelivery, outcome: TryOutcome): Promise<void> {
    const now = this.#ctx.now();
    const base = this.#ctx.db
      .updateTable('alert_deliveries')
      .where('alert_id', '=', delivery.alertId)
      .where('webhook', '=', delivery.webhook)
      .where('lease_owner', '=', owner)
      .where('status', '=', 'pending');
    const unleased = { lease_until: null, lease_owner: null };
    if (outcome.kind === 'delivered') {
      await base
        .set({
          ...unleased,
          status: 'delivered',
          delivered_at: now,
          last_http_status: outcome.httpStatus,
          last_error: null,
        })
        .execute();
    } else if (outcome.kind === 'failed') {
      await base
        .set({
          ...unleased,
          status: outcome.retryAt === null ? 'failed' : 'pending',
          next_attempt_at: outcome.retryAt ?? now,
          last_http_status: outcome.httpStatus,
          last_error: outcome.error.slice(0, 500),
        })
        .execute();
    } else {
      await base
        .set((eb) => ({ ...unleased, attempts: eb('attempts', '-', 1), next_attempt_at: now }))
        .execute();
    }
  }

  /** Alerts newest first (of one team, when given), each with its deliveries. */
  async list(query: AlertListQuery): Promise<StoredAlert[]> {
    let q = this.#ctx.db.selectFrom('alerts').selectAll();
    if (query.team !== undefined) q = q.where('team_id', '=', query.team);
    if (query.before !== undefined) q = q.where(olderThan(query.before));
    const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(query.limit).execute();
    return this.#withDeliveries(rows);
  }

  async get(id: string): Promise<StoredAlert | null> {
    const row = await this.#ctx.db.selectFrom('alerts').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? ((await this.#withDeliveries([row]))[0] ?? null) : null;
  }

  async #withDeliveries(rows: AlertRow[]): Promise<StoredAlert[]> {
    if (!rows.length) return [];
    const deliveries = await this.#ctx.db
      .selectFrom('alert_deliveries')
      .selectAll()
      .where(
        'alert_id',
        'in',
        rows.map((r) => r.id),
      )
      .orderBy('webhook')
      .execute();
    const byAlert = new Map<string, DeliveryRow[]>();
    for (const d of deliveries) {
      const list = byAlert.get(d.alert_id) ?? [];
      list.push(d);
      byAlert.set(d.alert_id, list);
    }
    return rows.map((r) => ({ ...r, deliveries: byAlert.get(r.id) ?? [] }));
  }
}
